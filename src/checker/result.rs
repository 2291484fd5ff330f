//! What checkers decide, in the shape of `results.json` (DESIGN.md, "Results").

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Worst wins: combine verdicts with `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    Valid,
    Unknown,
    Invalid,
}

impl Verdict {
    /// The process exit code for this verdict (DESIGN.md, "Exit codes").
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Unknown => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Invalid => "invalid",
            Verdict::Unknown => "unknown",
        }
    }
}

/// `true`, `false` or `"unknown"`, as Jepsen writes `:valid?`.
impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Verdict::Valid => serializer.serialize_bool(true),
            Verdict::Invalid => serializer.serialize_bool(false),
            Verdict::Unknown => serializer.serialize_str("unknown"),
        }
    }
}

impl<'de> Deserialize<'de> for Verdict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Verdict, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::Bool(true) => Ok(Verdict::Valid),
            serde_json::Value::Bool(false) => Ok(Verdict::Invalid),
            serde_json::Value::String(s) if s == "unknown" => Ok(Verdict::Unknown),
            other => Err(serde::de::Error::custom(format!(
                "expected true, false or \"unknown\", found {other}"
            ))),
        }
    }
}

/// One anomaly: what went wrong, the history indexes that prove it, and a sentence a person
/// can follow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Anomaly {
    /// A stable name from DESIGN.md: `lost`, `duplicated`, `unexpected`, `stale`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// History indexes of the witness events, ascending.
    pub ops: Vec<u64>,
    pub explanation: String,
    /// The nemesis faults active while the witness operations ran (filled in after checking).
    #[serde(default)]
    pub faults: Vec<String>,
    /// Structured witness data (the element, the reads, the bounds) for the report.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    /// When the anomaly happened between two of its witnesses rather than over all of them
    /// (a lost element vanished between the last read that saw it and the first that did
    /// not): those two history indexes. The faults named are the ones active in this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<[u64; 2]>,
}

/// What one checker decided.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckerResult {
    pub valid: Verdict,
    /// Distinct anomaly kinds found, sorted.
    pub anomaly_types: Vec<String>,
    /// Witnessed anomalies; long lists are cut (see `counts` for the full numbers).
    pub anomalies: Vec<Anomaly>,
    /// Counts per category (`ok-adds`, `lost`, `stale`, ...).
    pub counts: BTreeMap<String, u64>,
    /// Anything else worth showing (latency quantiles, bounds, reasons for `unknown`).
    #[serde(default)]
    pub stats: BTreeMap<String, serde_json::Value>,
}

/// `results.json`: every checker's result and the combined verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub valid: Verdict,
    pub checkers: BTreeMap<String, CheckerResult>,
    /// How the workload's views converged after the faults, when it declares relations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub convergence: Option<super::relations::Convergence>,
}

impl Results {
    /// Combines checker results: invalid if any is invalid; unknown if none is invalid and any
    /// is unknown (or there are none at all: no checker ran, nothing was shown valid).
    pub fn from_checkers(checkers: BTreeMap<String, CheckerResult>) -> Results {
        let valid = checkers
            .values()
            .map(|c| c.valid)
            .max()
            .unwrap_or(Verdict::Unknown);
        Results {
            valid,
            checkers,
            convergence: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_serialises_as_jepsen_valid() {
        let json = serde_json::to_string(&[Verdict::Valid, Verdict::Invalid, Verdict::Unknown]);
        assert_eq!(json.unwrap(), r#"[true,false,"unknown"]"#);
    }

    #[test]
    fn no_checkers_is_unknown_not_valid() {
        assert_eq!(
            Results::from_checkers(BTreeMap::new()).valid,
            Verdict::Unknown
        );
    }
}

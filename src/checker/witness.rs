//! What every checker shares when it turns findings into [`Anomaly`]s: the cap on listed
//! anomalies per kind, witness index lists, times in words, latency quantiles and the
//! model-shape error. Keeping these in one place keeps every checker's output alike.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Anomaly, CheckerResult, Verdict};
use crate::history::{HistoryError, Op};

/// At most this many anomalies of one kind are listed; `counts` carries the full numbers.
pub const MAX_ANOMALIES_PER_KIND: usize = 1000;

/// Collects anomalies by kind, keeping the first [`MAX_ANOMALIES_PER_KIND`] of each and
/// counting the rest, so a history with ten million lost elements stays cheap to report.
#[derive(Debug, Default)]
pub struct AnomalyLog {
    kinds: BTreeMap<&'static str, (Vec<Anomaly>, u64)>,
}

impl AnomalyLog {
    /// Whether another anomaly of this kind would still be listed (building one costs a
    /// sentence and a JSON value, so callers ask first).
    pub fn wants(&self, kind: &'static str) -> bool {
        self.kinds
            .get(kind)
            .is_none_or(|(listed, _)| listed.len() < MAX_ANOMALIES_PER_KIND)
    }

    /// Records one anomaly of `kind`; `build` runs only if it will be listed.
    pub fn record(&mut self, kind: &'static str, build: impl FnOnce() -> Anomaly) {
        let wants = self.wants(kind);
        let (listed, total) = self.kinds.entry(kind).or_default();
        *total += 1;
        if wants {
            listed.push(build());
        }
    }

    /// Counts one more anomaly of `kind` without listing it (for kinds capped lower).
    pub fn count_only(&mut self, kind: &'static str) {
        self.kinds.entry(kind).or_default().1 += 1;
    }

    /// Lists an anomaly already counted with [`AnomalyLog::count_only`].
    pub fn list(&mut self, kind: &'static str, anomaly: Anomaly) {
        self.kinds.entry(kind).or_default().0.push(anomaly);
    }

    /// The listed anomalies of `kind`.
    pub fn listed(&self, kind: &str) -> &[Anomaly] {
        self.kinds.get(kind).map_or(&[], |(listed, _)| listed)
    }

    /// How many anomalies of `kind` were recorded, listed or not.
    pub fn total(&self, kind: &str) -> u64 {
        self.kinds.get(kind).map_or(0, |(_, total)| *total)
    }

    /// The checker's result: invalid if any anomaly, else `unknown` with `reason` when there
    /// was nothing to check (`Some`), else valid. Notes truncated lists in `stats`.
    pub fn finish(
        self,
        nothing_to_check: Option<&str>,
        counts: BTreeMap<String, u64>,
        mut stats: BTreeMap<String, serde_json::Value>,
    ) -> CheckerResult {
        let mut anomalies = Vec::new();
        let mut anomaly_types = Vec::new();
        for (kind, (listed, total)) in self.kinds {
            if total == 0 {
                continue;
            }
            if total > listed.len() as u64 {
                stats.insert(
                    format!("{kind}-truncated"),
                    json!(format!(
                        "listed {} of {total} {kind} anomalies",
                        listed.len()
                    )),
                );
            }
            anomaly_types.push(kind.to_owned());
            anomalies.extend(listed);
        }
        let valid = match (anomaly_types.is_empty(), nothing_to_check) {
            (false, _) => Verdict::Invalid,
            (true, Some(reason)) => {
                stats.insert("reason".into(), json!(reason));
                Verdict::Unknown
            }
            (true, None) => Verdict::Valid,
        };
        CheckerResult {
            valid,
            anomaly_types,
            anomalies,
            counts,
            stats,
        }
    }
}

/// Builds an anomaly whose witnesses are these ops (invocation and completion indexes).
pub fn anomaly<'a>(
    kind: &str,
    ops: impl IntoIterator<Item = &'a Op>,
    explanation: String,
    details: serde_json::Value,
) -> Anomaly {
    Anomaly {
        kind: kind.to_owned(),
        ops: witness_indexes(ops),
        explanation,
        faults: Vec::new(),
        details,
        window: None,
    }
}

/// The history indexes of these ops' invocations and completions, ascending, deduplicated.
pub fn witness_indexes<'a>(ops: impl IntoIterator<Item = &'a Op>) -> Vec<u64> {
    let mut indexes: Vec<u64> = ops
        .into_iter()
        .flat_map(|op| std::iter::once(op.invoke).chain(op.complete))
        .collect();
    indexes.sort_unstable();
    indexes.dedup();
    indexes
}

/// A history time (nanoseconds since the start) for people: `12.3 s`.
pub fn secs(nanos: u64) -> String {
    format!("{:.1} s", nanos as f64 / 1e9)
}

/// How an op ended, for explanations: `ok at index 40, 1.2 s`.
pub fn ended(op: &Op) -> String {
    match (op.complete, op.complete_time) {
        (Some(index), Some(time)) => {
            let kind = match op.outcome {
                crate::history::Outcome::Ok => "ok",
                crate::history::Outcome::Fail => "fail",
                crate::history::Outcome::Info => "info",
            };
            format!("{kind} at index {index}, {}", secs(time))
        }
        _ => format!("invoked at index {}, never completed", op.invoke),
    }
}

/// Jepsen's frequency distribution: the values at quantiles 0, .5, .95, .99 and 1, each the
/// element at `floor(n * q)` of the sorted values. `None` when there are no values.
pub fn quantiles(values: &mut [u32]) -> Option<serde_json::Value> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let at = |q: f64| values[((values.len() as f64 * q) as usize).min(values.len() - 1)];
    Some(json!({
        "p0": at(0.0), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "p100": at(1.0),
    }))
}

/// Nanoseconds to whole milliseconds, as Jepsen reports latencies (saturating at ~49 days;
/// `u32` halves the memory of ten million latencies).
pub fn nanos_to_ms(nanos: u64) -> u32 {
    u32::try_from(nanos / 1_000_000).unwrap_or(u32::MAX)
}

/// The error for a history that does not fit a model's shape, naming the event's index.
pub fn model_error(model: &str, index: u64, reason: impl Into<String>) -> HistoryError {
    HistoryError::Model {
        model: model.to_owned(),
        index,
        reason: reason.into(),
    }
}

/// Counts as `results.json` writes them, from `(name, count)` pairs.
pub fn counts<const N: usize>(pairs: [(&str, u64); N]) -> BTreeMap<String, u64> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

//! Consistency models and the anomalies each forbids, after Adya's isolation levels and
//! Elle's table (Kingsbury & Alvaro, VLDB 2020, and elle.consistency-model): a history rules
//! out every model that forbids an anomaly found in it.

/// The anomalies no model allows: the history cannot come from any database that does what
/// list-append and rw-register assume (unique appends, reads that return what was written).
const ALWAYS: &[&str] = &[
    "internal",
    "duplicate-elements",
    "incompatible-order",
    "cyclic-versions",
];

const CYCLES_SI: &[&str] = &["G0", "G1c", "G-single", "G-nonadjacent"];
const CYCLES_SERIAL: &[&str] = &["G0", "G1c", "G-single", "G-nonadjacent", "G2-item"];

/// Every model, weakest first.
pub const MODELS: &[&str] = &[
    "read-uncommitted",
    "read-committed",
    "repeatable-read",
    "snapshot-isolation",
    "serializable",
    "strong-session-snapshot-isolation",
    "strong-session-serializable",
    "strong-snapshot-isolation",
    "strict-serializable",
];

/// Whether `model` forbids `anomaly` (one of the names the checker reports).
pub fn forbids(model: &str, anomaly: &str) -> bool {
    if ALWAYS.contains(&anomaly) {
        return true;
    }
    let (base, variant) = split_variant(anomaly);
    // Process order matters to the session models and the real-time ones; real time only to
    // the real-time ones.
    let allowed_variant = match variant {
        "" => true,
        "-process" => matches!(
            model,
            "strong-session-snapshot-isolation"
                | "strong-session-serializable"
                | "strong-snapshot-isolation"
                | "strict-serializable"
        ),
        _ => matches!(model, "strong-snapshot-isolation" | "strict-serializable"),
    };
    if !allowed_variant {
        return false;
    }
    let g1 = ["G0", "G1a", "G1b", "G1c", "dirty-update"].contains(&base);
    match model {
        "read-uncommitted" => base == "G0",
        "read-committed" => g1,
        "repeatable-read" => g1 || CYCLES_SERIAL.contains(&base),
        "snapshot-isolation"
        | "strong-session-snapshot-isolation"
        | "strong-snapshot-isolation" => g1 || CYCLES_SI.contains(&base) || base == "lost-update",
        _ => g1 || CYCLES_SERIAL.contains(&base) || base == "lost-update",
    }
}

fn split_variant(anomaly: &str) -> (&str, &str) {
    for variant in ["-process", "-realtime"] {
        if let Some(base) = anomaly.strip_suffix(variant) {
            return (base, variant);
        }
    }
    (anomaly, "")
}

/// The models these anomalies rule out, weakest first.
pub fn ruled_out<'a>(anomalies: impl IntoIterator<Item = &'a str> + Clone) -> Vec<&'static str> {
    MODELS
        .iter()
        .copied()
        .filter(|model| anomalies.clone().into_iter().any(|a| forbids(model, a)))
        .collect()
}

/// Whether `name` is a model this module knows.
pub fn is_model(name: &str) -> bool {
    MODELS.contains(&name)
}

/// `a` is weaker than `b`: every history `b` allows, `a` allows.
fn weaker(a: &str, b: &str) -> bool {
    const STRONGER: &[(&str, &str)] = &[
        ("read-uncommitted", "read-committed"),
        ("read-committed", "repeatable-read"),
        ("read-committed", "snapshot-isolation"),
        ("repeatable-read", "serializable"),
        ("snapshot-isolation", "serializable"),
        ("snapshot-isolation", "strong-session-snapshot-isolation"),
        ("serializable", "strong-session-serializable"),
        (
            "strong-session-snapshot-isolation",
            "strong-session-serializable",
        ),
        (
            "strong-session-snapshot-isolation",
            "strong-snapshot-isolation",
        ),
        ("strong-session-serializable", "strict-serializable"),
        ("strong-snapshot-isolation", "strict-serializable"),
    ];
    STRONGER
        .iter()
        .any(|&(x, y)| x == a && (y == b || weaker(y, b)))
}

/// Elle's `:not` and `:also-not`: of the models ruled out, the weakest ones (no weaker model
/// is ruled out), and the rest.
pub fn weakest(ruled_out: &[&'static str]) -> (Vec<&'static str>, Vec<&'static str>) {
    ruled_out
        .iter()
        .partition(|&&m| !ruled_out.iter().any(|&w| weaker(w, m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_isolation_allows_g2_item_but_not_g_single() {
        assert!(!forbids("snapshot-isolation", "G2-item"));
        assert!(forbids("snapshot-isolation", "G-single"));
        assert!(forbids("repeatable-read", "G2-item"));
        assert!(forbids("serializable", "G2-item"));
    }

    #[test]
    fn real_time_variants_matter_only_to_real_time_models() {
        assert!(!forbids("serializable", "G-single-realtime"));
        assert!(forbids("strict-serializable", "G-single-realtime"));
        assert!(!forbids("strong-session-serializable", "G0-realtime"));
        assert!(forbids("strong-session-serializable", "G0-process"));
    }

    #[test]
    fn read_committed_forbids_aborted_and_intermediate_reads() {
        assert!(forbids("read-committed", "G1a"));
        assert!(forbids("read-committed", "G1b"));
        assert!(!forbids("read-uncommitted", "G1a"));
        assert!(!forbids("read-committed", "G-single"));
        assert_eq!(
            ruled_out(["G2-item"]),
            [
                "repeatable-read",
                "serializable",
                "strong-session-serializable",
                "strict-serializable"
            ]
        );
    }
}

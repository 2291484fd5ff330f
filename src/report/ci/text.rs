//! Text the CI outputs share: one line per witnessed anomaly. (HTML escaping is
//! `report::html::esc`, shared with report.html.)

use crate::checker::Anomaly;

/// `lost: 17 was added (op 12) but no final read has it (ops 40, 41) [ops 12, 40, 41]
/// during: partition …`: the explanation, the witness indexes, the faults active then.
pub(super) fn witness_line(anomaly: &Anomaly) -> String {
    let ops: Vec<String> = anomaly.ops.iter().map(u64::to_string).collect();
    let mut line = format!(
        "{}: {} [ops {}]",
        anomaly.kind,
        anomaly.explanation,
        ops.join(", ")
    );
    if !anomaly.faults.is_empty() {
        line.push_str(" during: ");
        line.push_str(&anomaly.faults.join("; "));
    }
    line
}

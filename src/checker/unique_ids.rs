//! Decides whether an id generator ever handed out the same id twice: Jepsen's `unique-ids`
//! checker (jepsen.checker/unique-ids). Operations: `generate`, whose ok value is the id.
//! An id returned by more than one ok generate is **duplicated**; info and failed generates
//! returned nothing and are only counted.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde_json::json;

use super::CheckerResult;
use super::intern::Interner;
use super::witness::{AnomalyLog, MAX_ANOMALIES_PER_KIND, anomaly, counts, model_error};
use crate::history::{History, HistoryError, Op, Outcome};

const MODEL: &str = "unique-ids";

/// Checks a unique-ids history (see the module docs).
pub fn check(history: &History) -> Result<CheckerResult, HistoryError> {
    let generated = ok_generates(history)?;
    let mut interner = Interner::seeded(generated.iter().map(|op| &op.value));
    let mut times: Vec<u32> = Vec::new();
    for op in &generated {
        let id = interner.intern(&op.value) as usize;
        if id == times.len() {
            times.push(0);
        }
        times[id] = times[id].saturating_add(1);
    }
    let mut log = AnomalyLog::default();
    for (id, ops) in duplicates(&generated, &interner, &times, &mut log) {
        log.list("duplicated", duplicated(interner.value(id), &ops));
    }
    let mut outcomes = [0u64; 3];
    for op in history.ops.iter().filter(|op| &*op.f == "generate") {
        outcomes[op.outcome as usize] += 1;
    }
    let counts = counts([
        ("attempted", outcomes.iter().sum()),
        ("acknowledged", generated.len() as u64),
        ("info", outcomes[Outcome::Info as usize]),
        ("duplicated", log.total("duplicated")),
    ]);
    let nothing = generated
        .is_empty()
        .then_some("no ok generate: nothing to check");
    Ok(log.finish(nothing, counts, range(&generated)))
}

/// Counts every duplicated id in `log` and returns the first ones, by id, with the ok
/// generates that returned each.
fn duplicates<'h>(
    generated: &[&'h Op],
    interner: &Interner,
    times: &[u32],
    log: &mut AnomalyLog,
) -> Vec<(u32, Vec<&'h Op>)> {
    let mut listed: FxHashMap<u32, Vec<&Op>> = FxHashMap::default();
    for (id, _) in times.iter().enumerate().filter(|(_, n)| **n > 1) {
        log.count_only("duplicated");
        if listed.len() < MAX_ANOMALIES_PER_KIND {
            listed.insert(id as u32, Vec::new());
        }
    }
    if !listed.is_empty() {
        for op in generated {
            let id = interner.get(&op.value).expect("every ok id was interned");
            if let Some(ops) = listed.get_mut(&id) {
                ops.push(op);
            }
        }
    }
    let mut listed: Vec<(u32, Vec<&Op>)> = listed.into_iter().collect();
    listed.sort_unstable_by_key(|(id, _)| *id);
    listed
}

/// The ok generates, each checked to carry an id.
fn ok_generates(history: &History) -> Result<Vec<&Op>, HistoryError> {
    let mut generated = Vec::new();
    for op in &history.ops {
        if &*op.f != "generate" || op.outcome != Outcome::Ok {
            continue;
        }
        if op.value.is_nil() {
            let index = op.complete.expect("ok op completed");
            return Err(model_error(
                MODEL,
                index,
                "an ok generate must carry the id",
            ));
        }
        generated.push(op);
    }
    Ok(generated)
}

fn duplicated(id: &crate::history::Value, ops: &[&Op]) -> super::Anomaly {
    let indexes: Vec<u64> = ops.iter().filter_map(|op| op.complete).collect();
    let explanation = format!(
        "id {id} was returned by {} ok generates (completed at indexes {})",
        ops.len(),
        indexes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let details = json!({"id": id, "times": ops.len(), "completions": indexes});
    anomaly("duplicated", ops.iter().copied(), explanation, details)
}

/// `stats.range`: the lowest and highest id, when every id is an integer.
fn range(generated: &[&Op]) -> BTreeMap<String, serde_json::Value> {
    let mut stats = BTreeMap::new();
    let bounds = generated
        .iter()
        .try_fold((i64::MAX, i64::MIN), |(lo, hi), op| {
            let id = op.value.as_int()?;
            Some((lo.min(id), hi.max(id)))
        });
    if let Some((lo, hi)) = bounds.filter(|_| !generated.is_empty()) {
        stats.insert("range".to_owned(), json!([lo, hi]));
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::checker::Verdict;
    use crate::checker::test_support::{history, witnesses};
    use crate::history::HistoryError;

    #[test]
    fn id_returned_by_two_ok_generates_is_duplicated() {
        let r = check(&history(
            "10 0 i generate
             15 1 i generate
             20 0 ok generate 7
             25 1 ok generate 7
             30 0 i generate
             40 0 ok generate 8",
        ))
        .unwrap();
        assert_eq!(witnesses(&r), [("duplicated", vec![0, 1, 2, 3])]);
        assert_eq!(r.stats["range"], serde_json::json!([7, 8]));
    }

    #[test]
    fn distinct_ids_with_info_generates_are_valid() {
        let r = check(&history(
            "10 0 i generate
             20 0 ok generate 7
             30 0 i generate
             40 0 info generate
             50 1 i generate
             60 1 ok generate x",
        ))
        .unwrap();
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert!(!r.stats.contains_key("range"));
        assert_eq!(r.counts["info"], 1);
    }

    #[test]
    fn no_ok_generate_is_unknown() {
        let r = check(&history("10 0 i generate\n20 0 info generate")).unwrap();
        assert_eq!(r.valid, Verdict::Unknown);
    }

    #[test]
    fn ok_generate_without_an_id_is_a_model_error_naming_its_index() {
        let err = check(&history("10 0 i generate\n20 0 ok generate")).unwrap_err();
        assert!(matches!(err, HistoryError::Model { index: 1, .. }), "{err}");
    }
}

//! Decides whether every read of a counter returned a total it could have had: Jepsen's
//! `counter` checker (jepsen.checker/counter), generalised to negative increments.
//!
//! Operations: `add` (value = an integer, possibly negative) and `read` (ok value = the
//! total). An ok add *definitely* applied before a read if it completed before the read was
//! invoked; an ok or info add *possibly* applied if it was invoked before the read completed.
//! So a read must lie within
//! `[definite + negative possible ones, definite + positive possible ones]`
//! (with only positive adds: from the sum of ok adds completed before the read began to the
//! sum of ok-or-info adds invoked before it ended). A read outside is a **wrong-total**.
//! Cost: a sort of the ok adds by completion and of the reads by completion, then two sweeps
//! with running sums: O(n log n).

use serde_json::json;

use super::CheckerResult;
use super::witness::{AnomalyLog, anomaly, counts, ended, model_error, secs};
use crate::history::{History, HistoryError, Op, Outcome};

const MODEL: &str = "counter";

/// Checks a counter history (see the module docs).
pub fn check(history: &History) -> Result<CheckerResult, HistoryError> {
    let input = Input::gather(history)?;
    let mut bounds = definite_bounds(&input);
    add_possible_bounds(history, &input, &mut bounds);
    let mut log = AnomalyLog::default();
    for (read, bound) in input.reads.iter().zip(&bounds) {
        let total = read.value.as_int().expect("gather checked the shape");
        if total < bound.lower || total > bound.upper {
            log.record("wrong-total", || wrong_total(read, total, bound));
        }
    }
    let counts = counts([
        ("attempted", input.attempted),
        ("acknowledged", input.ok_adds.len() as u64),
        ("reads", input.reads.len() as u64),
        ("wrong-total", log.total("wrong-total")),
    ]);
    // Jepsen's counter checker calls a history without reads valid: no read broke a bound.
    // Agreeing with it matters for `check` on Jepsen histories; the warning keeps a run whose
    // reads all failed from passing unnoticed.
    let mut stats = std::collections::BTreeMap::new();
    if input.reads.is_empty() {
        stats.insert(
            "warning".to_owned(),
            serde_json::json!("no ok read: the bounds were never tested (valid only vacuously)"),
        );
    }
    Ok(log.finish(None, counts, stats))
}

/// The adds and reads of a counter history, shapes checked.
struct Input<'h> {
    /// Ok reads in invocation order.
    reads: Vec<&'h Op>,
    /// `(completion index, value)` of each ok add, by completion index.
    ok_adds: Vec<(u64, i64)>,
    attempted: u64,
}

impl<'h> Input<'h> {
    fn gather(history: &'h History) -> Result<Input<'h>, HistoryError> {
        let mut input = Input {
            reads: Vec::new(),
            ok_adds: Vec::new(),
            attempted: 0,
        };
        for op in &history.ops {
            match &*op.f {
                "add" => {
                    let Some(n) = op.value.as_int() else {
                        let reason =
                            format!("an add's value must be an integer, found {}", op.value);
                        return Err(model_error(MODEL, op.invoke, reason));
                    };
                    input.attempted += 1;
                    if op.outcome == Outcome::Ok {
                        input
                            .ok_adds
                            .push((op.complete.expect("ok op completed"), n));
                    }
                }
                "read" if op.outcome == Outcome::Ok => {
                    if op.value.as_int().is_none() {
                        let index = op.complete.expect("ok op completed");
                        let reason =
                            format!("an ok read's value must be an integer, found {}", op.value);
                        return Err(model_error(MODEL, index, reason));
                    }
                    input.reads.push(op);
                }
                _ => {}
            }
        }
        input.ok_adds.sort_unstable();
        Ok(input)
    }
}

/// The totals a read may return.
#[derive(Clone, Copy, Debug, Default)]
struct Bound {
    lower: i64,
    upper: i64,
    /// The sum of ok adds completed before the read began.
    definite: i64,
}

/// Starts each read's bounds from the ok adds completed before it was invoked: their sum
/// counts in both bounds. Reads are in invocation order, so one sweep suffices.
fn definite_bounds(input: &Input) -> Vec<Bound> {
    let mut next = 0;
    let mut sum = Bound::default();
    let (mut positive, mut negative) = (0i64, 0i64);
    let mut bounds = Vec::with_capacity(input.reads.len());
    for read in &input.reads {
        while let Some(&(complete, n)) = input.ok_adds.get(next) {
            if complete >= read.invoke {
                break;
            }
            match n >= 0 {
                true => positive = positive.saturating_add(n),
                false => negative = negative.saturating_add(n),
            }
            next += 1;
        }
        sum.definite = positive.saturating_add(negative);
        // The lower bound takes the definite positives, the upper the definite negatives;
        // the possible adds (which include the definite ones) complete each in the next sweep.
        (sum.lower, sum.upper) = (positive, negative);
        bounds.push(sum);
    }
    bounds
}

/// Adds, to each read's bounds, the ok or info adds invoked before the read completed:
/// their negatives to the lower bound, their positives to the upper. Ops are in invocation
/// order; reads are swept by completion.
fn add_possible_bounds(history: &History, input: &Input, bounds: &mut [Bound]) {
    let mut order: Vec<u32> = (0..input.reads.len() as u32).collect();
    order.sort_unstable_by_key(|&r| input.reads[r as usize].complete);
    let mut adds = history
        .ops
        .iter()
        .filter(|op| &*op.f == "add" && op.may_have_happened())
        .peekable();
    let (mut positive, mut negative) = (0i64, 0i64);
    for r in order {
        let read = input.reads[r as usize];
        let end = read.complete.expect("ok read completed");
        while let Some(add) = adds.next_if(|add| add.invoke < end) {
            let n = add.value.as_int().expect("gather checked the shape");
            match n >= 0 {
                true => positive = positive.saturating_add(n),
                false => negative = negative.saturating_add(n),
            }
        }
        let bound = &mut bounds[r as usize];
        bound.lower = bound.lower.saturating_add(negative);
        bound.upper = bound.upper.saturating_add(positive);
    }
}

fn wrong_total(read: &Op, total: i64, bound: &Bound) -> super::Anomaly {
    let explanation = format!(
        "the read invoked at index {} ({}) returned {total}, but the counter could only have \
         been between {} and {} then (ok adds completed before it began sum to {}; ok or \
         info adds invoked before it ended widen that) [read {}]",
        read.invoke,
        secs(read.invoke_time),
        bound.lower,
        bound.upper,
        bound.definite,
        ended(read),
    );
    let details = json!({
        "read": total, "lower": bound.lower, "upper": bound.upper,
        "definite": bound.definite, "read-index": read.invoke,
    });
    anomaly("wrong-total", [read], explanation, details)
}

#[cfg(test)]
mod tests {
    use super::check;
    use crate::checker::Verdict;
    use crate::checker::test_support::{history, witnesses};
    use crate::history::HistoryError;

    fn run(script: &str) -> crate::checker::CheckerResult {
        check(&history(script)).expect("well-shaped counter history")
    }

    #[test]
    fn read_below_the_sum_of_adds_completed_before_it_is_wrong_total() {
        let r = run("10 0 i add 2
                     20 0 ok add 2
                     30 1 i read
                     40 1 ok read 1
                     50 1 i read
                     60 1 ok read 2");
        assert_eq!(witnesses(&r), [("wrong-total", vec![2, 3])]);
        let d = &r.anomalies[0].details;
        assert_eq!(
            (d["lower"].as_i64(), d["upper"].as_i64()),
            (Some(2), Some(2))
        );
    }

    #[test]
    fn read_below_bound_only_because_of_a_concurrent_add_is_fine() {
        let r = run("10 0 i add 2
                     15 1 i read
                     20 0 ok add 2
                     25 1 ok read 0");
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    }

    #[test]
    fn read_above_every_add_invoked_before_it_ended_is_wrong_total() {
        let r = run("10 0 i add 2
                     20 0 info add 2
                     30 1 i read
                     40 1 ok read 3
                     50 0 i add 1
                     60 0 ok add 1");
        assert_eq!(witnesses(&r), [("wrong-total", vec![2, 3])]);
    }

    #[test]
    fn read_counting_an_info_add_or_an_add_invoked_during_it_is_fine() {
        let r = run("10 0 i add 2
                     20 0 info add 2
                     30 1 i read
                     35 2 i add 1
                     40 1 ok read 3
                     45 2 ok add 1");
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    }

    #[test]
    fn possible_negative_adds_lower_the_lower_bound() {
        let r = run("10 0 i add 5
                     20 0 ok add 5
                     30 2 i add -3
                     35 2 info add -3
                     40 1 i read
                     50 1 ok read 2
                     60 1 i read
                     70 1 ok read 1");
        assert_eq!(witnesses(&r), [("wrong-total", vec![6, 7])]);
    }

    #[test]
    fn failed_adds_count_in_neither_bound() {
        let r = run("10 0 i add 5
                     20 0 fail add 5
                     30 1 i read
                     40 1 ok read 5");
        assert_eq!(witnesses(&r), [("wrong-total", vec![2, 3])]);
    }

    #[test]
    fn counter_without_an_ok_read_is_vacuously_valid_with_a_warning() {
        let r = run("10 0 i add 5
                     20 0 ok add 5");
        assert_eq!(r.valid, Verdict::Valid);
        assert!(
            r.stats["warning"]
                .as_str()
                .unwrap()
                .contains("never tested")
        );
    }

    #[test]
    fn add_that_is_not_an_integer_is_a_model_error_naming_its_index() {
        let err = check(&history("10 0 i add x\n20 0 ok add x")).unwrap_err();
        assert!(matches!(err, HistoryError::Model { index: 0, .. }), "{err}");
    }
}

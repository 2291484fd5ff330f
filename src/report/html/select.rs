//! Which operations the page carries in full. A history up to [`DETAIL_LIMIT`] ops is carried
//! whole; a larger one is summarised for drawing (per-lane time-bucket counts, see
//! `data.rs`), and only these ops are carried in full: every witness of every anomaly the
//! checkers listed, always, plus the [`NEAR`] ops on either side of each, while the budget
//! lasts. So every witness is always drawable and has its neighbours for context.

use crate::checker::Results;
use crate::history::History;

/// Histories up to this many ops are carried whole.
pub const DETAIL_LIMIT: usize = 20_000;

/// Ops kept on either side of each witness in a summarised history.
pub const NEAR: usize = 8;

/// The position in `history.ops` of the op whose invocation or completion has this history
/// index.
pub fn position(history: &History, index: u64) -> Option<usize> {
    let bound = history.ops.partition_point(|op| op.invoke <= index);
    (0..bound)
        .rev()
        .find(|&i| history.ops[i].invoke == index || history.ops[i].complete == Some(index))
}

/// Each listed anomaly's witness ops as positions in `history.ops` (ascending, distinct), in
/// page order: checkers by name, anomalies as listed.
pub fn witnesses(history: &History, results: &Results) -> Vec<Vec<usize>> {
    results
        .checkers
        .values()
        .flat_map(|result| &result.anomalies)
        .map(|anomaly| {
            let mut ops: Vec<usize> = anomaly
                .ops
                .iter()
                .filter_map(|&index| position(history, index))
                .collect();
            ops.sort_unstable();
            ops.dedup();
            ops
        })
        .collect()
}

/// The positions carried in full, ascending, and whether the history was summarised.
pub fn detailed(history: &History, witnesses: &[Vec<usize>]) -> (Vec<usize>, bool) {
    let n = history.ops.len();
    if n <= DETAIL_LIMIT {
        return ((0..n).collect(), false);
    }
    let mut keep = vec![false; n];
    let mut all: Vec<usize> = witnesses.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    for &w in &all {
        keep[w] = true;
    }
    let mut kept = all.len();
    'near: for distance in 1..=NEAR {
        for &w in &all {
            for p in [w.checked_sub(distance), Some(w + distance)] {
                let Some(p) = p.filter(|&p| p < n && !keep[p]) else {
                    continue;
                };
                if kept >= DETAIL_LIMIT {
                    break 'near;
                }
                keep[p] = true;
                kept += 1;
            }
        }
    }
    let positions = (0..n).filter(|&p| keep[p]).collect();
    (positions, true)
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::checker::test_support::results_with_lost;
    use crate::history::{Op, Outcome, Value};

    fn big_history(n: u64) -> History {
        let ops = (0..n)
            .map(|k| Op {
                process: k % 4,
                f: "add".into(),
                value: Value::Int(k as i64),
                outcome: Outcome::Ok,
                invoke: 2 * k,
                complete: Some(2 * k + 1),
                invoke_time: 1000 * k,
                complete_time: Some(1000 * k + 500),
                extra: None,
            })
            .collect();
        History {
            ops,
            ..History::default()
        }
    }

    #[test]
    fn a_small_history_is_carried_whole() {
        let h = big_history(100);
        let w = witnesses(&h, &results_with_lost(vec![7]));
        assert_eq!(w, vec![vec![3]]);
        let (kept, summarised) = detailed(&h, &w);
        assert_eq!((kept.len(), summarised), (100, false));
    }

    #[test]
    fn summarising_keeps_every_witness_and_its_neighbours() {
        let h = big_history(100_000);
        // Invocation of op 10, completion of op 50_000, and the very last op.
        let w = witnesses(&h, &results_with_lost(vec![20, 100_001, 199_998]));
        assert_eq!(w, vec![vec![10, 50_000, 99_999]]);
        let (kept, summarised) = detailed(&h, &w);
        assert!(summarised);
        for p in [10, 50_000, 99_999, 2, 18, 49_992, 50_008, 99_991] {
            assert!(kept.binary_search(&p).is_ok(), "{p} kept");
        }
        assert_eq!(kept.len(), 3 + 2 * NEAR * 3 - NEAR);
    }

    #[test]
    fn witnesses_beyond_the_budget_are_still_all_kept() {
        let h = big_history(60_000);
        let every: Vec<u64> = (0..30_000).map(|k| 4 * k).collect();
        let w = witnesses(&h, &results_with_lost(every));
        let (kept, _) = detailed(&h, &w);
        assert_eq!(kept.len(), 30_000, "all witnesses, no neighbours");
        assert!(w[0].iter().all(|p| kept.binary_search(p).is_ok()));
    }
}

//! The series behind the charts, computed over every op (never the summarised sample):
//! throughput by outcome and latency quantiles per time bucket, a sample of latency points
//! (every witness among them), and, for a workload with views, each view's records per
//! convergence round and how far it is from the first view.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::history::{History, Op, Outcome, Value};

/// Time buckets of the charts.
const BUCKETS: u64 = 300;
/// Latency points drawn, at most (plus the witnesses).
const POINTS: usize = 4000;

/// Throughput and latency over time; times and latencies in microseconds.
#[derive(Debug, Default, Serialize)]
pub struct Charts {
    /// Width of a bucket.
    pub bucket: u64,
    /// Ops completing in each bucket, by outcome (an op that never completed counts as
    /// `info` at its invocation).
    pub ok: Vec<u32>,
    pub fail: Vec<u32>,
    pub info: Vec<u32>,
    /// Latency quantiles of the ops completing in each bucket.
    pub p50: Vec<Option<u64>>,
    pub p95: Vec<Option<u64>>,
    pub p99: Vec<Option<u64>>,
    pub points: Points,
}

/// Latency points: completion time, latency, outcome (0 ok, 1 fail, 2 info).
#[derive(Debug, Default, Serialize)]
pub struct Points {
    pub t: Vec<u64>,
    pub lat: Vec<u64>,
    pub o: Vec<u8>,
}

/// 0 ok, 1 fail, 2 info: the page's outcome codes.
pub fn code(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Ok => 0,
        Outcome::Fail => 1,
        Outcome::Info => 2,
    }
}

/// The charts of `history`, which spans `end` microseconds; `witnesses` are positions in
/// `history.ops` whose latency points are always drawn.
pub fn charts(history: &History, end: u64, witnesses: &[usize]) -> Charts {
    let bucket = end.div_ceil(BUCKETS).max(1);
    let n = (end / bucket + 1) as usize;
    let mut c = Charts {
        bucket,
        ok: vec![0; n],
        fail: vec![0; n],
        info: vec![0; n],
        ..Charts::default()
    };
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); n];
    let at = |us: u64| ((us / bucket) as usize).min(n - 1);
    for op in &history.ops {
        let done = op.complete_time.unwrap_or(op.invoke_time) / 1000;
        let b = at(done);
        match op.outcome {
            Outcome::Ok => c.ok[b] += 1,
            Outcome::Fail => c.fail[b] += 1,
            Outcome::Info => c.info[b] += 1,
        }
        if let Some(latency) = latency_us(op) {
            latencies[b].push(latency);
        }
    }
    for mut l in latencies {
        let [p50, p95, p99] = [0.5, 0.95, 0.99].map(|q| quantile(&mut l, q));
        c.p50.push(p50);
        c.p95.push(p95);
        c.p99.push(p99);
    }
    let stride = history.ops.len().div_ceil(POINTS).max(1);
    let sampled = (0..history.ops.len()).step_by(stride);
    let mut shown: Vec<usize> = sampled.chain(witnesses.iter().copied()).collect();
    shown.sort_unstable();
    shown.dedup();
    for p in shown {
        let op = &history.ops[p];
        if let (Some(latency), Some(done)) = (latency_us(op), op.complete_time) {
            c.points.t.push(done / 1000);
            c.points.lat.push(latency);
            c.points.o.push(code(op.outcome));
        }
    }
    c
}

/// From invocation to completion, in microseconds; `None` if it never completed.
pub fn latency_us(op: &Op) -> Option<u64> {
    Some(op.complete_time?.saturating_sub(op.invoke_time) / 1000)
}

/// The value at quantile `q` (`floor(n * q)`, as the checkers' quantiles).
fn quantile(values: &mut [u64], q: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    let k = ((values.len() as f64 * q) as usize).min(values.len() - 1);
    Some(*values.select_nth_unstable(k).1)
}

/// Each view's records per convergence round, and how many ids differ from the first view.
#[derive(Debug, PartialEq, Serialize)]
pub struct Rounds {
    pub views: Vec<String>,
    pub rounds: Vec<u64>,
    /// `counts[v][r]`: records of view `v` in round `r` (`None`: no ok read).
    pub counts: Vec<Vec<Option<u64>>>,
    /// `diffs[v][r]`: ids in one of view `v` and the first view but not the other (as
    /// multisets), when both were read.
    pub diffs: Vec<Vec<Option<u64>>>,
}

/// The views' rounds, if the history has convergence-phase reads (`view:NAME` ops whose
/// value holds `"round": N`).
pub fn rounds(history: &History) -> Option<Rounds> {
    let mut ids: BTreeMap<u64, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
    for op in &history.ops {
        let Some(view) = op.f.strip_prefix("view:") else {
            continue;
        };
        if op.outcome != Outcome::Ok {
            continue;
        }
        let (Some(round), Some(records)) = (entry(&op.value, "round"), entry(&op.value, "records"))
        else {
            continue;
        };
        let (Some(round), Some(records)) = (round.as_int(), records.as_list()) else {
            continue;
        };
        let mut list: Vec<String> = records
            .iter()
            .map(|r| entry(r, "id").map_or_else(String::new, id_text))
            .collect();
        list.sort_unstable();
        ids.entry(round as u64).or_default().insert(view, list);
    }
    if ids.is_empty() {
        return None;
    }
    let mut views: Vec<&str> = ids.values().flat_map(|r| r.keys().copied()).collect();
    views.sort_unstable();
    views.dedup();
    let reference = views[0];
    let count = |round: &BTreeMap<&str, Vec<String>>, v: &str| round.get(v).map(|l| l.len() as u64);
    let diff = |round: &BTreeMap<&str, Vec<String>>, v: &str| {
        Some(multiset_difference(round.get(reference)?, round.get(v)?))
    };
    Some(Rounds {
        counts: views
            .iter()
            .map(|v| ids.values().map(|r| count(r, v)).collect())
            .collect(),
        diffs: views
            .iter()
            .map(|v| ids.values().map(|r| diff(r, v)).collect())
            .collect(),
        rounds: ids.keys().copied().collect(),
        views: views.into_iter().map(str::to_owned).collect(),
    })
}

/// The entry `key` of a map value.
fn entry<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// Ids compare by their text, as the relations checkers compare them.
fn id_text(id: &Value) -> String {
    match id {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Elements in one sorted list or the other but not both, counted with multiplicity.
fn multiset_difference(a: &[String], b: &[String]) -> u64 {
    let (mut i, mut j, mut d) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => (i, d) = (i + 1, d + 1),
            std::cmp::Ordering::Greater => (j, d) = (j + 1, d + 1),
            std::cmp::Ordering::Equal => (i, j) = (i + 1, j + 1),
        }
    }
    d + (a.len() - i) as u64 + (b.len() - j) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::test_support::history;

    #[test]
    fn throughput_counts_each_op_once_by_outcome() {
        let h = history(
            "1000000 0 i add 1
             2000000 0 ok add 1
             3000000 1 i add 2
             4000000 1 fail add 2
             5000000 2 i add 3",
        );
        let c = charts(&h, 5000, &[]);
        let sum = |v: &[u32]| v.iter().sum::<u32>();
        assert_eq!((sum(&c.ok), sum(&c.fail), sum(&c.info)), (1, 1, 1));
        assert_eq!(c.points.lat, vec![1000, 1000]);
    }

    #[test]
    fn rounds_give_each_views_records_and_its_difference_from_the_first() {
        let h = history(
            "10 0 i view:a {round 1}
             20 0 ok view:a {records [{id 1} {id 2}] round 1}
             30 1 i view:b {round 1}
             40 1 ok view:b {records [{id 1}] round 1}
             50 0 i view:a {round 2}
             60 0 ok view:a {records [{id 1} {id 2}] round 2}
             70 1 i view:b {round 2}
             80 1 ok view:b {records [{id 2} {id 1}] round 2}",
        );
        let r = rounds(&h).expect("rounds");
        assert_eq!(r.views, vec!["a", "b"]);
        assert_eq!(r.rounds, vec![1, 2]);
        assert_eq!(r.counts[1], vec![Some(1), Some(2)]);
        assert_eq!(r.diffs[1], vec![Some(1), Some(0)]);
    }
}

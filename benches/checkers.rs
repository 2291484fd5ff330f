//! Times the set, counter, queue and unique-ids checkers on synthetic histories of ten
//! million ops (or `BENCH_OPS=N`, or a number as the first argument) built in memory, and
//! prints ops/s and peak RSS (VmHWM, reset before each history is built) before and after
//! checking. Run: `cargo bench --bench checkers` or `BENCH_OPS=100000 cargo bench --bench
//! checkers`.
//!
//! Every history is correct, so the checkers do their full work without anomaly reporting.
//! Ops overlap: op `k` is invoked at index `2k` and completes at index `2(k + 8) + 1`, so
//! eight ops are in flight at any time, spread over sixteen processes.
//!
//! Shapes:
//! - set: adds of distinct integers, with reads after 1/1024, 1/512, ... 1/8 of the ops and
//!   one final read of everything. A read returns the whole set, so total read size grows
//!   with the square of the number of reads; a single set read often would make the
//!   benchmark measure memory, not the checker (Jepsen keeps sets small per key for the same
//!   reason). This shape keeps the read contents at ~1.25 × the ops while still exercising
//!   stale/lost bookkeeping across several reads.
//! - counter: every tenth op is a read (returning the sum of adds completed before it
//!   began), the rest add -1..=3.
//! - queue (checked with `fifo`): alternating enqueues of distinct integers and dequeues that
//!   return the element enqueued eight pairs earlier (the first ones fail: empty), then one
//!   drain of what is left: about 5M enqueues and 5M dequeues.
//! - unique-ids: generates returning distinct integer ids.

use std::sync::Arc;
use std::time::Instant;

use splitbrain::checker::{self, Model};
use splitbrain::history::{History, Name, Op, Outcome, Value};

const LAG: u64 = 8;

fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .or_else(|| std::env::var("BENCH_OPS").ok()?.parse().ok())
        .unwrap_or(10_000_000u64);
    println!("checkers benchmark, {n} ops per history");
    bench("set", n, &Model::Set { linearizable: true }, set_history);
    bench("counter", n, &Model::Counter, counter_history);
    bench(
        "queue(fifo)",
        n,
        &Model::Queue { fifo: true },
        queue_history,
    );
    bench("unique-ids", n, &Model::UniqueIds, unique_ids_history);
}

fn bench(name: &str, n: u64, model: &Model, build: fn(u64) -> History) {
    // Reset the peak so each history's numbers are its own (Linux: clear_refs 5).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let built = Instant::now();
    let history = build(n);
    let build_secs = built.elapsed().as_secs_f64();
    let before = peak_rss_mb();
    let started = Instant::now();
    let results = checker::check(model, &[], &history).expect("synthetic history fits the model");
    let secs = started.elapsed().as_secs_f64();
    let after = peak_rss_mb();
    println!(
        "{name:<12} {:>9} ops  check {secs:>6.2} s  {:>10.0} ops/s  verdict {:<7}  \
         peak RSS {before} MB before check, {after} MB after  (built in {build_secs:.1} s)",
        history.ops.len(),
        history.ops.len() as f64 / secs,
        results.valid.as_str(),
    );
    drop(results);
    drop(history);
}

/// VmHWM from /proc/self/status, in MB (0 where unavailable).
fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

/// Op `k` of an overlapping run: invoked at index `2k`, completed at `2(k + LAG) + 1`.
fn op(k: u64, f: &Name, value: Value, outcome: Outcome) -> Op {
    let (invoke, complete) = (2 * k, 2 * (k + LAG) + 1);
    Op {
        process: k % (2 * LAG),
        f: f.clone(),
        value,
        outcome,
        invoke,
        complete: Some(complete),
        invoke_time: invoke * 50,
        complete_time: Some(complete * 50),
        extra: None,
    }
}

fn finish(ops: Vec<Op>) -> History {
    let event_count = 2 * ops.len() as u64;
    History {
        header: None,
        ops,
        nemesis: Vec::new(),
        event_count,
    }
}

fn set_history(n: u64) -> History {
    let (add, read): (Name, Name) = (Arc::from("add"), Arc::from("read"));
    let mut reads: Vec<u64> = (3..=10).map(|s| n >> s).filter(|&k| k > LAG).collect();
    reads.push(n - 1);
    let mut ops = Vec::with_capacity(n as usize);
    for k in 0..n {
        if reads.contains(&k) {
            // Every add completed before this read began: ops j < k - LAG that are adds.
            let seen = (0..k.saturating_sub(LAG)).filter(|j| !reads.contains(j));
            let value = Value::list(seen.map(|j| Value::Int(j as i64)));
            ops.push(op(k, &read, value, Outcome::Ok));
        } else {
            ops.push(op(k, &add, Value::Int(k as i64), Outcome::Ok));
        }
    }
    finish(ops)
}

fn counter_history(n: u64) -> History {
    let (add, read): (Name, Name) = (Arc::from("add"), Arc::from("read"));
    let delta = |k: u64| (k % 5) as i64 - 1;
    let is_read = |k: u64| k % 10 == 9;
    // completed[k] = sum of adds j < k (all complete before op j + LAG is invoked).
    let mut prefix = Vec::with_capacity(n as usize + 1);
    prefix.push(0i64);
    for k in 0..n {
        let last = *prefix.last().expect("starts with 0");
        prefix.push(if is_read(k) { last } else { last + delta(k) });
    }
    let ops = (0..n)
        .map(|k| match is_read(k) {
            true => {
                let definite = prefix[k.saturating_sub(LAG) as usize];
                op(k, &read, Value::Int(definite), Outcome::Ok)
            }
            false => op(k, &add, Value::Int(delta(k)), Outcome::Ok),
        })
        .collect();
    finish(ops)
}

fn queue_history(n: u64) -> History {
    let names: [Name; 3] = [
        Arc::from("enqueue"),
        Arc::from("dequeue"),
        Arc::from("drain"),
    ];
    let mut ops = Vec::with_capacity(n as usize);
    let mut next_out = 0i64;
    for k in 0..n.saturating_sub(1) {
        let m = (k / 2) as i64;
        if k % 2 == 0 {
            ops.push(op(k, &names[0], Value::Int(m), Outcome::Ok));
        } else if m >= LAG as i64 {
            ops.push(op(k, &names[1], Value::Int(next_out), Outcome::Ok));
            next_out += 1;
        } else {
            ops.push(op(k, &names[1], Value::Nil, Outcome::Fail));
        }
    }
    let enqueued = n.saturating_sub(1).div_ceil(2) as i64;
    let rest = Value::list((next_out..enqueued).map(Value::Int));
    ops.push(op(n - 1, &names[2], rest, Outcome::Ok));
    finish(ops)
}

fn unique_ids_history(n: u64) -> History {
    let generate: Name = Arc::from("generate");
    let ops = (0..n)
        .map(|k| op(k, &generate, Value::Int(3 * k as i64), Outcome::Ok))
        .collect();
    finish(ops)
}

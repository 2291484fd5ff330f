//! Times the linearizability checker on a generated history far larger than the peers':
//! 1,000,000 ops of Porcupine's kv model over 1,000 keys from 50 concurrent processes
//! (issue 7), and reports the check's wall time and its peak memory.
//!
//! The history comes from a simulated linearizable store: each process runs ops one after
//! another; every op takes effect at a random instant strictly inside its invocation and
//! completion, in that order the store applies them, and a get returns what the store held.
//! One op in 1,000 ends `info` (it still took effect). So the history is linearizable by
//! construction and the check must say so, searching every key: the worst case for time.
//!
//! Peak memory is the process's high-water mark (`VmHWM`), reset through
//! `/proc/self/clear_refs` just before the check, so it counts the history already in memory
//! plus what the check adds; both figures are printed.
//!
//! Run: `cargo bench --bench linear_large` (`LARGE_OPS=N`, `LARGE_KEYS=N`, `LARGE_PROCS=N`
//! to vary it; `BENCH_RUNS=N` checks, default 3, median printed).

use std::collections::HashMap;
use std::time::Instant;

mod common;

use common::{reset_peak, status_kib};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use splitbrain::checker::Verdict;
use splitbrain::checker::linear::{self, Bounds, LinearModel};
use splitbrain::history::{Event, EventKind, History, Interner, Process, Value};

fn main() {
    let param = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (ops, keys, procs) = (
        param("LARGE_OPS", 1_000_000),
        param("LARGE_KEYS", 1_000),
        param("LARGE_PROCS", 50),
    );
    let runs = param("BENCH_RUNS", 3).max(1);
    let start = Instant::now();
    let history = generate(ops, keys, procs, 7);
    println!(
        "generated {} ops over {keys} keys from {procs} processes in {:.1} s; memory now {} MiB",
        history.ops.len(),
        start.elapsed().as_secs_f64(),
        status_kib("VmRSS") / 1024,
    );
    let mut times = Vec::new();
    let mut peaks = Vec::new();
    let before = status_kib("VmRSS");
    for _ in 0..runs {
        reset_peak();
        let start = Instant::now();
        let result = linear::check(&history, LinearModel::Kv, Bounds::default()).unwrap();
        let elapsed = start.elapsed();
        assert_eq!(
            result.valid,
            Verdict::Valid,
            "a history generated linearizable must check valid: {:?}",
            result.stats
        );
        times.push(elapsed.as_secs_f64());
        peaks.push(status_kib("VmHWM"));
        drop(result);
    }
    times.sort_by(f64::total_cmp);
    peaks.sort_unstable();
    println!(
        "kv 1M: check {:.2} s median (min {:.2} s) over {runs} runs; peak memory {} MiB \
         (history alone {} MiB, so the check added at most {} MiB)",
        times[runs / 2],
        times[0],
        peaks[runs - 1] / 1024,
        before / 1024,
        peaks[runs - 1].saturating_sub(before) / 1024,
    );
}

/// One op before it becomes events: when it was invoked, took effect and completed.
struct Planned {
    process: u64,
    invoke: u64,
    effect: u64,
    complete: u64,
    f: &'static str,
    key: usize,
    value: String,
    info: bool,
}

/// A linearizable kv history (see the module docs), seeded.
fn generate(ops: usize, keys: usize, procs: usize, seed: u64) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut clock = vec![0u64; procs];
    let mut planned = Vec::with_capacity(ops);
    for n in 0..ops {
        let p = rng.gen_range(0..procs);
        // Times in ticks of 100 ns plus the process number: no two events share a time.
        let invoke_tick = clock[p] + rng.gen_range(1..5);
        let complete_tick = invoke_tick + rng.gen_range(2..200);
        clock[p] = complete_tick;
        let (invoke, complete) = (invoke_tick * 100 + p as u64, complete_tick * 100 + p as u64);
        let (f, value) = match rng.gen_range(0..4) {
            0 | 1 => ("get", String::new()),
            2 => ("put", format!("v{n}")),
            _ => ("append", format!("a{n} ")),
        };
        planned.push(Planned {
            process: p as u64,
            invoke,
            effect: rng.gen_range(invoke + 1..complete),
            complete,
            f,
            key: rng.gen_range(0..keys),
            value,
            info: rng.gen_ratio(1, 1000),
        });
    }
    // The store applies the ops in the order they took effect; a get reads what it held.
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| planned[i].effect);
    let mut store: HashMap<usize, String> = HashMap::new();
    for i in order {
        let op = &mut planned[i];
        let state = store.entry(op.key).or_default();
        match op.f {
            "get" => op.value = state.clone(),
            "put" => *state = op.value.clone(),
            _ => state.push_str(&op.value),
        }
    }
    let mut interner = Interner::default();
    let mut events: Vec<(u64, Event)> = Vec::with_capacity(2 * planned.len());
    for op in planned {
        let f = interner.intern(op.f);
        let key = Value::from(format!("k{}", op.key).as_str());
        let invoked = match op.f {
            "get" => Value::Nil,
            _ => Value::from(op.value.as_str()),
        };
        let event = |time, kind, value| Event {
            index: 0,
            time,
            process: Process::Client(op.process),
            kind,
            f: f.clone(),
            value,
            node: None,
            error: None,
        };
        events.push((
            op.invoke,
            event(
                op.invoke,
                EventKind::Invoke,
                Value::list([key.clone(), invoked]),
            ),
        ));
        let kind = match op.info {
            true => EventKind::Info,
            false => EventKind::Ok,
        };
        let value = Value::list([key, Value::from(op.value.as_str())]);
        events.push((op.complete, event(op.complete, kind, value)));
    }
    events.sort_unstable_by_key(|(time, _)| *time);
    let events = events.into_iter().enumerate().map(|(i, (_, mut e))| {
        e.index = i as u64;
        e
    });
    History::from_events(None, events).expect("a generated history pairs")
}

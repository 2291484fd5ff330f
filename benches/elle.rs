//! Times the transactional (Elle-style) checker (issue 8): Elle's own `huge-scc.edn` from
//! `../shared/corpus` (goal: its verdict in under 2 s), and a generated list-append history of
//! 1,000,000 transactions of 1–4 micro-ops over 1,000 keys (each retired after 32 appends,
//! as Jepsen's append workload does) from 20 concurrent processes,
//! checked for serializability (goal: under 10 s and 4 GB), with its peak memory (`VmHWM`,
//! reset through `/proc/self/clear_refs` just before the check).
//!
//! The generated history comes from a simulated serializable database: each transaction takes
//! effect at one instant strictly inside its invocation and completion, and reads what the
//! database held then, so the checker must find it valid after searching every component.
//!
//! Run: `cargo bench --bench elle` (`ELLE_TXNS=N` to vary the size, `BENCH_RUNS=N` checks).

use std::path::Path;
use std::time::Instant;

mod common;

use common::{reset_peak, status_kib};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use splitbrain::checker::Verdict;
use splitbrain::checker::elle::txn::Shape;
use splitbrain::checker::elle::{self, Options};
use splitbrain::history::{Event, EventKind, History, Interner, Process, Value, read_history};

fn main() {
    let param = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let runs = param("BENCH_RUNS", 3).max(1);
    let huge = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/transactional/elle/huge-scc.edn");
    if huge.is_file() {
        let start = Instant::now();
        let (history, _) = read_history(&huge).expect("huge-scc reads");
        let read = start.elapsed();
        let options = Options::new(Shape::ListAppend);
        let mut times = Vec::new();
        let mut result = None;
        for _ in 0..runs {
            let start = Instant::now();
            result = Some(elle::check(&history, &options).expect("checks"));
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let result = result.expect("ran once");
        println!(
            "huge-scc.edn ({} txns): read {:.2} s, check {:.2} s median; {:?}, not {}",
            history.ops.len(),
            read.as_secs_f64(),
            times[runs / 2],
            result.valid,
            result.stats["not"],
        );
    } else {
        println!("SKIPPED huge-scc: no corpus at {}", huge.display());
    }
    let txns = param("ELLE_TXNS", 1_000_000);
    let start = Instant::now();
    let history = generate(txns, 1_000, 20, 11);
    println!(
        "generated {txns} list-append txns over 1000 keys from 20 processes in {:.1} s; memory now {} MiB",
        start.elapsed().as_secs_f64(),
        status_kib("VmRSS") / 1024
    );
    let options = Options {
        models: vec!["serializable".to_owned()],
        ..Options::new(Shape::ListAppend)
    };
    let before = status_kib("VmRSS");
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        reset_peak();
        let start = Instant::now();
        let result = elle::check(&history, &options).expect("checks");
        times.push(start.elapsed().as_secs_f64());
        peak = peak.max(status_kib("VmHWM"));
        assert_eq!(
            result.valid,
            Verdict::Valid,
            "a serializable history must check valid: {:?}",
            result.anomaly_types
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "list-append {} serializable: check {:.2} s median (min {:.2} s) over {runs} runs; \
         peak memory {} MiB (history alone {} MiB)",
        size_label(txns),
        times[runs / 2],
        times[0],
        peak / 1024,
        before / 1024
    );
}

/// A count as people say it: `1M`, `200k`, `1500`.
fn size_label(n: usize) -> String {
    match n {
        _ if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        _ if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        _ => n.to_string(),
    }
}

/// A transaction before it becomes events.
struct Planned {
    process: u64,
    invoke: u64,
    effect: u64,
    complete: u64,
    /// `(append?, key, element)`; a read's list is filled in when it takes effect.
    micros: Vec<(bool, u64, i64)>,
    reads: Vec<Vec<i64>>,
}

/// A serializable list-append history (see the module docs), seeded.
fn generate(txns: usize, keys: u64, procs: usize, seed: u64) -> History {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut clock = vec![0u64; procs];
    let mut next_element = 0i64;
    // As Jepsen's append workload does, a key takes at most 32 appends and is then replaced
    // by a fresh one, so lists stay short: `keys` keys are in use at any time.
    let mut slots: Vec<(u64, u32)> = (0..keys).map(|k| (k, 0)).collect();
    let mut next_key = keys;
    let mut planned = Vec::with_capacity(txns);
    for _ in 0..txns {
        let p = rng.gen_range(0..procs);
        let invoke_tick = clock[p] + rng.gen_range(1..5);
        let complete_tick = invoke_tick + rng.gen_range(2..100);
        clock[p] = complete_tick;
        let (invoke, complete) = (invoke_tick * 100 + p as u64, complete_tick * 100 + p as u64);
        let micros = (0..rng.gen_range(1..=4))
            .map(|_| {
                next_element += 1;
                let append = rng.gen_bool(0.5);
                let slot = &mut slots[rng.gen_range(0..keys) as usize];
                let key = slot.0;
                if append {
                    slot.1 += 1;
                    if slot.1 == 32 {
                        *slot = (next_key, 0);
                        next_key += 1;
                    }
                }
                (append, key, next_element)
            })
            .collect();
        planned.push(Planned {
            process: p as u64,
            invoke,
            effect: rng.gen_range(invoke + 1..complete),
            complete,
            micros,
            reads: Vec::new(),
        });
    }
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| planned[i].effect);
    let mut lists: Vec<Vec<i64>> = vec![Vec::new(); next_key as usize];
    for i in order {
        let txn = &mut planned[i];
        for &(append, key, element) in &txn.micros {
            if append {
                lists[key as usize].push(element);
            } else {
                txn.reads.push(lists[key as usize].clone());
            }
        }
    }
    let mut interner = Interner::default();
    let f = interner.intern("txn");
    let mut events: Vec<Event> = Vec::with_capacity(2 * planned.len());
    for txn in planned {
        let value = |complete: bool| {
            let mut reads = txn.reads.iter();
            Value::list(txn.micros.iter().map(|&(append, key, element)| {
                let (name, v) = match (append, complete) {
                    (true, _) => ("append", Value::Int(element)),
                    (false, false) => ("r", Value::Nil),
                    (false, true) => (
                        "r",
                        Value::list(
                            reads
                                .next()
                                .expect("one list a read")
                                .iter()
                                .map(|&e| Value::Int(e)),
                        ),
                    ),
                };
                Value::list([Value::from(name), Value::Int(key as i64), v])
            }))
        };
        let event = |time, kind, value| Event {
            index: 0,
            time,
            process: Process::Client(txn.process),
            kind,
            f: f.clone(),
            value,
            node: None,
            error: None,
        };
        events.push(event(txn.invoke, EventKind::Invoke, value(false)));
        events.push(event(txn.complete, EventKind::Ok, value(true)));
    }
    events.sort_unstable_by_key(|e| e.time);
    for (i, e) in events.iter_mut().enumerate() {
        e.index = i as u64;
    }
    History::from_events(None, events).expect("a generated history pairs")
}

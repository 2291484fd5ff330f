//! How fast `read_history` reads a splitbrain `history.jsonl`: writes a synthetic history of
//! `SPLITBRAIN_BENCH_EVENTS` events (default 2,000,000) to a temporary directory, then times
//! reading it back. Goal: at least 1,000,000 events/s on a 2-core machine.

use std::io::BufWriter;
use std::time::Instant;

use splitbrain::history::{
    Event, EventKind, FORMAT_VERSION, Header, HistoryWriter, Process, Value, read_history,
};

const CONCURRENCY: u64 = 16;

fn header() -> Header {
    Header {
        splitbrain_history: FORMAT_VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
        name: "bench".into(),
        model: "set".into(),
        model_options: serde_json::Map::new(),
        seed: 1,
        started_at: "2026-01-01T00:00:00Z".into(),
        workload: "name = \"bench\"\n".into(),
    }
}

/// Event `index` of a set workload: each of `CONCURRENCY` processes invokes then completes,
/// nine adds to one read, every tenth completion `info`, an occasional nemesis event.
fn event(index: u64, read_value: &Value) -> Event {
    let round = index / (2 * CONCURRENCY);
    let slot = index % (2 * CONCURRENCY);
    let (process, invoke) = (slot % CONCURRENCY, slot < CONCURRENCY);
    let op = round * CONCURRENCY + process;
    let read = op % 10 == 9;
    let kind = match (invoke, op % 10) {
        (true, _) => EventKind::Invoke,
        (false, 3) => EventKind::Info,
        _ => EventKind::Ok,
    };
    // Workers take new process ids now and then, as Jepsen's rule asks after an info op.
    let process = Process::Client(process + CONCURRENCY * (round / 10));
    let value = match (read, invoke) {
        (true, true) => Value::Nil,
        (true, false) => read_value.clone(),
        _ => Value::Int(op as i64),
    };
    Event {
        index,
        time: index * 1_250,
        process,
        kind,
        f: if read { "read".into() } else { "add".into() },
        value,
        node: Some(format!("orders-{}", process_node(op)).into()),
        error: (kind == EventKind::Info).then(|| "timeout after 2s".to_string()),
    }
}

fn process_node(op: u64) -> u64 {
    op % 3 + 1
}

fn main() {
    let n: u64 = std::env::var("SPLITBRAIN_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("history.jsonl");
    let read_value = Value::list((0..8).map(Value::Int));

    let started = Instant::now();
    let file = std::fs::File::create(&path).expect("create history.jsonl");
    let mut writer = HistoryWriter::new(BufWriter::with_capacity(1 << 20, file), &header())
        .expect("write header");
    for index in 0..n {
        writer.append(&event(index, &read_value)).expect("append");
    }
    writer.sync().expect("sync");
    let write_secs = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "write_history: {n} events, {:.1} MB in {write_secs:.3} s = {:.0} events/s",
        bytes as f64 / 1e6,
        n as f64 / write_secs
    );

    let started = Instant::now();
    let (history, report) = read_history(&path).expect("read the history back");
    let read_secs = started.elapsed().as_secs_f64();
    assert_eq!(history.event_count, n);
    assert!(!report.truncated_tail);
    println!(
        "read_history: {n} events ({} ops) in {read_secs:.3} s = {:.0} events/s ({:.0} MB/s)",
        history.ops.len(),
        n as f64 / read_secs,
        bytes as f64 / 1e6 / read_secs
    );
}

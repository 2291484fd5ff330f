//! Hermitage's table for PostgreSQL, found black-box: the workloads/postgres-*.toml runs
//! against the real local PostgreSQL (scripts/setup.sh sets it up; `.ci/run` runs that), each
//! isolation level's history checked Elle's way. Serializable is serializable (and aborts
//! txns with 40001 to stay so); repeatable read is snapshot isolation (G2-item only);
//! read committed is not even that.
//!
//! PostgreSQL not reachable is a failure, not a skip: CI sets it up.

mod common;

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

const SETUP: &str = "run `bash scripts/setup.sh` as root (it installs and starts PostgreSQL \
                     with role and database splitbrain)";

/// The workload file for `level`, its password defaulting to the local test cluster's
/// (scripts/setup-postgres.sh), run into `dir`: exit code, results.json, output.
fn run_level(dir: &Path, level: &str) -> (i32, Value, std::process::Output) {
    let addr = "127.0.0.1:5432".parse().expect("an address");
    if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        panic!("PostgreSQL is not reachable at {addr} ({e}): {SETUP}");
    }
    let path = format!(
        "{}/workloads/postgres-{level}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("the workload file");
    let text = text.replace("${PGPASSWORD}", "${PGPASSWORD:-splitbrain-test}");
    let (code, results, output) = common::run(dir, &text);
    assert_ne!(
        code,
        4,
        "PostgreSQL refused the run: {SETUP}; stderr:\n{}",
        stderr(&output)
    );
    (code, results, output)
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// How many anomalies of each type, across checkers.
fn counts(results: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for checker in results["checkers"].as_object().expect("checkers").values() {
        for a in checker["anomalies"].as_array().into_iter().flatten() {
            *counts
                .entry(a["type"].as_str().unwrap_or("?").to_owned())
                .or_insert(0) += 1;
        }
    }
    counts
}

/// `check --consistency-models MODELS` of the run's history: the exit code and counts.
fn recheck(dir: &Path, models: &str) -> (i32, BTreeMap<String, usize>) {
    let history = dir.join("run/history.jsonl");
    let (code, results, output) = common::check(dir, &history, &["--consistency-models", models]);
    assert!(!results.is_null(), "no results: {}", stderr(&output));
    (code, counts(&results))
}

#[test]
fn serializable_commits_only_serializable_histories_and_aborts_txns_with_40001() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results, output) = run_level(dir.path(), "serializable");
    eprintln!("serializable: {:?}", counts(&results));
    assert_eq!(code, 0, "expected VALID: {results}\n{}", stderr(&output));
    let events = common::history(&dir.path().join("run"));
    let of = |kind: &'static str| events.iter().filter(move |e| e["type"] == kind);
    let ok = of("ok").count();
    let serialization = of("fail")
        .filter(|e| {
            e["error"]
                .as_str()
                .is_some_and(|m| m.contains("SQLSTATE 40001"))
        })
        .count();
    eprintln!("serializable: {ok} ok, {serialization} failed with 40001");
    assert!(ok > 100, "expected committed txns, found {ok}");
    assert!(
        serialization > 10,
        "expected 40001 aborts, found {serialization}"
    );
    let reads = of("ok")
        .filter(|e| e.to_string().contains("[\"r\","))
        .count();
    assert!(reads > 50, "expected committed reads, found {reads}");
}

#[test]
fn repeatable_read_shows_g2_item_and_nothing_snapshot_isolation_forbids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results, output) = run_level(dir.path(), "repeatable-read");
    let found = counts(&results);
    eprintln!("repeatable-read: {found:?}");
    assert_eq!(code, 1, "expected INVALID: {}", stderr(&output));
    assert!(found.get("G2-item").is_some_and(|n| *n > 0), "{found:?}");
    assert!(found.keys().all(|kind| kind.starts_with("G2")), "{found:?}");
    let (code, found) = recheck(dir.path(), "snapshot-isolation");
    assert_eq!(
        code, 0,
        "snapshot isolation holds at repeatable read: {found:?}"
    );
}

#[test]
fn read_committed_shows_g_single_and_is_not_snapshot_isolation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, results, output) = run_level(dir.path(), "read-committed");
    let found = counts(&results);
    eprintln!("read-committed: {found:?}");
    assert_eq!(code, 1, "expected INVALID: {}", stderr(&output));
    assert!(found.get("G-single").is_some_and(|n| *n > 0), "{found:?}");
    let (code, found) = recheck(dir.path(), "snapshot-isolation");
    eprintln!("read-committed against snapshot-isolation: {found:?}");
    assert_eq!(
        code, 1,
        "read committed is not snapshot isolation: {found:?}"
    );
    assert!(found.get("G-single").is_some_and(|n| *n > 0), "{found:?}");
}

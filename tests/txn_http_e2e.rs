//! End to end: `splitbrain run` drives the shipped list-append workloads over HTTP against
//! toyset's `POST /v1/txn`, a real process that splitbrain starts (and pauses) as a node, and
//! reaches the verdict each file's header promises: strict serializable while toyset runs each
//! txn under one lock, dependency cycles once its unisolated-txn-every switch lets txns
//! interleave. rw-register runs through the same op section. Each main phase is cut to 5 s.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{free_port, history, run, toyset_workload};
use serde_json::Value;

/// `workloads/FILE` on a free port with a 5 s main phase, after `edit`, run into `dir`: the
/// exit code, results.json and the client events of the history.
fn run_txns(dir: &Path, file: &str, edit: impl Fn(String) -> String) -> (i32, Value, Vec<Value>) {
    let text = toyset_workload(file, free_port());
    let limit = ["time_limit = \"10s\"", "time_limit = \"6s\""]
        .into_iter()
        .find(|l| text.contains(l))
        .unwrap_or_else(|| panic!("{file}: no 10 s or 6 s time_limit"));
    let text = edit(text.replacen(limit, "time_limit = \"5s\"", 1));
    let (code, results, output) = run(dir, &text);
    let mut events = history(&dir.join("run"));
    events.retain(|e| e["process"].is_u64());
    assert!(
        events.len() > 200,
        "{} client events; {}",
        events.len(),
        String::from_utf8_lossy(&output.stderr)
    );
    (code, results, events)
}

/// How many anomalies of each type, across checkers.
fn counts(results: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let checkers = results["checkers"].as_object().expect("checkers");
    for a in checkers
        .values()
        .flat_map(|c| c["anomalies"].as_array().into_iter().flatten())
    {
        *counts
            .entry(a["type"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

/// The micro-ops of every `ok` txn.
fn ok_micro_ops(events: &[Value]) -> Vec<&Vec<Value>> {
    let ok = events
        .iter()
        .filter(|e| e["type"] == "ok" && e["f"] == "txn");
    ok.flat_map(|e| e["value"].as_array().expect("a txn is a list"))
        .map(|m| m.as_array().expect("a micro-op is [f key value]"))
        .collect()
}

#[test]
fn list_append_over_http_against_one_lock_is_strict_serializable_through_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let (code, results, events) = run_txns(dir.path(), "toyset-list-append.toml", |t| t);
    assert_eq!(code, 0, "{results}");
    assert_eq!(counts(&results), BTreeMap::new());
    let micro = ok_micro_ops(&events);
    let longest = micro
        .iter()
        .filter(|m| m[0] == "r")
        .map(|m| m[2].as_array().map_or(0, Vec::len))
        .max();
    assert!(longest >= Some(3), "reads saw the appends: {longest:?}");
    assert!(micro.iter().any(|m| m[0] == "append"));
    assert!(
        events.iter().any(|e| e["type"] == "info"),
        "the pause timed some txns out as info"
    );
}

#[test]
fn list_append_over_http_with_unisolated_txns_shows_dependency_cycles() {
    let dir = tempfile::tempdir().unwrap();
    let file = "toyset-list-append-unisolated.toml";
    let (code, results, _) = run_txns(dir.path(), file, |t| t);
    assert_eq!(code, 1, "{results}");
    let found = counts(&results);
    eprintln!("unisolated list-append: {found:?}");
    let cycles = ["G0", "G1c", "G-single", "G-nonadjacent", "G2-item"];
    assert!(
        cycles.iter().any(|c| found.contains_key(*c)),
        "no dependency cycle among {found:?}"
    );
    let not = results["checkers"]
        .as_object()
        .unwrap()
        .values()
        .find_map(|c| c["stats"]["not"].as_array())
        .expect("the models the history rules out");
    assert!(!not.is_empty(), "{results}");
}

#[test]
fn rw_register_runs_through_the_same_txn_section_valid_then_invalid() {
    let to_register = |text: String| {
        let text = text.replacen("\nkind = \"list-append\"", "\nkind = \"rw-register\"", 1);
        text.replacen(
            "name = \"toyset-list-append",
            "name = \"toyset-rw-register",
            1,
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let (code, results, events) = run_txns(dir.path(), "toyset-list-append.toml", to_register);
    assert_eq!(code, 0, "{results}");
    let micro = ok_micro_ops(&events);
    assert!(micro.iter().any(|m| m[0] == "w"));
    assert!(
        micro.iter().any(|m| m[0] == "r" && m[2].is_i64()),
        "a read saw a write"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = "toyset-list-append-unisolated.toml";
    let (code, results, _) = run_txns(dir.path(), file, to_register);
    eprintln!("unisolated rw-register: {:?}", counts(&results));
    assert_eq!(code, 1, "{results}");
}

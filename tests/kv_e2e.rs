//! End to end: `splitbrain run` drives the shipped kv workloads against toyset's key-value
//! store, a real process that splitbrain starts (and pauses) as a node, and reaches the
//! verdict each file's header promises: VALID for the store as it is, INVALID with a
//! `nonlinearizable` anomaly naming a key once its stale-kv-every bug switch is on. Each run's
//! main phase is cut to 5 s, which still holds one pause.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{anomalies, free_port, history, run, toyset_workload};
use serde_json::Value;

/// `workloads/FILE` on a free port with a 5 s main phase, after `edit`, run into `dir`:
/// the exit code, results.json, the client events of the history, and splitbrain's stderr.
fn run_kv(dir: &Path, file: &str, edit: impl Fn(String) -> String) -> (i32, Value, Vec<Value>) {
    let text = toyset_workload(file, free_port());
    assert!(
        text.contains("time_limit = \"10s\""),
        "{file}: no 10 s time_limit"
    );
    let text = edit(text.replacen("time_limit = \"10s\"", "time_limit = \"5s\"", 1));
    let (code, results, output) = run(dir, &text);
    let mut events = history(&dir.join("run"));
    events.retain(|e| e["process"].is_u64());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        events.len() > 200,
        "{} client events; {stderr}",
        events.len()
    );
    (code, results, events)
}

/// Whether `text` is one or more of the tokens "x N y" that puts and appends send.
fn tokens(text: &str) -> usize {
    let parts: Vec<&str> = text.split('y').collect();
    let (last, tokens) = parts.split_last().expect("split gives one part at least");
    let token = |t: &&str| {
        (t.strip_prefix("x ").and_then(|n| n.strip_suffix(' ')))
            .is_some_and(|n| n.parse::<u64>().is_ok())
    };
    match last.is_empty() && tokens.iter().all(token) {
        true => tokens.len(),
        false => 0,
    }
}

#[test]
fn the_kv_workload_against_a_linearizable_store_is_valid_and_records_key_value_strings() {
    let dir = tempfile::tempdir().unwrap();
    let (code, results, events) = run_kv(dir.path(), "toyset-kv.toml", |t| t);
    assert_eq!(code, 0, "{results}");
    let kv = &results["checkers"]["kv"];
    assert_eq!(kv["valid"], true, "{kv}");
    assert_eq!(kv["counts"]["keys-linearizable"], 4, "{kv}");

    let mut seen = BTreeSet::new();
    let mut longest = 0;
    for e in &events {
        let (f, kind) = (e["f"].as_str().unwrap(), e["type"].as_str().unwrap());
        let pair = e["value"].as_array().expect("a [key value] tuple");
        assert!(
            pair.len() == 2 && (0..4).contains(&pair[0].as_i64().unwrap()),
            "{e}"
        );
        let shaped = match (f, kind, &pair[1]) {
            // A key never written reads "", where Porcupine's kv model starts every key.
            ("get", "ok", Value::String(s)) => s.is_empty() || tokens(s) > 0,
            ("get", _, v) => v.is_null(),
            ("put" | "append", _, Value::String(s)) => tokens(s) == 1,
            _ => false,
        };
        assert!(shaped, "{e}");
        if let ("get", "ok", Value::String(s)) = (f, kind, &pair[1]) {
            longest = longest.max(tokens(s));
        }
        seen.insert((f, kind));
    }
    for expected in [("get", "ok"), ("put", "ok"), ("append", "ok")] {
        assert!(seen.contains(&expected), "no {expected:?} in {seen:?}");
    }
    assert!(
        longest >= 2,
        "no get saw an append after another write: {seen:?}"
    );
    assert!(
        seen.iter().any(|(_, kind)| *kind == "info"),
        "the pause timed some ops out as info: {seen:?}"
    );
}

#[test]
fn the_kv_workload_against_a_store_with_stale_gets_is_invalid_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let (code, results, _) = run_kv(dir.path(), "toyset-kv-stale.toml", |t| t);
    assert_eq!(code, 1, "{results}");
    assert_eq!(results["checkers"]["kv"]["valid"], false);
    let found = anomalies(&results, "nonlinearizable");
    assert!(!found.is_empty(), "{results}");
    let details = &found[0]["details"];
    let key = details["key"].as_str().expect("the key, named");
    assert!(["0", "1", "2", "3"].contains(&key), "{details}");
    let blocked = details["blocked"]["op"].as_str().unwrap();
    assert!(blocked.starts_with("get() -> "), "a stale get: {details}");
    assert!(
        found[0]["explanation"]
            .as_str()
            .unwrap()
            .contains(&format!("on key \"{key}\""))
    );
}

#[test]
fn a_store_without_append_runs_with_a_mix_that_leaves_append_out() {
    let dir = tempfile::tempdir().unwrap();
    let no_append = |text: String| {
        // Its own name: a run's process nodes are recorded by name, and the tests run at once.
        let text = text.replacen("name = \"toyset-kv\"", "name = \"toyset-kv-no-append\"", 1);
        let start = text.find("[model.ops.append]").expect("an append section");
        let end = start + text[start..].find("\n\n").expect("a blank line after it");
        let text = text.replacen(&text[start..end + 1], "", 1);
        let mix = "mix = { get = 0.5, put = 0.25, append = 0.25 }";
        assert!(text.contains(mix), "the shipped mix");
        text.replacen(mix, "mix = { get = 0.5, put = 0.5 }", 1)
    };
    let (code, results, events) = run_kv(dir.path(), "toyset-kv.toml", no_append);
    assert_eq!(code, 0, "{results}");
    assert!(events.iter().all(|e| e["f"] != "append"));
    assert!(events.iter().any(|e| e["f"] == "put" && e["type"] == "ok"));
}

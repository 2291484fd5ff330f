//! `splitbrain check` on Elle's and elle-cli's transactional histories (list-append and
//! rw-register, EDN and JSON) from the peer corpus in `../shared/corpus/transactional`
//! (skipped, loudly, when it is absent): the verdict and models ruled out, the consistency
//! models the user names, their refusals, and the options a history's header records.

mod common;

use std::path::PathBuf;

use serde_json::json;

use common::{anomalies, check};

fn corpus(what: &str) -> Option<PathBuf> {
    common::corpus("transactional", what)
}

#[test]
fn the_paper_example_is_not_serializable_and_says_which_models_it_rules_out() {
    let Some(corpus) = corpus("the paper example's verdict") else {
        return;
    };
    for file in [
        "elle-cli/elle/paper-example.edn",
        "elle-cli/elle/paper-example.json",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let args = [
            "--model",
            "list-append",
            "--consistency-models",
            "serializable",
        ];
        let (code, results, output) = check(dir.path(), &corpus.join(file), &args);
        assert_eq!(
            code,
            1,
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let result = &results["checkers"]["list-append"];
        assert_eq!(result["valid"], false, "{file}: {result}");
        assert_eq!(
            result["stats"]["consistency-models"],
            json!(["serializable"])
        );
        let not = result["stats"]["not"].as_array().unwrap();
        assert!(!not.is_empty(), "{file}: {result}");
        let cycle = &result["anomalies"][0]["details"]["cycle"];
        assert!(
            cycle.as_array().is_some_and(|c| c.len() >= 2),
            "{file}: {result}"
        );
    }
}

#[test]
fn write_skew_is_invalid_for_repeatable_read_and_valid_for_snapshot_isolation() {
    let Some(corpus) = corpus("write skew's verdicts") else {
        return;
    };
    let history = corpus.join("elle/si-without-g-single.edn");
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--model",
        "list-append",
        "--consistency-models",
        "repeatable-read",
    ];
    let (code, results, _) = check(dir.path(), &history, &args);
    assert_eq!(code, 1, "{results}");
    assert_eq!(anomalies(&results, "G2-item").len(), 1, "{results}");

    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--model",
        "list-append",
        "--consistency-models",
        "snapshot-isolation",
    ];
    let (code, results, _) = check(dir.path(), &history, &args);
    assert_eq!(code, 0, "{results}");
    let allowed = &results["checkers"]["list-append"]["stats"]["allowed-anomalies"];
    assert_eq!(allowed["G2-item"], 1, "{results}");
}

#[test]
fn rw_register_is_checked_from_elle_cli_json() {
    let Some(corpus) = corpus("the rw-register verdict") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let history = corpus.join("elle-cli/elle/rw-register.json");
    let (code, results, _) = check(dir.path(), &history, &["--model", "rw-register"]);
    assert_eq!(code, 0, "{results}");
    assert_eq!(results["checkers"]["rw-register"]["valid"], true);
}

#[test]
fn unknown_models_and_options_of_other_models_are_refused() {
    let Some(corpus) = corpus("the refusals") else {
        return;
    };
    let history = corpus.join("elle/si-without-g-single.edn");
    let cases: [(&[&str], &str); 3] = [
        (
            &[
                "--model",
                "list-append",
                "--consistency-models",
                "serialisable",
            ],
            "unknown consistency model \"serialisable\"",
        ),
        (
            &["--model", "list-append", "--semantics", "knossos"],
            "not to list-append, which takes --consistency-models and --time-limit",
        ),
        (
            &["--model", "set", "--consistency-models", "serializable"],
            "--consistency-models applies to the transactional models",
        ),
    ];
    for (args, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (code, results, output) = check(dir.path(), &history, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(code, 3, "{args:?}: {stderr}");
        assert!(results.is_null(), "{args:?}: results.json was written");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn the_header_s_consistency_models_are_used_unless_the_command_line_names_others() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history.jsonl");
    let header = json!({
        "splitbrain_history": 1, "version": "0", "name": "skew", "model": "list-append",
        "model_options": {"consistency_models": ["snapshot-isolation"], "time_limit": "5s"},
        "seed": 1, "started_at": "2026-11-30T00:00:00Z", "workload": ""
    });
    // Write skew: T1 and T2 each read the key the other appends to, and miss the append.
    let events = [
        json!({"index": 0, "type": "invoke", "process": 0, "time": 0, "f": "txn",
               "value": [["r", "x", null], ["append", "y", 1]]}),
        json!({"index": 1, "type": "invoke", "process": 1, "time": 1, "f": "txn",
               "value": [["r", "y", null], ["append", "x", 2]]}),
        json!({"index": 2, "type": "ok", "process": 0, "time": 2, "f": "txn",
               "value": [["r", "x", []], ["append", "y", 1]]}),
        json!({"index": 3, "type": "ok", "process": 1, "time": 3, "f": "txn",
               "value": [["r", "y", []], ["append", "x", 2]]}),
        json!({"index": 4, "type": "invoke", "process": 0, "time": 4, "f": "txn",
               "value": [["r", "x", null], ["r", "y", null]]}),
        json!({"index": 5, "type": "ok", "process": 0, "time": 5, "f": "txn",
               "value": [["r", "x", [2]], ["r", "y", [1]]]}),
    ];
    let lines: Vec<String> = std::iter::once(&header)
        .chain(&events)
        .map(|v| v.to_string())
        .collect();
    std::fs::write(&history, lines.join("\n") + "\n").unwrap();

    let (code, results, output) = check(dir.path(), &history, &[]);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&output.stderr));
    let stats = &results["checkers"]["list-append"]["stats"];
    assert_eq!(stats["consistency-models"], json!(["snapshot-isolation"]));

    let (code, results, _) = check(
        dir.path(),
        &history,
        &["--consistency-models", "serializable"],
    );
    assert_eq!(code, 1, "{results}");
    assert_eq!(anomalies(&results, "G2-item").len(), 1, "{results}");
}

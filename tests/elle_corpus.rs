//! Every transactional history in the peer corpus (`../shared/corpus/MANIFEST.tsv`, rows under
//! `transactional/`), checked with `splitbrain check` against the models its label names, and
//! given that label: Elle's and elle-cli's verdicts, the anomaly types they name, and the
//! weakest models ruled out (Elle's `:not`). A row this test does not list fails it, so a
//! history added to the corpus gets a label here before it counts as agreed.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

use common::check;

/// One labelled history: its file, the model, the consistency models, and what Elle says.
struct Label {
    file: &'static str,
    model: &'static str,
    models: &'static str,
    valid: bool,
    /// Anomaly types the result must name (among the forbidden ones).
    types: &'static [&'static str],
    /// Elle's `:not`, where the label gives it.
    not: Option<&'static [&'static str]>,
}

const LABELS: &[Label] = &[
    // elle list_append_test.clj huge-scc-test: :not #{:strong-snapshot-isolation}, G2-item-realtime.
    Label {
        file: "elle/huge-scc.edn",
        model: "list-append",
        models: "strict-serializable",
        valid: false,
        types: &["G2-item-realtime"],
        not: Some(&["strong-snapshot-isolation"]),
    },
    Label {
        file: "elle/si-without-g-single.edn",
        model: "list-append",
        models: "repeatable-read",
        valid: false,
        types: &["G2-item"],
        not: Some(&["repeatable-read"]),
    },
    Label {
        file: "elle/si-without-g-single.edn",
        model: "list-append",
        models: "snapshot-isolation",
        valid: true,
        types: &[],
        not: None,
    },
    // Unlabelled upstream; elle-cli's copy (the same txns with a process) is invalid.
    Label {
        file: "elle/paper-example.edn",
        model: "list-append",
        models: "strict-serializable",
        valid: false,
        types: &["G-single"],
        not: None,
    },
    Label {
        file: "elle-cli/elle/paper-example.edn",
        model: "list-append",
        models: "strict-serializable",
        valid: false,
        types: &["G-single"],
        not: None,
    },
    Label {
        file: "elle-cli/elle/paper-example.json",
        model: "list-append",
        models: "strict-serializable",
        valid: false,
        types: &["G-single"],
        not: None,
    },
    Label {
        file: "elle-cli/elle/list-append-gh-30.edn",
        model: "list-append",
        models: "serializable",
        valid: false,
        types: &["G2-item"],
        not: None,
    },
    Label {
        file: "elle-cli/elle/rw-register.edn",
        model: "rw-register",
        models: "strict-serializable",
        valid: true,
        types: &[],
        not: None,
    },
    Label {
        file: "elle-cli/elle/rw-register.json",
        model: "rw-register",
        models: "strict-serializable",
        valid: true,
        types: &[],
        not: None,
    },
];

/// The transactional rows of the manifest: their paths under the corpus.
fn manifest_rows(corpus: &std::path::Path) -> BTreeSet<String> {
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.tsv")).expect("MANIFEST.tsv");
    manifest
        .lines()
        .filter_map(|line| line.split('\t').next())
        .filter_map(|path| path.strip_prefix("transactional/"))
        .map(str::to_owned)
        .collect()
}

fn strings(value: &Value) -> Vec<&str> {
    let list = value.as_array().map(Vec::as_slice).unwrap_or_default();
    list.iter().filter_map(Value::as_str).collect()
}

#[test]
fn every_transactional_history_in_the_corpus_gets_its_label() {
    let Some(corpus) = common::corpus("", "the transactional corpus' labels") else {
        return;
    };
    let rows = manifest_rows(&corpus);
    let labelled: BTreeSet<String> = LABELS.iter().map(|l| l.file.to_owned()).collect();
    assert_eq!(
        rows, labelled,
        "every transactional row, and no other, has a label"
    );
    let mut disagreed = Vec::new();
    for label in LABELS {
        let dir = tempfile::tempdir().unwrap();
        let path = corpus.join("transactional").join(label.file);
        let args = ["--model", label.model, "--consistency-models", label.models];
        let (code, results, output) = check(dir.path(), &path, &args);
        let result = &results["checkers"][label.model];
        let found: BTreeSet<&str> = (result["anomalies"].as_array().into_iter().flatten())
            .filter_map(|a| a["type"].as_str())
            .collect();
        let not = strings(&result["stats"]["not"]);
        let agrees = code == if label.valid { 0 } else { 1 }
            && result["valid"] == label.valid
            && label.types.iter().all(|t| found.contains(t))
            && label.not.is_none_or(|expected| not == expected);
        eprintln!(
            "{} under {}: exit {code}, {found:?}, not {not:?}",
            label.file, label.models
        );
        if !agrees {
            disagreed.push(format!(
                "{} under {}: exit {code}, anomalies {found:?}, not {not:?}; stderr: {}",
                label.file,
                label.models,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(disagreed.is_empty(), "disagreed:\n{}", disagreed.join("\n"));
}

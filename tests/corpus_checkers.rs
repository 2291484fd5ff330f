//! Golden tests on the peer corpus (`../shared/corpus/other-jepsen-checkers/`): every labelled
//! set, set-full, counter and bank history gets the verdict MANIFEST.tsv gives. Skips loudly
//! when the corpus is absent.

use std::path::{Path, PathBuf};

use splitbrain::checker::{self, CheckerResult, Model, Verdict};
use splitbrain::history::read_history;

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.join("MANIFEST.tsv").exists() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent; the corpus tests did not run",
            dir.display()
        );
        None
    }
}

/// (file, model, expected verdict) for every MANIFEST row of a set, set-full or counter.
fn labelled(dir: &Path) -> Vec<(PathBuf, Model, Verdict)> {
    rows(dir, |model| match model {
        m if m.starts_with("set ") || m.starts_with("set-full ") => Some(Model::Set {
            linearizable: false,
        }),
        m if m.starts_with("counter ") => Some(Model::Counter),
        _ => None,
    })
}

/// (file, model, expected verdict) for every MANIFEST row whose model column `pick` maps to
/// a model.
fn rows(dir: &Path, pick: impl Fn(&str) -> Option<Model>) -> Vec<(PathBuf, Model, Verdict)> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let model = pick(cols[3])?;
            let verdict = match cols[4] {
                "valid" => Verdict::Valid,
                "invalid" => Verdict::Invalid,
                other => panic!("unexpected verdict {other} in MANIFEST.tsv"),
            };
            Some((dir.join(cols[0]), model, verdict))
        })
        .collect()
}

#[test]
fn every_labelled_set_and_counter_history_gets_the_manifest_verdict() {
    let Some(dir) = corpus() else { return };
    let cases = labelled(&dir);
    assert!(
        cases.len() >= 5,
        "expected the set, set-full and counter cases, found {}",
        cases.len()
    );
    assert_manifest_verdicts(&cases, "set/counter");
}

/// Checks every case with its model and asserts MANIFEST.tsv's verdict; says how many agreed.
fn assert_manifest_verdicts(cases: &[(PathBuf, Model, Verdict)], what: &str) {
    for (path, model, expected) in cases {
        let (history, _) = read_history(path).unwrap_or_else(|e| panic!("{e}"));
        let results = checker::check(model, &[], &history)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(results.valid, *expected, "{}: {results:#?}", path.display());
    }
    eprintln!(
        "corpus: {} labelled {what} histories agree with MANIFEST.tsv",
        cases.len()
    );
}

/// Every MANIFEST row labelled `bank`: elle-cli's bank checker (src/elle_cli/bank.clj), whose
/// test runs it with `:allow-negative-balances false` and no `:accounts` or `:total-amount`,
/// so the accounts and the total come from the first ok read: splitbrain's
/// `Model::from_name("bank")`. `bank-neg.edn` is valid only because its one read sets the
/// total (30, not 100); `bank-negative-balances.json` is invalid only because a balance is -1.
fn labelled_bank(dir: &Path) -> Vec<(PathBuf, Model, Verdict)> {
    rows(dir, |model| {
        (model == "bank" || model.starts_with("bank ")).then(|| Model::from_name("bank"))?
    })
}

#[test]
fn every_labelled_bank_history_gets_the_manifest_verdict() {
    let Some(dir) = corpus() else { return };
    let cases = labelled_bank(&dir);
    assert!(
        cases.len() >= 5,
        "expected elle-cli's five bank cases, found {}",
        cases.len()
    );
    assert_manifest_verdicts(&cases, "bank");
}

fn check_bank(dir: &Path, file: &str) -> CheckerResult {
    let path = dir.join("other-jepsen-checkers/elle-cli/jepsen").join(file);
    let (history, _) = read_history(&path).unwrap_or_else(|e| panic!("{e}"));
    let model = Model::from_name("bank").expect("bank is a model");
    let mut results = checker::check(&model, &[], &history).expect("a well-shaped bank history");
    results.checkers.remove("bank").expect("the bank result")
}

/// The figures elle-cli's own expected results give (test/test-data/bank-*-result.json):
/// read-count, error-count, the first, worst, lowest and highest error's op index.
#[test]
fn bank_figures_agree_with_elle_clis_expected_results() {
    let Some(dir) = corpus() else { return };
    for file in ["bank.edn", "bank.json"] {
        let r = check_bank(&dir, file);
        assert_eq!(
            (r.counts["reads"], r.counts["bad-reads"]),
            (168, 0),
            "{file}"
        );
    }
    let tidb = check_bank(&dir, "bank-tidb.edn");
    assert_eq!(tidb.counts["reads"], 1805);
    assert_eq!(tidb.counts["bad-reads"], 1731);
    assert_eq!(tidb.counts["wrong-total"], 1731);
    assert_eq!(tidb.anomaly_types, ["wrong-total"]);
    assert_eq!(tidb.stats["first-bad-read"]["ok-index"], 258);
    assert_eq!(tidb.stats["last-bad-read"]["ok-index"], 7125);
    assert_eq!(tidb.stats["worst"]["wrong-total"]["ok-index"], 6142);
    assert_eq!(tidb.stats["min-total"], 97);
    assert_eq!(tidb.stats["max-total"], 267);
    assert_eq!(tidb.anomalies[0].details["sum"], 105);
    let negative = check_bank(&dir, "bank-negative-balances.json");
    assert_eq!(negative.anomaly_types, ["negative"]);
    assert_eq!(negative.anomalies[0].details["ok-index"], 3);
    assert_eq!(
        negative.anomalies[0].details["negative"],
        serde_json::json!({"7": -1})
    );
    eprintln!("corpus: bank figures agree with elle-cli's expected results");
}

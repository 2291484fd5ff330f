//! Golden tests on the peer corpus (`../shared/corpus/other-jepsen-checkers/`): every labelled
//! set, set-full and counter history gets the verdict MANIFEST.tsv gives. Skips loudly when the
//! corpus is absent.

use std::path::{Path, PathBuf};

use splitbrain::checker::{self, Model, Verdict};
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

/// (file, model, expected verdict) for every MANIFEST row of a model this issue supports.
fn labelled(dir: &Path) -> Vec<(PathBuf, Model, Verdict)> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("read MANIFEST.tsv");
    manifest
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let model = match cols[3] {
                m if m.starts_with("set ") || m.starts_with("set-full ") => Model::Set {
                    linearizable: false,
                },
                m if m.starts_with("counter ") => Model::Counter,
                _ => return None,
            };
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
    for (path, model, expected) in &cases {
        let (history, _) = read_history(path).unwrap_or_else(|e| panic!("{e}"));
        let results = checker::check(model, &[], &history)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(results.valid, *expected, "{}: {results:#?}", path.display());
    }
    eprintln!(
        "corpus: {} labelled set/counter histories agree with MANIFEST.tsv",
        cases.len()
    );
}

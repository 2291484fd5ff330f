//! Elle's own labelled histories (../shared/corpus/transactional) and small hand-made ones.

use std::path::PathBuf;

use super::*;
use crate::history::read_history;

fn corpus(path: &str) -> Option<History> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/transactional")
        .join(path);
    if !path.is_file() {
        eprintln!("SKIPPED: no corpus file {}", path.display());
        return None;
    }
    Some(read_history(&path).expect("corpus file reads").0)
}

fn check_with(history: &History, models: &[&str]) -> CheckerResult {
    let options = Options {
        models: models.iter().map(|m| m.to_string()).collect(),
        ..Options::new(Shape::ListAppend)
    };
    check(history, &options).expect("checks")
}

fn edn(text: &str) -> History {
    crate::history::parse_edn_history(text.as_bytes(), std::path::Path::new("t.edn"))
        .expect("parses")
        .0
}

#[test]
fn g2_item_breaks_repeatable_read_but_not_snapshot_isolation() {
    let Some(history) = corpus("elle/si-without-g-single.edn") else {
        return;
    };
    let rr = check_with(&history, &["repeatable-read"]);
    assert_eq!(rr.valid, Verdict::Invalid, "{rr:#?}");
    assert_eq!(rr.anomaly_types, ["G2-item"]);
    let si = check_with(&history, &["snapshot-isolation"]);
    assert_eq!(si.valid, Verdict::Valid, "{si:#?}");
    assert_eq!(si.stats["allowed-anomalies"]["G2-item"], 1);
}

#[test]
fn the_papers_example_and_issue_30_are_not_serializable() {
    for file in [
        "elle-cli/elle/paper-example.edn",
        "elle-cli/elle/list-append-gh-30.edn",
    ] {
        let Some(history) = corpus(file) else { return };
        let result = check_with(&history, &["serializable"]);
        assert_eq!(result.valid, Verdict::Invalid, "{file}: {result:#?}");
        let cycle = &result.anomalies[0];
        assert!(
            cycle.explanation.contains("a contradiction"),
            "{}",
            cycle.explanation
        );
    }
}

#[test]
fn a_serial_history_is_valid_even_strict_serializable() {
    let history = edn(
        "{:index 0 :type :invoke :process 0 :f :txn :value [[:append :x 1] [:r :y nil]]}
         {:index 1 :type :ok :process 0 :f :txn :value [[:append :x 1] [:r :y nil]]}
         {:index 2 :type :invoke :process 1 :f :txn :value [[:r :x nil] [:append :y 1]]}
         {:index 3 :type :ok :process 1 :f :txn :value [[:r :x [1]] [:append :y 1]]}
         {:index 4 :type :invoke :process 0 :f :txn :value [[:r :x nil] [:r :y nil]]}
         {:index 5 :type :ok :process 0 :f :txn :value [[:r :x [1]] [:r :y [1]]]}",
    );
    let result = check_with(&history, &["strict-serializable"]);
    assert_eq!(result.valid, Verdict::Valid, "{result:#?}");
    assert_eq!(result.counts["wr-edges"], 3, "{result:#?}");
}

#[test]
fn a_stale_read_after_commit_is_g_single_realtime() {
    // T0 appends and commits; T2 begins after that and still reads the empty list (T4 shows
    // where the append went).
    let history = edn(
        "{:index 0 :type :invoke :process 0 :f :txn :value [[:append :x 1]]}
         {:index 1 :type :ok :process 0 :f :txn :value [[:append :x 1]]}
         {:index 2 :type :invoke :process 1 :f :txn :value [[:r :x nil]]}
         {:index 3 :type :ok :process 1 :f :txn :value [[:r :x []]]}
         {:index 4 :type :invoke :process 2 :f :txn :value [[:r :x nil]]}
         {:index 5 :type :ok :process 2 :f :txn :value [[:r :x [1]]]}",
    );
    let serializable = check_with(&history, &["serializable"]);
    assert_eq!(serializable.valid, Verdict::Valid, "{serializable:#?}");
    let strict = check_with(&history, &["strict-serializable"]);
    assert_eq!(strict.anomaly_types, ["G-single-realtime"], "{strict:#?}");
    let text = &strict.anomalies[0].explanation;
    assert!(
        text.contains("T2 read x = [] without 1, which T0 appended next"),
        "{text}"
    );
    assert!(
        text.contains("T2 began (index 2) after T0 completed (index 1)"),
        "{text}"
    );
}

#[test]
fn aborted_and_intermediate_reads_and_internal_inconsistency_need_no_cycle() {
    let history = edn(
        "{:index 0 :type :invoke :process 0 :f :txn :value [[:append :x 1] [:append :x 2]]}
         {:index 1 :type :ok :process 0 :f :txn :value [[:append :x 1] [:append :x 2]]}
         {:index 2 :type :invoke :process 1 :f :txn :value [[:append :y 1]]}
         {:index 3 :type :fail :process 1 :f :txn :value [[:append :y 1]]}
         {:index 4 :type :invoke :process 2 :f :txn :value [[:r :x nil] [:r :y nil]]}
         {:index 5 :type :ok :process 2 :f :txn :value [[:r :x [1]] [:r :y [1]]]}
         {:index 6 :type :invoke :process 3 :f :txn :value [[:append :z 5] [:r :z nil]]}
         {:index 7 :type :ok :process 3 :f :txn :value [[:append :z 5] [:r :z []]]}",
    );
    let result = check_with(&history, &["read-atomic"]);
    assert_eq!(
        result.anomaly_types,
        ["G1a", "G1b", "internal"],
        "{result:#?}"
    );
    // Read committed allows a transaction not to see its own append; only read atomic and
    // the models above it forbid that, and each of them implies read committed.
    let result = check_with(&history, &["read-committed"]);
    assert_eq!(result.anomaly_types, ["G1a", "G1b"], "{result:#?}");
    assert_eq!(result.stats["allowed-anomalies"]["internal"], 1);
    assert_eq!(result.stats["not"], json!(["read-committed"]));
}

#[test]
fn a_committed_append_after_an_aborted_one_is_a_dirty_update() {
    let history = edn(
        "{:index 0 :type :invoke :process 0 :f :txn :value [[:append :x 1]]}
         {:index 1 :type :fail :process 0 :f :txn :value [[:append :x 1]]}
         {:index 2 :type :invoke :process 1 :f :txn :value [[:append :x 2]]}
         {:index 3 :type :ok :process 1 :f :txn :value [[:append :x 2]]}
         {:index 4 :type :invoke :process 2 :f :txn :value [[:r :x nil]]}
         {:index 5 :type :ok :process 2 :f :txn :value [[:r :x [1 2]]]}",
    );
    let result = check_with(&history, &["read-committed"]);
    assert_eq!(result.anomaly_types, ["G1a", "dirty-update"], "{result:#?}");
    let dirty = result
        .anomalies
        .iter()
        .find(|a| a.kind == "dirty-update")
        .unwrap();
    assert!(
        dirty.explanation.contains("1 by a transaction that failed"),
        "{}",
        dirty.explanation
    );
    // Read uncommitted allows it; read committed forbids it.
    let result = check_with(&history, &["read-uncommitted"]);
    assert!(result.anomaly_types.is_empty(), "{result:#?}");
}

#[test]
fn reads_that_disagree_on_order_and_duplicates_are_reported() {
    let history = edn(
        "{:index 0 :type :invoke :process 0 :f :txn :value [[:append :x 1]]}
         {:index 1 :type :ok :process 0 :f :txn :value [[:append :x 1]]}
         {:index 2 :type :invoke :process 1 :f :txn :value [[:append :x 2]]}
         {:index 3 :type :ok :process 1 :f :txn :value [[:append :x 2]]}
         {:index 4 :type :invoke :process 2 :f :txn :value [[:r :x nil]]}
         {:index 5 :type :ok :process 2 :f :txn :value [[:r :x [1 2]]]}
         {:index 6 :type :invoke :process 3 :f :txn :value [[:r :x nil]]}
         {:index 7 :type :ok :process 3 :f :txn :value [[:r :x [2 1 1]]]}",
    );
    let result = check_with(&history, &["read-committed"]);
    assert_eq!(
        result.anomaly_types,
        ["duplicate-elements", "incompatible-order"],
        "{result:#?}"
    );
    // An incompatible order is a dirty read (G1a), which read uncommitted allows.
    let result = check_with(&history, &["read-uncommitted"]);
    assert_eq!(result.anomaly_types, ["duplicate-elements"], "{result:#?}");
    assert_eq!(
        result.stats["allowed-anomalies"],
        json!({"incompatible-order": 1})
    );
}

#[test]
fn a_component_past_its_time_limit_is_unknown_not_valid() {
    let Some(history) = corpus("elle/si-without-g-single.edn") else {
        return;
    };
    let options = Options {
        models: vec!["snapshot-isolation".into()],
        time_per_component: Some(Duration::ZERO),
        ..Options::new(Shape::ListAppend)
    };
    let result = check(&history, &options).unwrap();
    assert_eq!(result.valid, Verdict::Unknown, "{result:#?}");
    assert!(
        result.stats["reason"]
            .as_str()
            .unwrap()
            .contains("time limit")
    );
}

#[test]
fn elles_huge_component_is_not_strong_snapshot_isolation() {
    let Some(history) = corpus("elle/huge-scc.edn") else {
        return;
    };
    let result = check_with(&history, &["strict-serializable"]);
    assert_eq!(result.valid, Verdict::Invalid, "{:#?}", result.counts);
    let ruled_out: Vec<&str> = ["not", "also-not"]
        .iter()
        .flat_map(|k| result.stats[*k].as_array().unwrap())
        .map(|m| m.as_str().unwrap())
        .collect();
    assert!(
        ruled_out.contains(&"strong-snapshot-isolation"),
        "{ruled_out:?}"
    );
    // Elle's label: the weakest model it rules out is strong snapshot isolation.
    assert_eq!(result.stats["not"], json!(["strong-snapshot-isolation"]));
}

fn check_registers(history: &History, models: &[&str]) -> CheckerResult {
    let options = Options {
        models: models.iter().map(|m| m.to_string()).collect(),
        ..Options::new(Shape::RwRegister)
    };
    check(history, &options).expect("checks")
}

#[test]
fn elle_clis_rw_register_history_is_valid_in_both_forms() {
    for file in [
        "elle-cli/elle/rw-register.edn",
        "elle-cli/elle/rw-register.json",
    ] {
        let Some(history) = corpus(file) else { return };
        let result = check_registers(&history, &["strict-serializable"]);
        assert_eq!(result.valid, Verdict::Valid, "{file}: {result:#?}");
        assert_eq!(result.counts["transactions"], 3);
    }
}

#[test]
fn write_skew_on_registers_is_g2_item_allowed_by_snapshot_isolation() {
    let history = edn(
        "{:index 0 :type :invoke :process 0 :f :txn :value [[:r :x nil] [:w :y 1]]}
         {:index 1 :type :invoke :process 1 :f :txn :value [[:r :y nil] [:w :x 1]]}
         {:index 2 :type :ok :process 0 :f :txn :value [[:r :x nil] [:w :y 1]]}
         {:index 3 :type :ok :process 1 :f :txn :value [[:r :y nil] [:w :x 1]]}",
    );
    let serializable = check_registers(&history, &["serializable"]);
    assert_eq!(serializable.anomaly_types, ["G2-item"], "{serializable:#?}");
    let text = &serializable.anomalies[0].explanation;
    assert!(
        text.contains("read x = nil, which T1 overwrote with 1"),
        "{text}"
    );
    let si = check_registers(&history, &["snapshot-isolation"]);
    assert_eq!(si.valid, Verdict::Valid, "{si:#?}");
}

#[test]
fn register_reads_of_aborted_or_overwritten_values_and_circular_versions() {
    let history = edn(
        "{:index 0 :type :invoke :process 0 :f :txn :value [[:w :x 1] [:w :x 2]]}
         {:index 1 :type :ok :process 0 :f :txn :value [[:w :x 1] [:w :x 2]]}
         {:index 2 :type :invoke :process 1 :f :txn :value [[:w :y 1]]}
         {:index 3 :type :fail :process 1 :f :txn :value [[:w :y 1]]}
         {:index 4 :type :invoke :process 2 :f :txn :value [[:r :x nil] [:r :y nil] [:w :z 9] [:r :z nil]]}
         {:index 5 :type :ok :process 2 :f :txn :value [[:r :x 1] [:r :y 1] [:w :z 9] [:r :z 8]]}
         {:index 6 :type :invoke :process 3 :f :txn :value [[:r :q nil] [:w :q 2]]}
         {:index 7 :type :ok :process 3 :f :txn :value [[:r :q 1] [:w :q 2]]}
         {:index 8 :type :invoke :process 4 :f :txn :value [[:r :q nil] [:w :q 1]]}
         {:index 9 :type :ok :process 4 :f :txn :value [[:r :q 2] [:w :q 1]]}",
    );
    let result = check_registers(&history, &["snapshot-isolation"]);
    assert_eq!(
        result.anomaly_types,
        // q's versions circle (1 before 2 before 1): its writers also form G0 and G1c cycles.
        ["G0", "G1a", "G1b", "G1c", "cyclic-versions", "internal"],
        "{result:#?}"
    );
    // Reading z = 8 after writing 9 is a non-repeatable read, legal at read committed.
    let result = check_registers(&history, &["read-committed"]);
    assert_eq!(
        result.anomaly_types,
        ["G0", "G1a", "G1b", "G1c", "cyclic-versions"],
        "{result:#?}"
    );
    assert_eq!(result.stats["allowed-anomalies"], json!({"internal": 1}));
}

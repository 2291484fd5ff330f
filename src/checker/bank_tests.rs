//! Unit tests for the bank checker: one minimal positive and one near-miss negative per
//! anomaly, asserting the exact witness indexes and details.

use super::{MAX_SERIES_POINTS, check};
use crate::checker::test_support::{history, witnesses};
use crate::checker::{CheckerResult, Verdict};
use crate::history::{Event, EventKind, History, HistoryError, Process, Value};

fn run(script: &str) -> CheckerResult {
    check(&history(script), None, false).expect("well-shaped bank history")
}

/// A first read of 100 over two accounts, a transfer, then `read` (events 6 and 7).
fn after_transfer(read: &str) -> String {
    format!(
        "10 0 i read
         20 0 ok read {{0 50 1 50}}
         30 1 i transfer {{from 0 to 1 amount 10}}
         40 1 ok transfer {{from 0 to 1 amount 10}}
         42 2 i transfer {{from 1 to 0 amount 70}}
         44 2 fail transfer {{from 1 to 0 amount 70}}
         50 0 i read
         60 0 ok read {read}"
    )
}

#[test]
fn reads_that_sum_to_the_first_reads_total_are_valid() {
    let r = run(&after_transfer("{0 40 1 60}"));
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    assert_eq!(r.counts["reads"], 2);
    assert_eq!(
        (r.counts["ok-transfers"], r.counts["fail-transfers"]),
        (1, 1)
    );
    assert_eq!(r.stats["total"], 100);
    assert!(
        r.stats["total-source"]
            .as_str()
            .unwrap()
            .contains("index 1")
    );
    assert_eq!(r.stats["totals"], serde_json::json!([[20, 100], [60, 100]]));
}

#[test]
fn read_summing_to_more_than_the_total_is_wrong_total() {
    let r = run(&after_transfer("{0 50 1 60}"));
    assert_eq!(witnesses(&r), [("wrong-total", vec![6, 7])]);
    let d = &r.anomalies[0].details;
    assert_eq!(
        (d["sum"].as_i64(), d["total"].as_i64()),
        (Some(110), Some(100))
    );
    assert_eq!(d["balances"], serde_json::json!({"0": 50, "1": 60}));
    assert_eq!(d["ok-index"], 7);
    assert!((d["badness"].as_f64().unwrap() - 0.1).abs() < 1e-9);
    assert!(
        r.anomalies[0]
            .explanation
            .contains("{0 50, 1 60} summing to 110, 10 more than the bank holds (100, the sum"),
        "{}",
        r.anomalies[0].explanation
    );
    assert_eq!((r.counts["bad-reads"], r.counts["wrong-total"]), (1, 1));
    assert_eq!(r.stats["first-bad-read"]["ok-index"], 7);
}

#[test]
fn read_during_a_transfer_that_sees_it_whole_is_fine() {
    let r = run("10 0 i read
                 20 0 ok read {0 50 1 50}
                 30 1 i transfer {from 0 to 1 amount 10}
                 35 0 i read
                 38 0 ok read {0 40 1 60}
                 40 1 info transfer {from 0 to 1 amount 10}");
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    assert_eq!(r.counts["info-transfers"], 1);
}

#[test]
fn negative_balance_is_an_anomaly_unless_allowed() {
    let script = after_transfer("{0 110 1 -10}");
    let r = run(&script);
    assert_eq!(witnesses(&r), [("negative", vec![6, 7])]);
    assert_eq!(
        r.anomalies[0].details["negative"],
        serde_json::json!({"1": -10})
    );
    assert_eq!(r.anomalies[0].details["badness"], 10.0);
    let allowed = check(&history(&script), None, true).unwrap();
    assert_eq!(allowed.valid, Verdict::Valid, "{allowed:?}");
}

#[test]
fn zero_balance_is_not_negative() {
    let r = run(&after_transfer("{0 100 1 0}"));
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
}

#[test]
fn account_the_first_read_did_not_have_is_unexpected_key() {
    let r = run(&after_transfer("{0 50 1 50 2 0}"));
    assert_eq!(witnesses(&r), [("unexpected-key", vec![6, 7])]);
    assert_eq!(
        r.anomalies[0].details["unexpected"],
        serde_json::json!(["2"])
    );
}

#[test]
fn read_missing_an_account_is_wrong_total_not_unexpected() {
    let r = run(&after_transfer("{0 50}"));
    assert_eq!(witnesses(&r), [("wrong-total", vec![6, 7])]);
}

#[test]
fn nil_balance_is_an_anomaly_and_the_read_is_not_summed() {
    let r = run(&after_transfer("{0 50 1 nil}"));
    assert_eq!(witnesses(&r), [("nil-balance", vec![6, 7])]);
    let d = &r.anomalies[0].details;
    assert_eq!(d["nils"], serde_json::json!(["1"]));
    assert!(d["sum"].is_null());
}

#[test]
fn a_read_can_witness_two_anomalies_but_counts_once_as_a_bad_read() {
    let r = run(&after_transfer("{0 -5 1 50}"));
    assert_eq!(
        witnesses(&r),
        [("negative", vec![6, 7]), ("wrong-total", vec![6, 7])]
    );
    assert_eq!(r.counts["bad-reads"], 1);
}

#[test]
fn the_models_total_judges_the_first_read_too() {
    let r = check(&history(&after_transfer("{0 40 1 60}")), Some(90), false).unwrap();
    assert_eq!(
        witnesses(&r),
        [("wrong-total", vec![0, 1]), ("wrong-total", vec![6, 7])]
    );
    assert_eq!(r.stats["total-source"], "the model's total");
    assert_eq!(r.stats["worst"]["wrong-total"]["ok-index"], 1);
    assert_eq!(r.stats["last-bad-read"]["ok-index"], 7);
    assert_eq!(r.stats["last-bad-read"]["time"], 60);
}

#[test]
fn the_first_read_is_the_first_to_complete() {
    // Read 1 is invoked first but completes after read 2: read 2 sets the total (30).
    let r = run("10 1 i read
                 12 2 i read
                 14 2 ok read {a 10 b 20}
                 16 1 ok read {a 10 b 25}");
    assert_eq!(witnesses(&r), [("wrong-total", vec![0, 3])]);
    assert_eq!(r.stats["total"], 30);
}

#[test]
fn integer_and_decimal_string_keys_are_the_same_account() {
    let read = |index, kind, value| Event {
        index,
        time: index * 10,
        process: Process::Client(0),
        kind,
        f: "read".into(),
        value,
        node: None,
        error: None,
    };
    let ints = Value::Map(Box::new([(0.into(), 60.into()), (1.into(), 40.into())]));
    let strs = Value::Map(Box::new([("1".into(), 30.into()), ("0".into(), 70.into())]));
    let events = [
        read(0, EventKind::Invoke, Value::Nil),
        read(1, EventKind::Ok, ints),
        read(2, EventKind::Invoke, Value::Nil),
        read(3, EventKind::Ok, strs),
    ];
    let r = check(&History::from_events(None, events).unwrap(), None, false).unwrap();
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
}

#[test]
fn non_canonical_numeric_strings_stay_distinct_accounts() {
    let r = run(&after_transfer("{0 50 01 50}"));
    assert_eq!(
        r.anomalies[0].details["unexpected"],
        serde_json::json!(["01"])
    );
}

#[test]
fn history_without_an_ok_read_is_unknown_not_valid() {
    let r = run("10 1 i transfer {from 0 to 1 amount 10}
                 20 1 ok transfer {from 0 to 1 amount 10}
                 30 0 i read
                 40 0 fail read");
    assert_eq!(r.valid, Verdict::Unknown);
    assert!(r.stats["reason"].as_str().unwrap().contains("no ok read"));
    assert_eq!(r.counts["ok-transfers"], 1);
}

#[test]
fn read_that_is_not_a_map_is_a_model_error_naming_its_completion() {
    let err = check(&history("10 0 i read\n20 0 ok read [1 2]"), None, false).unwrap_err();
    assert!(matches!(err, HistoryError::Model { index: 1, .. }), "{err}");
}

#[test]
fn balance_that_is_not_an_integer_is_a_model_error() {
    let err = check(&history("10 0 i read\n20 0 ok read {0 x}"), None, false).unwrap_err();
    assert!(err.to_string().contains("integer or nil"), "{err}");
}

#[test]
fn failed_transfers_carrying_jepsens_error_value_are_counted_not_parsed() {
    let r = run("10 1 i transfer {from 2 to 7 amount 1}
                 20 1 fail transfer [negative 2 -1]
                 30 0 i read
                 40 0 ok read {2 0 7 0}");
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    assert_eq!(r.counts["fail-transfers"], 1);
}

#[test]
fn long_series_is_downsampled_keeping_the_bad_read() {
    let mut script = String::new();
    for i in 0..2500u64 {
        let b = if i == 1234 { 7 } else { 0 };
        script += &format!(
            "{} 0 i read\n{} 0 ok read {{0 10 1 {b}}}\n",
            10 * i,
            10 * i + 5
        );
    }
    let r = run(&script);
    let series = r.stats["totals"].as_array().unwrap();
    assert!(series.len() <= MAX_SERIES_POINTS, "{}", series.len());
    assert!(series.contains(&serde_json::json!([12345, 17])));
    assert_eq!(witnesses(&r), [("wrong-total", vec![2468, 2469])]);
}

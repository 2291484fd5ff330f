//! Unit tests for the set-full checker: one minimal positive and one near-miss negative per
//! anomaly, asserting the exact witness indexes.

use super::check;
use crate::checker::Verdict;
use crate::checker::test_support::{history, witnesses};
use crate::history::HistoryError;

fn run(script: &str) -> crate::checker::CheckerResult {
    check(&history(script), true).expect("well-shaped set history")
}

const STALE: &str = "10 0 i add 1
                     20 0 ok add 1
                     22 3 i add 9
                     24 3 info add 9
                     30 1 i read
                     40 1 ok read []
                     50 1 i read
                     60 1 ok read [1]";

#[test]
fn element_missing_from_the_last_reads_after_its_add_is_lost() {
    let r = run("10 0 i add 1
                 20 0 ok add 1
                 25 2 i add 2
                 30 2 ok add 2
                 40 1 i read
                 50 1 ok read [1 2]
                 60 1 i read
                 70 1 ok read [2]");
    assert_eq!(r.valid, Verdict::Invalid);
    assert_eq!(witnesses(&r), [("lost", vec![0, 1, 4, 5, 6, 7])]);
    // It vanished between the read that last saw it and the first that did not.
    assert_eq!(r.anomalies[0].window, Some([4, 6]));
    assert_eq!(r.anomalies[0].details["element"], 1);
    assert_eq!((r.counts["lost"], r.counts["stable"]), (1, 1));
    assert!(
        r.anomalies[0]
            .explanation
            .contains("last 1 read(s), from index 6")
    );
}

#[test]
fn element_absent_only_from_a_read_that_began_before_its_add_completed_is_not_lost() {
    let r = run("1 2 i add 2
                 2 2 ok add 2
                 10 0 i add 1
                 15 1 i read
                 20 0 ok add 1
                 30 1 ok read [2]");
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    assert_eq!((r.counts["never-read"], r.counts["stable"]), (1, 1));
}

#[test]
fn element_observed_by_a_read_and_then_missing_is_lost_even_if_its_add_was_info() {
    let r = run("10 0 i add 1
                 12 1 i read
                 14 1 ok read [1]
                 16 1 i read
                 18 1 ok read []
                 20 0 info add 1");
    assert_eq!(witnesses(&r), [("lost", vec![1, 2, 3, 4])]);
    assert_eq!(r.anomalies[0].window, Some([1, 3]));
}

#[test]
fn element_missing_from_a_read_after_its_add_but_present_later_is_stale() {
    let r = run(STALE);
    assert_eq!(witnesses(&r), [("stale", vec![0, 1, 4, 5, 6, 7])]);
    assert_eq!(r.counts["indeterminate"], 1);
    assert_eq!(r.counts["stable"], 1);
}

#[test]
fn a_stale_read_of_a_set_not_declared_linearizable_is_counted_and_shown_but_valid() {
    let r = check(&history(STALE), false).expect("well-shaped set history");
    assert_eq!(r.valid, Verdict::Valid);
    assert!(r.anomalies.is_empty());
    assert_eq!(r.counts["stale"], 1);
    assert_eq!(
        r.stats["stale-elements"][0]["ops"],
        serde_json::json!([0, 1, 4, 5, 6, 7])
    );
}

#[test]
fn element_missing_only_from_a_read_concurrent_with_its_add_is_stable_not_stale() {
    let r = run("10 0 i add 1
                 15 1 i read
                 20 0 ok add 1
                 30 1 ok read []
                 50 1 i read
                 60 1 ok read [1]");
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    assert_eq!(r.counts["stale"], 0);
    assert_eq!(r.stats["stable-latencies-ms"]["p100"], 0);
}

#[test]
fn element_listed_twice_in_one_read_is_duplicated() {
    let r = run("10 0 i add 1
                 20 0 ok add 1
                 30 1 i read
                 40 1 ok read [1 1]");
    assert_eq!(witnesses(&r), [("duplicated", vec![2, 3])]);
}

#[test]
fn element_in_two_different_reads_is_not_duplicated() {
    let r = run("10 0 i add 1
                 20 0 ok add 1
                 30 1 i read
                 40 1 ok read [1]
                 50 1 i read
                 60 1 ok read [1]");
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
}

#[test]
fn element_read_but_never_added_is_unexpected() {
    let r = run("10 0 i add 1
                 20 0 ok add 1
                 30 1 i read
                 40 1 ok read [1 5]");
    assert_eq!(witnesses(&r), [("unexpected", vec![2, 3])]);
    assert!(
        r.anomalies[0]
            .explanation
            .contains("no add of it was ever attempted")
    );
}

#[test]
fn element_whose_only_add_failed_but_is_read_is_unexpected() {
    let r = run("10 0 i add 1
                 20 0 fail add 1
                 30 1 i read
                 40 1 ok read [1]");
    assert_eq!(witnesses(&r), [("unexpected", vec![2, 3])]);
    assert!(r.anomalies[0].explanation.contains("failed"));
}

#[test]
fn element_added_by_an_info_add_and_read_is_recovered_not_unexpected() {
    let r = run("10 0 i add 1
                 20 0 info add 1
                 30 1 i read
                 40 1 ok read [1]");
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    assert_eq!(r.counts["recovered"], 1);
}

#[test]
fn adds_without_any_read_are_unknown_not_valid() {
    let r = run("10 0 i add 1
                 20 0 ok add 1
                 30 1 i read
                 40 1 info read");
    assert_eq!(r.valid, Verdict::Unknown);
    assert!(
        r.stats["reason"]
            .as_str()
            .unwrap()
            .contains("nothing to check")
    );
}

#[test]
fn read_whose_value_is_not_a_list_is_a_model_error_naming_its_index() {
    let err = check(&history("10 1 i read\n20 1 ok read 3"), true).unwrap_err();
    assert!(matches!(err, HistoryError::Model { index: 1, .. }), "{err}");
}

#[test]
fn long_anomaly_lists_are_capped_with_full_counts() {
    let mut script = String::new();
    for i in 0..1005 {
        script += &format!("{} 0 i add {i}\n{} 0 ok add {i}\n", 2 * i, 2 * i + 1);
    }
    script += "5000 1 i read\n5001 1 ok read []\n";
    let r = run(&script);
    assert_eq!(r.counts["lost"], 1005);
    assert_eq!(r.anomalies.len(), 1000);
    assert!(r.stats.contains_key("lost-truncated"));
}

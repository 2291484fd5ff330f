//! Unit tests for the total-queue checker: one minimal positive and one near-miss negative
//! per anomaly, asserting the exact witness indexes.

use super::check;
use crate::checker::Verdict;
use crate::checker::test_support::{history, witnesses};
use crate::history::HistoryError;

fn run(script: &str, fifo: bool) -> crate::checker::CheckerResult {
    check(&history(script), fifo).expect("well-shaped queue history")
}

const OVERTAKEN: &str = "10 0 i enqueue 1
                         20 0 ok enqueue 1
                         30 0 i enqueue 2
                         40 0 ok enqueue 2
                         50 1 i dequeue
                         60 1 ok dequeue 2
                         70 1 i dequeue
                         80 1 ok dequeue 1";

#[test]
fn element_enqueued_ok_but_never_dequeued_is_lost() {
    let r = run(
        "10 0 i enqueue 1
         20 0 ok enqueue 1
         30 0 i enqueue 2
         40 0 ok enqueue 2
         50 1 i dequeue
         60 1 ok dequeue 2",
        false,
    );
    assert_eq!(witnesses(&r), [("lost", vec![0, 1])]);
    assert_eq!(r.counts["lost"], 1);
}

#[test]
fn element_of_an_info_enqueue_never_dequeued_is_not_lost() {
    let r = run(
        "10 0 i enqueue 1
         20 0 info enqueue 1
         30 2 i enqueue 2
         40 2 ok enqueue 2
         50 1 i dequeue
         60 1 ok dequeue 2
         70 1 i dequeue
         80 1 fail dequeue",
        false,
    );
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
}

#[test]
fn element_dequeued_twice_after_one_enqueue_is_duplicated() {
    let r = run(
        "10 0 i enqueue 1
         20 0 ok enqueue 1
         30 1 i dequeue
         40 1 ok dequeue 1
         50 1 i dequeue
         60 1 ok dequeue 1",
        false,
    );
    assert_eq!(witnesses(&r), [("duplicated", vec![0, 1, 2, 3, 4, 5])]);
}

#[test]
fn element_enqueued_twice_and_dequeued_twice_is_not_duplicated() {
    let r = run(
        "10 0 i enqueue 1
         20 0 ok enqueue 1
         30 0 i enqueue 1
         40 0 ok enqueue 1
         50 1 i drain
         60 1 ok drain [1 1]",
        false,
    );
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
}

#[test]
fn element_dequeued_but_never_enqueued_is_unexpected() {
    let r = run(
        "10 0 i enqueue 1
         20 0 ok enqueue 1
         30 1 i dequeue
         40 1 ok dequeue 1
         50 1 i dequeue
         60 1 ok dequeue 7",
        false,
    );
    assert_eq!(witnesses(&r), [("unexpected", vec![4, 5])]);
}

#[test]
fn element_dequeued_after_an_info_enqueue_is_recovered_not_unexpected() {
    let r = run(
        "10 0 i enqueue 1
         20 0 info enqueue 1
         30 1 i dequeue
         40 1 ok dequeue 1",
        false,
    );
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    assert_eq!(r.counts["recovered"], 1);
}

#[test]
fn element_dequeued_after_only_failed_enqueues_is_unexpected() {
    let r = run(
        "10 0 i enqueue 1
         20 0 fail enqueue 1
         30 1 i dequeue
         40 1 ok dequeue 1",
        false,
    );
    assert_eq!(witnesses(&r), [("unexpected", vec![0, 1, 2, 3])]);
    assert!(r.anomalies[0].explanation.contains("failed"));
}

#[test]
fn element_overtaken_by_a_later_enqueue_is_reordered_when_fifo() {
    let r = run(OVERTAKEN, true);
    assert_eq!(witnesses(&r), [("reordered", vec![0, 1, 2, 3, 4, 5, 6, 7])]);
    assert_eq!(r.anomalies[0].details["element"], 1);
    assert_eq!(r.anomalies[0].details["overtaken-by"], 2);
}

#[test]
fn order_is_not_checked_without_fifo() {
    assert_eq!(run(OVERTAKEN, false).valid, Verdict::Valid);
}

#[test]
fn concurrent_enqueues_may_come_out_in_either_order() {
    let r = run(
        "10 0 i enqueue 1
         15 2 i enqueue 2
         20 0 ok enqueue 1
         40 2 ok enqueue 2
         50 1 i dequeue
         60 1 ok dequeue 2
         70 1 i dequeue
         80 1 ok dequeue 1",
        true,
    );
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
}

#[test]
fn concurrent_dequeues_may_return_in_either_order() {
    let r = run(
        "10 0 i enqueue 1
         20 0 ok enqueue 1
         30 0 i enqueue 2
         40 0 ok enqueue 2
         50 1 i dequeue
         55 3 i dequeue
         60 1 ok dequeue 2
         80 3 ok dequeue 1",
        true,
    );
    assert_eq!(r.valid, Verdict::Valid, "{r:?}");
}

#[test]
fn drain_listing_a_later_element_first_is_reordered_when_fifo() {
    let r = run(
        "10 0 i enqueue 1
         20 0 ok enqueue 1
         30 0 i enqueue 2
         40 0 ok enqueue 2
         50 1 i drain
         60 1 ok drain [2 1]",
        true,
    );
    assert_eq!(witnesses(&r), [("reordered", vec![0, 1, 2, 3, 4, 5])]);
}

#[test]
fn queue_without_any_dequeue_is_unknown() {
    let r = run("10 0 i enqueue 1\n20 0 ok enqueue 1", false);
    assert_eq!(r.valid, Verdict::Unknown);
}

#[test]
fn ok_dequeue_without_an_element_is_a_model_error_naming_its_index() {
    let err = check(&history("10 1 i dequeue\n20 1 ok dequeue"), false).unwrap_err();
    assert!(matches!(err, HistoryError::Model { index: 1, .. }), "{err}");
}

//! `unique`: no two records of a view share an id, or, with `key`, the value of one field
//! (one payment capture per order, one shipment per order): the microservice form of
//! Jepsen's unique-ids and of a unique constraint that a distributed system must keep without
//! a database to enforce it.
//!
//! Every ok read of the view is judged, main phase and rounds alike: a duplicate that a later
//! read no longer shows still happened. Records whose `key` is nil are ignored (not yet
//! assigned). Each duplicated value is reported once, with the first read that shows it and
//! both records, and the number of reads that show it.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde_json::json;

use super::super::CheckerResult;
use super::super::witness::{AnomalyLog, anomaly, counts, ended};
use super::view::{Views, field, list_ids, text};
use crate::history::{Op, Value};

/// How many values an `unmet` line lists.
const SHOWN: usize = 10;

/// The first two records sharing each duplicated value in one read, in the order the
/// duplicates appear.
pub fn judge<'r>(
    records: &'r [Value],
    key: Option<&str>,
) -> Vec<(Cow<'r, str>, &'r Value, &'r Value)> {
    let key = key.unwrap_or("id");
    let mut first: FxHashMap<Cow<str>, (usize, bool)> = FxHashMap::default();
    let mut dups = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let value = field(record, key);
        if value.is_nil() {
            continue;
        }
        let value = text(value);
        match first.get_mut(&value) {
            Some((j, reported)) if !*reported => {
                *reported = true;
                dups.push((value, &records[*j], record));
            }
            Some(_) => {}
            None => {
                first.insert(value, (i, false));
            }
        }
    }
    dups
}

/// The unmet line for one round's read of the view.
pub fn unmet(
    name: &str,
    view: &str,
    key: Option<&str>,
    records: Option<&[Value]>,
) -> Option<String> {
    let Some(records) = records else {
        return Some(format!("{name}: {view} not read ok in this round"));
    };
    let dups = judge(records, key);
    let values: Vec<&str> = dups.iter().map(|d| d.0.as_ref()).collect();
    (!dups.is_empty()).then(|| {
        format!(
            "{name}: {view} holds more than one record with {} {}",
            key.unwrap_or("id"),
            list_ids(&values, SHOWN)
        )
    })
}

/// One duplicated value across the history's reads.
struct Seen<'h> {
    read: &'h Op,
    records: (&'h Value, &'h Value),
    reads: u64,
}

/// Checks `unique` over every ok read of the view (see the module docs).
pub fn check(view: &str, key: Option<&str>, all: &Views) -> CheckerResult {
    let reads = all.of(view);
    let mut seen: FxHashMap<Cow<str>, Seen> = FxHashMap::default();
    let mut order = Vec::new();
    let mut reads_with_duplicates = 0u64;
    for read in reads {
        let dups = judge(read.records, key);
        reads_with_duplicates += u64::from(!dups.is_empty());
        for (value, a, b) in dups {
            match seen.get_mut(&value) {
                Some(s) => s.reads += 1,
                None => {
                    order.push(value.clone());
                    let records = (a, b);
                    seen.insert(
                        value,
                        Seen {
                            read: read.op,
                            records,
                            reads: 1,
                        },
                    );
                }
            }
        }
    }
    let mut log = AnomalyLog::default();
    let what = key.unwrap_or("id");
    for value in &order {
        let s = &seen[value];
        log.record("duplicated", || {
            let explanation = format!(
                "{view} holds two records with {what} {value} in the read {} ({} and {}); \
                 {} read(s) show it",
                ended(s.read),
                s.records.0,
                s.records.1,
                s.reads
            );
            let details = json!({
                "view": view, "key": what, "value": value, "read": s.read.invoke,
                "records": [s.records.0, s.records.1], "reads-showing": s.reads,
            });
            anomaly("duplicated", [s.read], explanation, details)
        });
    }
    let nothing = reads
        .is_empty()
        .then(|| format!("{view} was never read ok, so no duplicate could be seen"));
    let counts = counts([
        ("reads", reads.len() as u64),
        ("reads-with-duplicates", reads_with_duplicates),
        ("duplicated", log.total("duplicated")),
    ]);
    log.finish(nothing.as_deref(), counts, BTreeMap::new())
}

#[cfg(test)]
mod tests {
    use super::super::Relation;
    use crate::checker::Verdict;
    use crate::checker::test_support::{check_relation, round, witnesses};

    fn unique(key: Option<&str>) -> Relation {
        Relation::Unique {
            view: "payments".into(),
            key: key.map(str::to_owned),
        }
    }

    #[test]
    fn two_records_with_one_order_are_duplicated_once_with_both_records_and_a_read_count() {
        let script = "10 1 i view:payments
                      20 1 ok view:payments {records [{id p1 order_id 7} {id p2 order_id nil} {id p3 order_id \"7\"}]}
                      30 1 i view:payments
                      40 1 ok view:payments {records [{id p1 order_id 7} {id p3 order_id 7} {id p4 order_id 7}]}
                      "
        .to_owned()
            + &round(1, 100, &[("payments", "[{id p1 order_id 7} {id p5 order_id nil} {id p6 order_id nil}]")]);
        let (r, _) = check_relation(unique(Some("order_id")), &script);
        assert_eq!(witnesses(&r), [("duplicated", vec![0, 1])]);
        let details = &r.anomalies[0].details;
        assert_eq!(details["value"], "7");
        assert_eq!(details["records"][1]["id"], "p3");
        assert_eq!(details["reads-showing"], 2);
        assert_eq!(
            (r.counts["reads"], r.counts["reads-with-duplicates"]),
            (3, 2)
        );
    }

    #[test]
    fn distinct_ids_are_valid_even_when_keys_repeat_if_no_key_is_declared() {
        let script = round(
            1,
            100,
            &[("payments", "[{id p1 order_id 7} {id p2 order_id 7}]")],
        );
        let (r, c) = check_relation(unique(None), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert!(c.converged);
        let (r, c) = check_relation(unique(Some("order_id")), &script);
        assert_eq!(r.anomaly_types, ["duplicated"]);
        assert_eq!(
            c.unmet,
            ["unique(payments.order_id): payments holds more than one record with order_id 7"]
        );
    }

    #[test]
    fn ids_compare_by_text() {
        let script = round(1, 100, &[("payments", "[{id 17} {id \"17\"}]")]);
        let (r, _) = check_relation(unique(None), &script);
        assert_eq!(r.anomalies[0].details["value"], "17");
    }

    #[test]
    fn a_view_never_read_ok_is_unknown() {
        let (r, _) = check_relation(
            unique(None),
            "10 1 i view:payments\n20 1 info view:payments",
        );
        assert_eq!(r.valid, Verdict::Unknown);
    }
}

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

//! `matches`: records of one view correspond to records of another through a key, as a
//! foreign key would enforce inside one database (every confirmed order has exactly one
//! capture; no cancelled order has one). Across services nothing enforces it, and a saga that
//! lost a step or ran one twice shows up here.
//!
//! Judged on the latest round that read both views ok (without one, on the last ok read of
//! each): records of `view` passing `filter` are joined to records of `other` passing
//! `other_filter` by `other.key == view.id` (by text). With `Expect::One`, a view record with
//! no match is **missing**, one with several is **duplicated**, and an other record whose key
//! names no such view record is **orphaned**; with `Expect::None`, an other record whose key
//! names one is **orphaned**.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::json;

use super::super::CheckerResult;
use super::super::witness::{AnomalyLog, anomaly, counts, ended};
use super::view::{ViewRead, Views, field, id, list_ids, text};
use super::{Expect, Filter};
use crate::history::Value;

/// How many records an `unmet` line names.
const SHOWN: usize = 10;

/// One relation's parameters, as the enum holds them.
pub struct Join<'a> {
    pub view: &'a str,
    pub filter: &'a Filter,
    pub other: &'a str,
    pub other_filter: &'a Filter,
    pub key: &'a str,
    pub expect: Expect,
}

/// What joining one read of each view found.
#[derive(Debug, Default, PartialEq)]
pub struct Judgement<'r> {
    /// View records without a match.
    pub missing: Vec<&'r Value>,
    /// View records with several matches, and those matches.
    pub duplicated: Vec<(&'r Value, Vec<&'r Value>)>,
    /// Other records that should not be there.
    pub orphaned: Vec<&'r Value>,
    /// View records with exactly one match (`Expect::One`).
    pub matched: u64,
}

impl Join<'_> {
    /// Joins the two views' records (see the module docs).
    pub fn judge<'r>(&self, records: &'r [Value], others: &'r [Value]) -> Judgement<'r> {
        let mine: Vec<&Value> = records.iter().filter(|r| self.filter.passes(r)).collect();
        let ids: FxHashSet<Cow<str>> = mine.iter().map(|r| id(r)).collect();
        let theirs = others.iter().filter(|r| self.other_filter.passes(r));
        let mut by_key: FxHashMap<Cow<str>, Vec<&Value>> = FxHashMap::default();
        let mut j = Judgement::default();
        for other in theirs {
            let key = field(other, self.key);
            let names = !key.is_nil() && ids.contains(&text(key));
            match (self.expect, names) {
                (Expect::One, true) => by_key.entry(text(key)).or_default().push(other),
                (Expect::One, false) | (Expect::None, true) => j.orphaned.push(other),
                (Expect::None, false) => {}
            }
        }
        if self.expect == Expect::One {
            for record in mine {
                match by_key.get(&id(record)).map_or(&[][..], Vec::as_slice) {
                    [] => j.missing.push(record),
                    [_] => j.matched += 1,
                    many => j.duplicated.push((record, many.to_vec())),
                }
            }
        }
        j
    }

    /// The unmet line for one round.
    pub fn unmet(
        &self,
        name: &str,
        records: Option<&[Value]>,
        others: Option<&[Value]>,
    ) -> Option<String> {
        let (Some(records), Some(others)) = (records, others) else {
            return Some(format!(
                "{name}: {} and {} not both read ok in this round",
                self.view, self.other
            ));
        };
        let j = self.judge(records, others);
        let ids = |records: &mut dyn Iterator<Item = &Value>| {
            let ids: Vec<String> = records.map(|r| id(r).into_owned()).collect();
            (ids.len(), list_ids(&ids, SHOWN))
        };
        let mut parts = Vec::new();
        let (n, missing) = ids(&mut j.missing.iter().copied());
        if n > 0 {
            parts.push(format!(
                "{n} {} record(s) without a match in {}: {missing}",
                self.view, self.other
            ));
        }
        let (n, duplicated) = ids(&mut j.duplicated.iter().map(|d| d.0));
        if n > 0 {
            parts.push(format!(
                "{n} {} record(s) with several matches in {}: {duplicated}",
                self.view, self.other
            ));
        }
        let (n, orphaned) = ids(&mut j.orphaned.iter().copied());
        if n > 0 {
            parts.push(format!("{n} orphaned {} record(s): {orphaned}", self.other));
        }
        (!parts.is_empty()).then(|| format!("{name}: {}", parts.join("; ")))
    }

    /// The reads judged: the latest round that read both views ok, else each view's last ok
    /// read.
    fn reads<'h>(&self, all: &Views<'h>) -> Option<(ViewRead<'h>, ViewRead<'h>)> {
        let in_round = all
            .rounds
            .iter()
            .rev()
            .find_map(|round| Some((round.read(self.view)?, round.read(self.other)?)));
        in_round.or_else(|| {
            Some((
                all.of(self.view).last().copied()?,
                all.of(self.other).last().copied()?,
            ))
        })
    }

    /// Checks the relation on the reads it judges (see the module docs).
    pub fn check(&self, all: &Views) -> CheckerResult {
        let mut log = AnomalyLog::default();
        let mut stats = BTreeMap::new();
        let mut j = Judgement::default();
        let reads = self.reads(all);
        if let Some((mine, theirs)) = reads {
            j = self.judge(mine.records, theirs.records);
            self.report(&j, mine, theirs, &mut log);
            stats.insert("reads".into(), json!([mine.op.invoke, theirs.op.invoke]));
        }
        let nothing = reads.is_none().then(|| {
            let never: Vec<&str> = [self.view, self.other]
                .into_iter()
                .filter(|v| all.of(v).is_empty())
                .collect();
            format!(
                "{} never read ok, so nothing could be joined",
                never.join(" and ")
            )
        });
        let counts = counts([
            ("matched", j.matched),
            ("missing", log.total("missing")),
            ("duplicated", log.total("duplicated")),
            ("orphaned", log.total("orphaned")),
        ]);
        log.finish(nothing.as_deref(), counts, stats)
    }

    fn report(&self, j: &Judgement, mine: ViewRead, theirs: ViewRead, log: &mut AnomalyLog) {
        let (view, other, key) = (self.view, self.other, self.key);
        let reads = [mine.op, theirs.op];
        let where_ = || {
            format!(
                "{view} read {}, {other} read {}",
                ended(mine.op),
                ended(theirs.op)
            )
        };
        for record in &j.missing {
            log.record("missing", || {
                let explanation = format!(
                    "{view} record {record} has no {other} record whose {key} is {} ({})",
                    id(record),
                    where_()
                );
                let details = json!({"view": view, "record": record, "other": other});
                anomaly("missing", reads, explanation, details)
            });
        }
        for (record, matches) in &j.duplicated {
            log.record("duplicated", || {
                let explanation = format!(
                    "{view} record {record} has {} {other} records whose {key} is {} ({})",
                    matches.len(),
                    id(record),
                    where_()
                );
                let details =
                    json!({"view": view, "record": record, "other": other, "matches": matches});
                anomaly("duplicated", reads, explanation, details)
            });
        }
        for record in &j.orphaned {
            log.record("orphaned", || {
                let why = match self.expect {
                    Expect::One => format!("names no {view} record that passes the filter"),
                    Expect::None => format!("names a {view} record that should have none"),
                };
                let explanation = format!(
                    "{other} record {record} has {key} {} which {why} ({})",
                    field(record, key),
                    where_()
                );
                let details = json!({"other": other, "record": record, "view": view});
                anomaly("orphaned", reads, explanation, details)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Relation;
    use super::*;
    use crate::checker::Verdict;
    use crate::checker::test_support::{check_relation, round, witnesses};

    fn matches(expect: Expect, status: &str) -> Relation {
        Relation::Matches {
            view: "orders".into(),
            filter: Filter(vec![("status".into(), vec![Value::from(status)])]),
            other: "payments".into(),
            other_filter: Filter(vec![("kind".into(), vec![Value::from("capture")])]),
            key: "order_id".into(),
            expect,
        }
    }

    const ORDERS: &str = "[{id 1 status confirmed} {id 2 status confirmed} {id 3 status confirmed} {id 4 status cancelled}]";

    #[test]
    fn each_confirmed_order_needs_exactly_one_capture_and_each_capture_an_order() {
        let payments = "[{id p1 order_id 1 kind capture} {id p2 order_id 3 kind capture} \
                        {id p3 order_id \"3\" kind capture} {id p4 order_id 4 kind capture} \
                        {id p5 order_id 2 kind refund}]";
        let script = round(1, 100, &[("orders", ORDERS), ("payments", payments)]);
        let (r, c) = check_relation(matches(Expect::One, "confirmed"), &script);
        assert_eq!(
            witnesses(&r),
            [
                ("duplicated", vec![0, 1, 2, 3]),
                ("missing", vec![0, 1, 2, 3]),
                ("orphaned", vec![0, 1, 2, 3])
            ]
        );
        assert_eq!(r.anomalies[0].details["record"]["id"], 3);
        assert_eq!(r.anomalies[0].details["matches"][1]["id"], "p3");
        assert_eq!(r.anomalies[1].details["record"]["id"], 2);
        assert_eq!(r.anomalies[2].details["record"]["id"], "p4");
        assert_eq!(r.counts["matched"], 1);
        assert_eq!(
            c.unmet,
            [
                "matches(orders→payments): 1 orders record(s) without a match in payments: 2; 1 \
              orders record(s) with several matches in payments: 3; 1 orphaned payments \
              record(s): p4"
            ]
        );
    }

    #[test]
    fn one_capture_per_confirmed_order_is_valid() {
        let payments = "[{id p1 order_id 1 kind capture} {id p2 order_id 2 kind capture} \
                        {id p3 order_id 3 kind capture} {id p4 order_id 4 kind refund}]";
        let script = round(1, 100, &[("orders", ORDERS), ("payments", payments)]);
        let (r, c) = check_relation(matches(Expect::One, "confirmed"), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert_eq!(r.counts["matched"], 3);
        assert!(c.converged);
    }

    #[test]
    fn a_capture_for_a_cancelled_order_is_orphaned_when_none_is_expected() {
        let payments = "[{id p1 order_id 1 kind capture} {id p4 order_id 4 kind capture}]";
        let script = round(1, 100, &[("orders", ORDERS), ("payments", payments)]);
        let (r, _) = check_relation(matches(Expect::None, "cancelled"), &script);
        assert_eq!(witnesses(&r), [("orphaned", vec![0, 1, 2, 3])]);
        assert_eq!(r.anomalies[0].details["record"]["id"], "p4");
        let payments = "[{id p1 order_id 1 kind capture} {id p4 order_id 4 kind refund}]";
        let script = round(1, 100, &[("orders", ORDERS), ("payments", payments)]);
        let (r, _) = check_relation(matches(Expect::None, "cancelled"), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    }

    #[test]
    fn the_latest_round_reading_both_views_is_judged() {
        let good = "[{id p1 order_id 1 kind capture} {id p2 order_id 2 kind capture} \
                    {id p3 order_id 3 kind capture}]";
        let script = round(1, 100, &[("orders", ORDERS), ("payments", "[]")])
            + &round(2, 200, &[("orders", ORDERS), ("payments", good)])
            + &round(3, 300, &[("orders", "fail"), ("payments", "[]")]);
        let (r, c) = check_relation(matches(Expect::One, "confirmed"), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert_eq!(r.stats["reads"], json!([4, 6]));
        assert!(c.converged);
        assert_eq!(
            c.unmet,
            ["matches(orders→payments): orders and payments not both read ok in this round"]
        );
    }

    #[test]
    fn a_view_never_read_is_unknown_naming_it() {
        let script = round(1, 100, &[("orders", ORDERS)]);
        let (r, _) = check_relation(matches(Expect::One, "confirmed"), &script);
        assert_eq!(r.valid, Verdict::Unknown);
        assert!(
            r.stats["reason"]
                .as_str()
                .unwrap()
                .starts_with("payments never read ok")
        );
    }
}

//! `conserved`: a quantity moves between records but its total never changes, and no record
//! goes below a floor: Jepsen's bank checker (jepsen.tests.bank) over a view, for stock
//! reserved and released across services, or money moved between accounts.
//!
//! With `When::Always`, every ok read of the view is judged (main phase and rounds); with
//! `When::Settled`, only the view's read in the latest convergence round that read it ok, for
//! totals that in-flight work may disturb (a reservation not yet released) but that must hold
//! once the system settles. A history without rounds leaves a settled total unknown, never
//! valid. In a judged read the sum of `fields` over all records must equal `total`
//! (**wrong-total** otherwise), and no field may be below `floor` (**negative**). A read where
//! a field is missing or not an integer cannot be summed: it is counted as unreadable and
//! skipped.

use std::collections::BTreeMap;

use serde_json::json;

use super::super::CheckerResult;
use super::super::witness::{AnomalyLog, anomaly, counts, ended};
use super::When;
use super::view::{ViewRead, Views, field, id};
use crate::history::Value;

/// One relation's parameters, as the enum holds them.
pub struct Sum<'a> {
    pub view: &'a str,
    pub fields: &'a [String],
    pub total: i64,
    pub floor: Option<i64>,
    pub when: When,
}

/// What one read shows.
#[derive(Debug, PartialEq)]
pub enum Judgement<'r> {
    /// The sum, and each (record, field, value) below the floor.
    Summed(i128, Vec<(&'r Value, &'r str, i64)>),
    /// This record's field is missing or not an integer.
    Unreadable(&'r Value, &'r str),
}

/// The integer a field holds, accepting a float that is an exact integer (`5.0`).
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(*x as i64),
        _ => None,
    }
}

impl<'a> Sum<'a> {
    /// Sums one read's records.
    pub fn judge<'r>(&self, records: &'r [Value]) -> Judgement<'r>
    where
        'a: 'r,
    {
        let mut sum = 0i128;
        let mut below = Vec::new();
        for record in records {
            for name in self.fields {
                let Some(value) = integer(field(record, name)) else {
                    return Judgement::Unreadable(record, name);
                };
                sum += i128::from(value);
                if self.floor.is_some_and(|floor| value < floor) {
                    below.push((record, name.as_str(), value));
                }
            }
        }
        Judgement::Summed(sum, below)
    }

    /// The unmet line for one round's read of the view.
    pub fn unmet(&self, name: &str, records: Option<&[Value]>) -> Option<String> {
        let Some(records) = records else {
            return Some(format!("{name}: {} not read ok in this round", self.view));
        };
        match self.judge(records) {
            Judgement::Unreadable(record, f) => Some(format!(
                "{name}: field {f} of record {} is {}, not an integer",
                id(record),
                field(record, f)
            )),
            Judgement::Summed(sum, below) => {
                let mut parts = Vec::new();
                if sum != i128::from(self.total) {
                    parts.push(format!("the total is {sum}, not {}", self.total));
                }
                if let Some((record, f, value)) = below.first() {
                    parts.push(format!(
                        "{} field(s) below {}, e.g. {f} of record {} is {value}",
                        below.len(),
                        self.floor.unwrap_or_default(),
                        id(record)
                    ));
                }
                (!parts.is_empty()).then(|| format!("{name}: {}", parts.join("; ")))
            }
        }
    }

    /// The reads `when` picks, or why there are none to judge.
    fn reads<'h>(&self, all: &Views<'h>) -> Result<Vec<ViewRead<'h>>, String> {
        let view = self.view;
        match self.when {
            When::Always if all.of(view).is_empty() => {
                Err(format!("{view} was never read ok, so no total was seen"))
            }
            When::Always => Ok(all.of(view).to_vec()),
            When::Settled if all.rounds.is_empty() => Err(format!(
                "when = \"settled\" judges {view} in the convergence phase's last round, but \
                 the history has no convergence rounds (the run stopped before that phase, or \
                 it declared no relations)"
            )),
            When::Settled => match all.rounds.iter().rev().find_map(|r| r.read(view)) {
                Some(read) => Ok(vec![read]),
                None => Err(format!(
                    "when = \"settled\" judges {view} in the convergence phase's last round, \
                     but none of the {} round(s) read it ok",
                    all.rounds.len()
                )),
            },
        }
    }

    /// Checks the reads `when` picks (see the module docs).
    pub fn check(&self, all: &Views) -> CheckerResult {
        let mut log = AnomalyLog::default();
        let mut stats = BTreeMap::new();
        if self.when == When::Settled {
            stats.insert("when".into(), json!("settled"));
        }
        let (reads, none) = match self.reads(all) {
            Ok(reads) => (reads, None),
            Err(why) => (Vec::new(), Some(why)),
        };
        let mut unreadable = 0u64;
        let mut first_unreadable = None;
        for read in &reads {
            match self.judge(read.records) {
                Judgement::Unreadable(record, f) => {
                    unreadable += 1;
                    first_unreadable.get_or_insert((read.op.invoke, record, f));
                }
                Judgement::Summed(sum, below) => self.report(*read, sum, &below, &mut log),
            }
        }
        stats.insert("unreadable".into(), json!(unreadable));
        if let Some((index, record, f)) = first_unreadable {
            let why = format!(
                "field {f} of record {} in the read invoked at index {index} is {}, not an \
                 integer",
                id(record),
                field(record, f)
            );
            stats.insert("first-unreadable".into(), json!(why));
        }
        let nothing = match (none, first_unreadable) {
            (Some(why), _) => Some(why),
            (None, Some((_, record, f))) if unreadable == reads.len() as u64 => Some(format!(
                "no read of {} could be summed: field {f} is missing or not an integer (record \
                 {}: {})",
                self.view,
                id(record),
                field(record, f)
            )),
            _ => None,
        };
        let counts = counts([
            ("reads", reads.len() as u64),
            ("unreadable", unreadable),
            ("wrong-total", log.total("wrong-total")),
            ("negative", log.total("negative")),
        ]);
        log.finish(nothing.as_deref(), counts, stats)
    }

    fn report(
        &self,
        read: ViewRead,
        sum: i128,
        below: &[(&Value, &str, i64)],
        log: &mut AnomalyLog,
    ) {
        let view = self.view;
        if sum != i128::from(self.total) {
            log.record("wrong-total", || {
                let explanation = format!(
                    "the {} of {view}'s records sum to {sum} in the read {}, not {}",
                    self.fields.join(" + "),
                    ended(read.op),
                    self.total
                );
                let details = json!({
                    "view": view, "sum": i64::try_from(sum).map_or_else(|_| json!(sum.to_string()), |s| json!(s)),
                    "total": self.total, "read": read.op.invoke,
                });
                anomaly("wrong-total", [read.op], explanation, details)
            });
        }
        for (record, f, value) in below {
            log.record("negative", || {
                let floor = self.floor.unwrap_or_default();
                let explanation = format!(
                    "{f} of {view} record {} is {value}, below {floor}, in the read {}",
                    id(record),
                    ended(read.op)
                );
                let details = json!({
                    "view": view, "id": id(record), "field": f, "value": value, "floor": floor,
                    "read": read.op.invoke,
                });
                anomaly("negative", [read.op], explanation, details)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Relation, When};
    use crate::checker::Verdict;
    use crate::checker::test_support::{check_relation, round, witnesses};

    fn conserved() -> Relation {
        Relation::Conserved {
            view: "stock".into(),
            fields: vec!["available".into(), "reserved".into()],
            total: 10,
            floor: Some(0),
            when: When::Always,
        }
    }

    #[test]
    fn a_read_whose_sum_differs_from_the_total_is_wrong_total_with_the_sum() {
        let script = "10 1 i view:stock
                      20 1 ok view:stock {records [{id a available 4 reserved 1} {id b available 5 reserved 0}]}
                      30 1 i view:stock
                      40 1 ok view:stock {records [{id a available 4 reserved 1} {id b available 3 reserved 0}]}
                      ".to_owned()
            + &round(1, 100, &[("stock", "[{id a available 5 reserved 0} {id b available 5 reserved 0}]")]);
        let (r, c) = check_relation(conserved(), &script);
        assert_eq!(witnesses(&r), [("wrong-total", vec![2, 3])]);
        let d = &r.anomalies[0].details;
        assert_eq!(
            (&d["sum"], &d["total"], &d["read"]),
            (
                &serde_json::json!(8),
                &serde_json::json!(10),
                &serde_json::json!(2)
            )
        );
        assert!(c.converged);
    }

    #[test]
    fn a_field_below_the_floor_is_negative_even_when_the_total_holds() {
        let script = round(
            1,
            100,
            &[(
                "stock",
                "[{id a available -2 reserved 2} {id b available 10 reserved 0}]",
            )],
        );
        let (r, c) = check_relation(conserved(), &script);
        assert_eq!(witnesses(&r), [("negative", vec![0, 1])]);
        let d = &r.anomalies[0].details;
        assert_eq!(
            (&d["id"], &d["field"], &d["value"]),
            (
                &serde_json::json!("a"),
                &serde_json::json!("available"),
                &serde_json::json!(-2)
            )
        );
        assert_eq!(
            c.unmet,
            [
                "conserved(stock.available+reserved): 1 field(s) below 0, e.g. available of record a is -2"
            ]
        );
    }

    fn settled() -> Relation {
        Relation::Conserved {
            view: "stock".into(),
            fields: vec!["available".into(), "sold".into()],
            total: 10,
            floor: Some(0),
            when: When::Settled,
        }
    }

    #[test]
    fn a_settled_total_judges_only_the_last_round() {
        let script = "10 1 i view:stock
                      20 1 ok view:stock {records [{id a available 4 sold 1}]}
                      "
        .to_owned()
            + &round(1, 100, &[("stock", "[{id a available 7 sold 2}]")])
            + &round(2, 200, &[("stock", "[{id a available 8 sold 2}]")]);
        let (r, c) = check_relation(settled(), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert_eq!(r.counts["reads"], 1);
        assert_eq!(r.stats["when"], "settled");
        // Round 1's sum was wrong, so the phase had to wait for round 2.
        assert_eq!((c.converged, c.rounds), (true, 2));
        assert!(c.unmet.is_empty());
        let mut always = settled();
        if let Relation::Conserved { when, .. } = &mut always {
            *when = When::Always;
        }
        let (always, _) = check_relation(always, &script);
        assert_eq!(always.counts["wrong-total"], 2);
    }

    #[test]
    fn a_settled_total_still_wrong_in_the_last_round_is_wrong_total_and_unmet() {
        let script = round(1, 100, &[("stock", "[{id a available 7 sold 2}]")])
            + &round(2, 200, &[("stock", "[{id a available 6 sold 2}]")])
            + &round(3, 300, &[("stock", "fail")]);
        let (r, c) = check_relation(settled(), &script);
        assert_eq!(witnesses(&r), [("wrong-total", vec![2, 3])]);
        assert_eq!(r.anomalies[0].details["sum"], 8);
        assert!(!c.converged);
        assert_eq!(
            c.unmet,
            ["conserved(stock.available+sold, settled): stock not read ok in this round"]
        );
        let (_, c) = check_relation(settled(), &script[..script.find("300 1 i").unwrap()]);
        assert_eq!(
            c.unmet,
            ["conserved(stock.available+sold, settled): the total is 8, not 10"]
        );
    }

    #[test]
    fn a_settled_total_without_convergence_rounds_is_unknown_with_the_reason() {
        let script = "10 1 i view:stock
                      20 1 ok view:stock {records [{id a available 8 sold 2}]}";
        let (r, _) = check_relation(settled(), script);
        assert_eq!(r.valid, Verdict::Unknown);
        let reason = r.stats["reason"].as_str().unwrap();
        assert!(reason.contains("no convergence rounds"), "{reason}");
        let (r, _) = check_relation(settled(), &round(1, 100, &[("stock", "fail")]));
        assert_eq!(r.valid, Verdict::Unknown);
        let reason = r.stats["reason"].as_str().unwrap();
        assert!(
            reason.contains("none of the 1 round(s) read it ok"),
            "{reason}"
        );
    }

    #[test]
    fn a_read_with_a_missing_field_is_unreadable_and_skipped() {
        let script = "10 1 i view:stock
                      20 1 ok view:stock {records [{id a available 4} {id b available 5 reserved 0}]}
                      30 1 i view:stock
                      40 1 ok view:stock {records [{id a available 10 reserved 0}]}";
        let (r, _) = check_relation(conserved(), script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert_eq!(r.stats["unreadable"], 1);
        assert_eq!(r.counts["reads"], 2);
    }

    #[test]
    fn every_read_unreadable_is_unknown_naming_the_field() {
        let script = "10 1 i view:stock
                      20 1 ok view:stock {records [{id a available x reserved 0}]}";
        let (r, _) = check_relation(conserved(), script);
        assert_eq!(r.valid, Verdict::Unknown);
        let reason = r.stats["reason"].as_str().unwrap();
        assert!(reason.contains("field available"), "{reason}");
    }
}

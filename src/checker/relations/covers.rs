//! `covers`: a view (a read model, a search index, a replica) holds every record whose write
//! was acknowledged, and none whose write definitely failed: Jepsen's set-full judgement on
//! the final read (jepsen.checker/set-full), applied across services.
//!
//! The writes are the ops with `f == op`; a write's record id is its value (the invocation's:
//! the runner repeats it in the completion). Per id, the strongest outcome counts: an `ok`
//! write must be present in the view's last read (**lost** otherwise) and, with a filter,
//! its record there must pass it (**missing** otherwise: an acknowledged order that is there
//! but never reached a final status); an id whose every write ended `fail` must be absent
//! (**unexpected** otherwise), and an `info` write may go either way (counted). The last read is the view's read in the latest round that read it,
//! or, without rounds, its last ok read; an ok write that completed after that read began may
//! not be visible to it yet and is not judged.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde_json::json;

use super::super::CheckerResult;
use super::super::witness::{AnomalyLog, anomaly, counts, ended};
use super::Filter;
use super::view::{ViewRead, Views, id, list_ids, text};
use crate::history::{History, Op, Outcome, Value};

/// How many ids an `unmet` line lists.
const IDS_SHOWN: usize = 10;

/// The writes of one op name, by record id.
#[derive(Clone, Debug, Default)]
pub struct Written {
    ids: FxHashMap<String, Attempt>,
}

/// The strongest outcome among the writes of one id, and the first write that had it.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    outcome: Outcome,
    /// Position in `History::ops` of that write.
    pos: usize,
}

/// Ok beats info beats fail: one ok write means the record must be there.
fn strength(outcome: Outcome) -> u8 {
    match outcome {
        Outcome::Fail => 0,
        Outcome::Info => 1,
        Outcome::Ok => 2,
    }
}

impl Written {
    /// Every write with `f == op` in the history.
    pub fn from_history(op: &str, history: &History) -> Written {
        let mut ids: FxHashMap<String, Attempt> = FxHashMap::default();
        for (pos, write) in history.ops.iter().enumerate() {
            if &*write.f != op {
                continue;
            }
            let attempt = Attempt {
                outcome: write.outcome,
                pos,
            };
            ids.entry(text(&write.value).into_owned())
                .and_modify(|a| {
                    if strength(attempt.outcome) > strength(a.outcome) {
                        *a = attempt;
                    }
                })
                .or_insert(attempt);
        }
        Written { ids }
    }
}

/// One relation's parameters, as the enum holds them, with the writes of its op.
pub struct Cover<'a> {
    pub op: &'a str,
    pub view: &'a str,
    pub filter: &'a Filter,
    pub written: &'a Written,
}

/// What one read of the view shows about the writes.
#[derive(Debug, Default, PartialEq)]
pub struct Judgement<'r> {
    /// Ok writes whose id the read lacks: (id, position of the write), by position.
    pub lost: Vec<(String, usize)>,
    /// Ok writes whose id the read holds, but with no record that passes the filter: (id,
    /// position of the write, the record), by position.
    pub missing: Vec<(String, usize, &'r Value)>,
    /// Ids whose every write failed but the read holds, by position.
    pub unexpected: Vec<(String, usize)>,
    pub info_present: u64,
    pub info_absent: u64,
    /// Ok writes present in the read (and passing the filter).
    pub present: u64,
    /// Ok writes that completed after the read began, so it need not show them.
    pub concurrent: u64,
}

impl Cover<'_> {
    /// Judges `records` (one read of the view) against the writes; `visible(pos)` says
    /// whether the ok write at that position had completed before the read began.
    pub fn judge<'r>(
        &self,
        records: &'r [Value],
        visible: impl Fn(usize) -> bool,
    ) -> Judgement<'r> {
        // Each id's record, one that passes the filter if any does.
        let mut present: FxHashMap<Cow<str>, &Value> = FxHashMap::default();
        for record in records {
            present
                .entry(id(record))
                .and_modify(|kept| {
                    if !self.filter.passes(kept) && self.filter.passes(record) {
                        *kept = record;
                    }
                })
                .or_insert(record);
        }
        let mut j = Judgement::default();
        for (id, a) in &self.written.ids {
            let here = present.get(id.as_str()).copied();
            match (a.outcome, here) {
                (Outcome::Ok, _) if !visible(a.pos) => j.concurrent += 1,
                (Outcome::Ok, Some(record)) if !self.filter.passes(record) => {
                    j.missing.push((id.clone(), a.pos, record));
                }
                (Outcome::Ok, Some(_)) => j.present += 1,
                (Outcome::Ok, None) => j.lost.push((id.clone(), a.pos)),
                (Outcome::Fail, Some(_)) => j.unexpected.push((id.clone(), a.pos)),
                (Outcome::Fail, None) => {}
                (Outcome::Info, Some(_)) => j.info_present += 1,
                (Outcome::Info, None) => j.info_absent += 1,
            }
        }
        j.lost.sort_by_key(|l| l.1);
        j.missing.sort_by_key(|m| m.1);
        j.unexpected.sort_by_key(|u| u.1);
        j
    }

    /// The unmet line for one round's read of the view (`None` when it meets the relation).
    pub fn unmet(&self, name: &str, records: Option<&[Value]>) -> Option<String> {
        let (op, view) = (self.op, self.view);
        let Some(records) = records else {
            return Some(format!("{name}: {view} not read ok in this round"));
        };
        let j = self.judge(records, |_| true);
        let ids = |found: &[(String, usize)]| {
            let ids: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
            list_ids(&ids, IDS_SHOWN)
        };
        let mut parts = Vec::new();
        if !j.lost.is_empty() {
            parts.push(format!(
                "{view} lacks {} acknowledged {op}(s): {}",
                j.lost.len(),
                ids(&j.lost)
            ));
        }
        if !j.missing.is_empty() {
            let shown: Vec<String> = j
                .missing
                .iter()
                .map(|(id, _, record)| format!("{id} ({})", self.filter.fields_of(record)))
                .collect();
            parts.push(format!(
                "{view} holds {} acknowledged {op}(s) whose record fails {}: {}",
                j.missing.len(),
                self.filter.describe(),
                list_ids(&shown, IDS_SHOWN)
            ));
        }
        if !j.unexpected.is_empty() {
            parts.push(format!(
                "{view} holds {} failed {op}(s): {}",
                j.unexpected.len(),
                ids(&j.unexpected)
            ));
        }
        (!parts.is_empty()).then(|| format!("{name}: {}", parts.join("; ")))
    }

    /// Checks `covers` on the view's last read (see the module docs).
    pub fn check(&self, history: &History, all: &Views) -> CheckerResult {
        let (op, view, written) = (self.op, self.view, self.written);
        let mut log = AnomalyLog::default();
        let mut stats = BTreeMap::new();
        let read = all.last(view);
        let nothing = match read {
            None => Some(format!(
                "{view} was never read ok, so no write could be checked"
            )),
            Some(_) if written.ids.is_empty() => Some(format!(
                "the history has no {op} op, so {view} had nothing to cover"
            )),
            Some(_) => None,
        };
        let mut j = Judgement::default();
        if let Some(read) = read.filter(|_| nothing.is_none()) {
            let began = read.op.invoke;
            let visible = |pos: usize| history.ops[pos].complete.is_some_and(|c| c < began);
            j = self.judge(read.records, visible);
            self.report(&j, read, history, &mut log);
            stats.insert("read".into(), json!(read.op.invoke));
        }
        if !self.filter.is_empty() {
            stats.insert("filter".into(), json!(self.filter.describe()));
        }
        stats.insert("info-present".into(), json!(j.info_present));
        stats.insert("info-absent".into(), json!(j.info_absent));
        let acknowledged = written
            .ids
            .values()
            .filter(|a| a.outcome == Outcome::Ok)
            .count();
        let counts = counts([
            ("attempted", written.ids.len() as u64),
            ("acknowledged", acknowledged as u64),
            ("present", j.present),
            ("lost", log.total("lost")),
            ("missing", log.total("missing")),
            ("unexpected", log.total("unexpected")),
            ("concurrent", j.concurrent),
        ]);
        log.finish(nothing.as_deref(), counts, stats)
    }

    fn report(&self, j: &Judgement, read: ViewRead, history: &History, log: &mut AnomalyLog) {
        let (op, view) = (self.op, self.view);
        let ops = &history.ops;
        for (id, pos) in &j.lost {
            log.record("lost", || {
                let write: &Op = &ops[*pos];
                let explanation = format!(
                    "{op} of id {id} was acknowledged ({}) but {view}'s last read ({}) does \
                     not hold it",
                    ended(write),
                    ended(read.op)
                );
                let details = json!({
                    "id": id, "write": write.invoke, "read": read.op.invoke, "view": view,
                });
                anomaly("lost", [write, read.op], explanation, details)
            });
        }
        for (id, pos, record) in &j.missing {
            log.record("missing", || {
                let write: &Op = &ops[*pos];
                let explanation = format!(
                    "{op} of id {id} was acknowledged ({}) and {view}'s last read ({}) holds \
                     it, but with {}, not {}",
                    ended(write),
                    ended(read.op),
                    self.filter.fields_of(record),
                    self.filter.describe()
                );
                let details = json!({
                    "id": id, "write": write.invoke, "read": read.op.invoke, "view": view,
                    "record": record, "filter": self.filter.describe(),
                });
                anomaly("missing", [write, read.op], explanation, details)
            });
        }
        for (id, pos) in &j.unexpected {
            log.record("unexpected", || {
                let write: &Op = &ops[*pos];
                let explanation = format!(
                    "{view}'s last read ({}) holds id {id}, but every {op} of it failed \
                     (first: {})",
                    ended(read.op),
                    ended(write)
                );
                let details = json!({
                    "id": id, "write": write.invoke, "read": read.op.invoke, "view": view,
                });
                anomaly("unexpected", [write, read.op], explanation, details)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Filter, Relation, Writes, unmet};
    use super::*;
    use crate::checker::Verdict;
    use crate::checker::test_support::{check_relation, history, parse_value, round, witnesses};

    fn covers() -> Relation {
        Relation::Covers {
            view: "replica".into(),
            op: "add".into(),
            filter: Filter::default(),
        }
    }

    const WRITES: &str = "0 0 i add 1
                          5 0 ok add 1
                          6 0 i add 2
                          8 0 fail add 2
                          10 0 i add 3
                          15 0 info add 3
                          16 2 i add 4
                          18 2 ok add 4
                          ";

    #[test]
    fn an_acknowledged_write_missing_from_the_last_read_is_lost() {
        let script = WRITES.to_owned()
            + &round(1, 100, &[("replica", "[]")])
            + &round(2, 200, &[("replica", "[{id 4} {id 3}]")]);
        let (r, _) = check_relation(covers(), &script);
        assert_eq!(witnesses(&r), [("lost", vec![0, 1, 10, 11])]);
        let details = &r.anomalies[0].details;
        assert_eq!(
            (&details["id"], &details["write"], &details["read"]),
            (&json!("1"), &json!(0), &json!(10))
        );
        assert_eq!((r.counts["lost"], r.counts["present"]), (1, 1));
        assert_eq!(
            (&r.stats["info-present"], &r.stats["info-absent"]),
            (&json!(1), &json!(0))
        );
    }

    #[test]
    fn a_failed_write_present_in_the_last_read_is_unexpected() {
        let script =
            WRITES.to_owned() + &round(1, 100, &[("replica", "[{id 1} {id \"2\"} {id 4}]")]);
        let (r, _) = check_relation(covers(), &script);
        assert_eq!(witnesses(&r), [("unexpected", vec![2, 3, 8, 9])]);
        assert_eq!(r.stats["info-absent"], 1);
    }

    #[test]
    fn every_acknowledged_write_present_and_no_failed_one_is_valid() {
        let script = WRITES.to_owned() + &round(1, 100, &[("replica", "[{id 1} {id 4}]")]);
        let (r, c) = check_relation(covers(), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert!(c.converged);
    }

    #[test]
    fn an_earlier_round_does_not_count_only_the_latest_does() {
        let script = WRITES.to_owned()
            + &round(1, 100, &[("replica", "[{id 1} {id 4}]")])
            + &round(2, 200, &[("replica", "[{id 4}]")]);
        let (r, c) = check_relation(covers(), &script);
        assert_eq!(r.anomaly_types, ["lost"]);
        assert_eq!(
            c.unmet,
            ["covers(add→replica): replica lacks 1 acknowledged add(s): 1"]
        );
    }

    #[test]
    fn without_rounds_the_last_ok_read_is_judged_but_not_for_writes_it_raced() {
        let script = "0 0 i add 1
                      5 0 ok add 1
                      10 1 i view:replica
                      12 0 i add 2
                      14 0 ok add 2
                      20 1 ok view:replica {records [{id 1}]}
                      30 1 i view:replica
                      40 1 fail view:replica";
        let (r, _) = check_relation(covers(), script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert_eq!((r.counts["present"], r.counts["concurrent"]), (1, 1));
    }

    #[test]
    fn a_view_never_read_ok_is_unknown() {
        let (r, _) = check_relation(
            covers(),
            &(WRITES.to_owned() + "30 1 i view:replica\n40 1 info view:replica"),
        );
        assert_eq!(r.valid, Verdict::Unknown);
        assert!(
            r.stats["reason"]
                .as_str()
                .unwrap()
                .contains("replica was never read ok")
        );
    }

    fn covers_final() -> Relation {
        Relation::Covers {
            view: "replica".into(),
            op: "add".into(),
            filter: Filter(vec![(
                "status".into(),
                vec![Value::from("CONFIRMED"), Value::from("CANCELLED")],
            )]),
        }
    }

    #[test]
    fn an_acknowledged_write_whose_record_fails_the_filter_is_missing_with_its_fields() {
        let script = WRITES.to_owned()
            + &round(
                1,
                100,
                &[("replica", "[{id 1 status CONFIRMED} {id 4 status PENDING}]")],
            );
        let (r, c) = check_relation(covers_final(), &script);
        assert_eq!(witnesses(&r), [("missing", vec![6, 7, 8, 9])]);
        let a = &r.anomalies[0];
        assert_eq!(
            (&a.details["id"], &a.details["record"]),
            (&json!("4"), &json!({"id": 4, "status": "PENDING"}))
        );
        assert!(
            a.explanation
                .contains("with status = PENDING, not status in [CONFIRMED, CANCELLED]"),
            "{}",
            a.explanation
        );
        assert_eq!((r.counts["missing"], r.counts["present"]), (1, 1));
        assert_eq!(
            c.unmet,
            [
                "covers(add→replica): replica holds 1 acknowledged add(s) whose record fails \
                 status in [CONFIRMED, CANCELLED]: 4 (status = PENDING)"
            ]
        );
    }

    #[test]
    fn records_passing_the_filter_in_the_last_round_are_valid_and_failed_writes_stay_unexpected() {
        let settled = WRITES.to_owned()
            + &round(1, 100, &[("replica", "[{id 1 status PENDING} {id 4}]")])
            + &round(
                2,
                200,
                &[(
                    "replica",
                    "[{id 1 status CONFIRMED} {id 4 status CANCELLED} {id 3 status PENDING}]",
                )],
            );
        let (r, c) = check_relation(covers_final(), &settled);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert_eq!((c.converged, c.rounds), (true, 2));
        let failed = WRITES.to_owned()
            + &round(
                1,
                100,
                &[(
                    "replica",
                    "[{id 1 status CONFIRMED} {id 4 status CONFIRMED} {id 2 status PENDING}]",
                )],
            );
        let (r, _) = check_relation(covers_final(), &failed);
        assert_eq!(witnesses(&r), [("unexpected", vec![2, 3, 8, 9])]);
    }

    #[test]
    fn unmet_names_lost_and_unexpected_ids_of_one_round() {
        let h = history(WRITES);
        let writes = Writes::from_history(&[covers()], &h);
        let round = |records: &str| {
            let records = parse_value(records).as_list().unwrap().to_vec();
            std::collections::BTreeMap::from([("replica".to_owned(), records)])
        };
        assert_eq!(
            unmet(&[covers()], &writes, &round("[{id 2}]")),
            [
                "covers(add→replica): replica lacks 2 acknowledged add(s): 1, 4; replica holds 1 \
              failed add(s): 2"
            ]
        );
        assert!(unmet(&[covers()], &writes, &round("[{id 1} {id 4} {id 3}]")).is_empty());
    }
}

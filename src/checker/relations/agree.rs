//! `agree`: two or more views hold the same records once the system has converged: replicas
//! of one service, a read model and its source (eventual consistency in the sense of Vogels
//! 2009 and Bailis & Ghodsi 2013: after writes stop, every replica ends with the same state).
//!
//! Only convergence-phase rounds are compared: main-phase reads race with writes, so their
//! differences mean nothing. Over the rounds in which every view was read ok:
//! - **unconverged**: the views still differ in the latest such round, with the exact
//!   difference (ids only in one view, ids whose fields differ, with both values);
//! - **divergent**: they agreed in one round and differed in a later one, although no write
//!   (a client op other than a view read that ended ok or info) ran between the two rounds'
//!   reads: state that was the same came apart on its own.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde_json::json;

use super::super::CheckerResult;
use super::super::witness::{AnomalyLog, anomaly, counts, secs};
use super::Compare;
use super::view::{Snapshot, Views, facts, id, id_order, list_ids};
use crate::history::{History, Op, Outcome, Value};

/// How many ids of each kind an anomaly's details and an `unmet` line list.
const IDS_SHOWN: usize = 20;

/// What one view holds that the reference view (the first named) does not, and back.
#[derive(Debug, Default, PartialEq)]
pub struct Difference {
    pub reference: String,
    pub view: String,
    /// Ids the reference holds and the view lacks (once per missing copy), ascending.
    pub lacks: Vec<String>,
    /// Ids the view holds and the reference lacks (once per extra copy), ascending.
    pub extra: Vec<String>,
    /// Ids both hold with different fields (`Compare::Records` only): id, reference's
    /// record(s), view's record(s).
    pub changed: Vec<(String, serde_json::Value, serde_json::Value)>,
}

impl Difference {
    fn is_empty(&self) -> bool {
        self.lacks.is_empty() && self.extra.is_empty() && self.changed.is_empty()
    }

    /// `replica lacks 17, 23 that primary holds; replica holds 40 that primary lacks`.
    pub fn describe(&self) -> String {
        let (reference, view) = (&self.reference, &self.view);
        let mut parts = Vec::new();
        if !self.lacks.is_empty() {
            let ids = list_ids(&self.lacks, IDS_SHOWN);
            parts.push(format!("{view} lacks ids {ids} that {reference} holds"));
        }
        if !self.extra.is_empty() {
            let ids = list_ids(&self.extra, IDS_SHOWN);
            parts.push(format!("{view} holds ids {ids} that {reference} lacks"));
        }
        if !self.changed.is_empty() {
            let ids: Vec<&str> = self.changed.iter().map(|c| c.0.as_str()).collect();
            let (id, a, b) = &self.changed[0];
            parts.push(format!(
                "ids {} have different fields in {view} and {reference} (id {id}: {a} in \
                 {reference}, {b} in {view})",
                list_ids(&ids, IDS_SHOWN)
            ));
        }
        parts.join("; ")
    }

    fn details(&self) -> serde_json::Value {
        let changed: Vec<_> = self
            .changed
            .iter()
            .take(IDS_SHOWN)
            .map(|(id, a, b)| json!({"id": id, &self.reference: a, &self.view: b}))
            .collect();
        json!({
            "reference": self.reference, "view": self.view,
            "lacks": &self.lacks[..self.lacks.len().min(IDS_SHOWN)],
            "lacks-count": self.lacks.len(),
            "extra": &self.extra[..self.extra.len().min(IDS_SHOWN)],
            "extra-count": self.extra.len(),
            "changed": changed, "changed-count": self.changed.len(),
        })
    }
}

/// What comparing the views in one snapshot found.
#[derive(Debug, PartialEq)]
pub enum Judgement {
    /// These views were not read ok.
    Unread(Vec<String>),
    /// Each view that differs from the first, with the difference; empty when they agree.
    Differ(Vec<Difference>),
}

/// Compares every view with the first one in `snapshot`.
pub fn judge(views: &[String], compare: Compare, snapshot: &Snapshot) -> Judgement {
    let unread: Vec<String> = views
        .iter()
        .filter(|v| !snapshot.contains_key(v.as_str()))
        .cloned()
        .collect();
    if !unread.is_empty() {
        return Judgement::Unread(unread);
    }
    let Some((reference, others)) = views.split_first() else {
        return Judgement::Differ(Vec::new());
    };
    let differences = others
        .iter()
        .map(|view| difference(reference, view, compare, snapshot))
        .filter(|d| !d.is_empty())
        .collect();
    Judgement::Differ(differences)
}

/// The unmet line for one snapshot, if the views do not agree in it.
pub fn unmet(
    name: &str,
    views: &[String],
    compare: Compare,
    snapshot: &Snapshot,
) -> Option<String> {
    match judge(views, compare, snapshot) {
        Judgement::Unread(unread) => Some(format!(
            "{name}: {} not read ok in this round",
            unread.join(", ")
        )),
        Judgement::Differ(d) if d.is_empty() => None,
        Judgement::Differ(d) => {
            let parts: Vec<String> = d.iter().map(Difference::describe).collect();
            Some(format!("{name}: {}", parts.join("; ")))
        }
    }
}

fn difference(reference: &str, view: &str, compare: Compare, snapshot: &Snapshot) -> Difference {
    let mut by_id: FxHashMap<Cow<str>, (Vec<&Value>, Vec<&Value>)> = FxHashMap::default();
    for record in snapshot[reference] {
        by_id.entry(id(record)).or_default().0.push(record);
    }
    for record in snapshot[view] {
        by_id.entry(id(record)).or_default().1.push(record);
    }
    let mut ids: Vec<_> = by_id.into_iter().collect();
    ids.sort_by(|a, b| id_order(&a.0, &b.0));
    let mut d = Difference {
        reference: reference.to_owned(),
        view: view.to_owned(),
        ..Difference::default()
    };
    for (id, (mine, theirs)) in ids {
        let (a, b) = (mine.len(), theirs.len());
        d.lacks.extend((b..a).map(|_| id.to_string()));
        d.extra.extend((a..b).map(|_| id.to_string()));
        if compare == Compare::Records && a == b && !same_facts(&mine, &theirs) {
            let show = |records: &[&Value]| match records {
                [one] => json!(one),
                many => json!(many),
            };
            d.changed.push((id.to_string(), show(&mine), show(&theirs)));
        }
    }
    d
}

fn same_facts(a: &[&Value], b: &[&Value]) -> bool {
    fn sorted<'v>(records: &[&'v Value]) -> Vec<Vec<(Cow<'v, str>, Cow<'v, str>)>> {
        let mut all: Vec<_> = records.iter().map(|r| facts(r)).collect();
        all.sort();
        all
    }
    sorted(a) == sorted(b)
}

/// Checks `agree` over the history's convergence rounds (see the module docs).
pub fn check(
    views: &[String],
    compare: Compare,
    history: &History,
    all: &Views,
    converged: &BTreeMap<String, serde_json::Value>,
) -> CheckerResult {
    let complete: Vec<_> = all
        .rounds
        .iter()
        .filter(|r| views.iter().all(|v| r.read(v).is_some()))
        .collect();
    let mut log = AnomalyLog::default();
    let mut stats = converged.clone();
    let mut agreed_rounds = 0;
    let writes = Writes::new(history);
    // The last round in which the views agreed, while no later round has differed yet.
    let mut agreed: Option<usize> = None;
    for (i, round) in complete.iter().enumerate() {
        let Judgement::Differ(d) = judge(views, compare, &round.snapshot()) else {
            unreachable!("complete rounds read every view");
        };
        if d.is_empty() {
            agreed_rounds += 1;
            agreed = Some(i);
            continue;
        }
        let Some(before) = agreed.take() else {
            continue;
        };
        let (from, to) = (complete[before].start(), round.end());
        if writes.between(from, to) {
            continue;
        }
        log.record("divergent", || {
            let explanation = format!(
                "{} agreed in round {} but differed in round {}, and no write ran between \
                 {} and {}: {}",
                views.join(" and "),
                complete[before].number,
                round.number,
                secs(from),
                secs(to),
                describe(&d)
            );
            let details = json!({
                "agreed-round": complete[before].number, "differed-round": round.number,
                "differences": d.iter().map(Difference::details).collect::<Vec<_>>(),
            });
            let ops = reads(views, complete[before]).chain(reads(views, round));
            anomaly("divergent", ops, explanation, details)
        });
    }
    let unknown = unknown_reason(views, all, complete.len());
    if let Some(last) = complete.last() {
        stats.insert("last-compared-round".into(), json!(last.number));
        if let Judgement::Differ(d) = judge(views, compare, &last.snapshot())
            && !d.is_empty()
        {
            let span = last.end().saturating_sub(complete[0].start());
            log.record("unconverged", || {
                let explanation = format!(
                    "after {} rounds over {}, {}",
                    all.rounds.len(),
                    secs(span),
                    describe(&d)
                );
                let details = json!({
                    "round": last.number,
                    "differences": d.iter().map(Difference::details).collect::<Vec<_>>(),
                });
                anomaly("unconverged", reads(views, last), explanation, details)
            });
        }
    }
    let counts = counts([
        ("rounds", all.rounds.len() as u64),
        ("compared-rounds", complete.len() as u64),
        ("agreeing-rounds", agreed_rounds),
        ("unconverged", log.total("unconverged")),
        ("divergent", log.total("divergent")),
    ]);
    log.finish(unknown.as_deref(), counts, stats)
}

fn describe(differences: &[Difference]) -> String {
    let parts: Vec<String> = differences.iter().map(Difference::describe).collect();
    parts.join("; ")
}

/// The reads of these views in one round.
fn reads<'a, 'h: 'a>(
    views: &'a [String],
    round: &'a super::view::RoundReads<'h>,
) -> impl Iterator<Item = &'h Op> + 'a {
    views.iter().filter_map(|v| round.read(v)).map(|r| r.op)
}

/// Why nothing could be compared, if nothing could.
fn unknown_reason(views: &[String], all: &Views, complete: usize) -> Option<String> {
    if complete > 0 {
        return None;
    }
    if all.rounds.is_empty() {
        return Some(format!(
            "the history has no convergence rounds, so {} were never compared after the \
             faults (main-phase reads race with writes)",
            views.join(" and ")
        ));
    }
    let never: Vec<&str> = views
        .iter()
        .filter(|v| all.rounds.iter().all(|r| r.read(v).is_none()))
        .map(String::as_str)
        .collect();
    Some(match never.is_empty() {
        false => format!(
            "view {} was never read ok in any of the {} rounds",
            never.join(", "),
            all.rounds.len()
        ),
        true => format!(
            "no round of {} read every one of {} ok",
            all.rounds.len(),
            views.join(", ")
        ),
    })
}

/// When writes ran: every client op other than a view read that may have taken effect,
/// as `[invoke, complete]` intervals, for "did any write run between these times?".
struct Writes {
    /// Invocation times, ascending.
    starts: Vec<u64>,
    /// `ends[i]`: the latest completion among the first `i + 1` writes.
    ends: Vec<u64>,
}

impl Writes {
    fn new(history: &History) -> Writes {
        let mut spans: Vec<(u64, u64)> = history
            .ops
            .iter()
            .filter(|op| !op.f.starts_with("view:") && op.outcome != Outcome::Fail)
            .map(|op| (op.invoke_time, op.end_time()))
            .collect();
        spans.sort_unstable();
        let starts = spans.iter().map(|s| s.0).collect();
        let ends = spans
            .iter()
            .scan(0, |latest, s| {
                *latest = s.1.max(*latest);
                Some(*latest)
            })
            .collect();
        Writes { starts, ends }
    }

    /// Whether some write's `[invoke, complete]` overlaps `[from, to]`.
    fn between(&self, from: u64, to: u64) -> bool {
        let begun = self.starts.partition_point(|&s| s <= to);
        begun > 0 && self.ends[begun - 1] >= from
    }
}

#[cfg(test)]
mod tests {
    use super::super::Relation;
    use super::*;
    use crate::checker::Verdict;
    use crate::checker::test_support::{check_relation, round, witnesses};

    fn agree(compare: Compare) -> Relation {
        Relation::Agree {
            views: vec!["primary".into(), "replica".into()],
            compare,
        }
    }

    #[test]
    fn views_still_different_in_the_last_round_are_unconverged_with_the_exact_difference() {
        let script = "0 0 i add 17\n5 0 ok add 17\n".to_owned()
            + &round(
                1,
                100,
                &[
                    ("primary", "[{id 17} {id 23} {id 5}]"),
                    ("replica", "[{id 5}]"),
                ],
            )
            + &round(
                2,
                200,
                &[
                    ("primary", "[{id 17} {id 23} {id 5}]"),
                    ("replica", "[{id 5} {id 40}]"),
                ],
            );
        let (r, convergence) = check_relation(agree(Compare::Ids), &script);
        assert_eq!(r.valid, Verdict::Invalid);
        assert_eq!(witnesses(&r), [("unconverged", vec![6, 7, 8, 9])]);
        let d = &r.anomalies[0].details["differences"][0];
        assert_eq!(d["lacks"], json!(["17", "23"]));
        assert_eq!(d["extra"], json!(["40"]));
        assert_eq!(r.anomalies[0].details["round"], 2);
        assert_eq!(
            r.anomalies[0].explanation,
            "after 2 rounds over 0.0 s, replica lacks ids 17, 23 that primary holds; replica \
             holds ids 40 that primary lacks"
        );
        assert!(!convergence.converged);
        assert_eq!(convergence.rounds, 2);
        assert_eq!(r.stats["time-to-converge"], "not converged after 2 rounds");
    }

    #[test]
    fn views_that_caught_up_by_the_last_round_are_valid_and_say_when() {
        let script = round(1, 100, &[("primary", "[{id 17}]"), ("replica", "[]")])
            + &round(
                2,
                200,
                &[("primary", "[{id 17}]"), ("replica", "[{id \"17\"}]")],
            );
        let (r, convergence) = check_relation(agree(Compare::Ids), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
        assert_eq!(r.counts["agreeing-rounds"], 1);
        // No faults: from the first round's first invocation (100) to round 2's end (230).
        assert_eq!(convergence.time_to_converge_ns, Some(130));
        assert_eq!(r.stats["time-to-converge-ns"], 130);
    }

    #[test]
    fn views_that_agreed_then_differed_with_no_write_between_are_divergent() {
        let script = round(1, 100, &[("primary", "[{id 1}]"), ("replica", "[{id 1}]")])
            + &round(2, 200, &[("primary", "[{id 1}]"), ("replica", "[]")]);
        let (r, _) = check_relation(agree(Compare::Ids), &script);
        assert_eq!(
            witnesses(&r),
            [
                ("divergent", vec![0, 1, 2, 3, 4, 5, 6, 7]),
                ("unconverged", vec![4, 5, 6, 7])
            ]
        );
        let details = &r.anomalies[0].details;
        assert_eq!(
            (&details["agreed-round"], &details["differed-round"]),
            (&json!(1), &json!(2))
        );
        assert_eq!(details["differences"][0]["lacks"], json!(["1"]));
    }

    #[test]
    fn a_write_between_agreeing_and_differing_rounds_explains_the_difference() {
        let script = round(1, 100, &[("primary", "[{id 1}]"), ("replica", "[{id 1}]")])
            + "150 0 i add 2\n190 0 info add 2\n"
            + &round(
                2,
                200,
                &[("primary", "[{id 1} {id 2}]"), ("replica", "[{id 1}]")],
            );
        let (r, _) = check_relation(agree(Compare::Ids), &script);
        assert_eq!(r.anomaly_types, ["unconverged"]);
    }

    #[test]
    fn a_failed_write_between_the_rounds_does_not_explain_the_difference() {
        let script = round(1, 100, &[("primary", "[{id 1}]"), ("replica", "[{id 1}]")])
            + "150 0 i add 2\n190 0 fail add 2\n"
            + &round(
                2,
                200,
                &[("primary", "[{id 1} {id 2}]"), ("replica", "[{id 1}]")],
            );
        let (r, _) = check_relation(agree(Compare::Ids), &script);
        assert_eq!(r.anomaly_types, ["divergent", "unconverged"]);
    }

    #[test]
    fn records_compare_fields_and_name_both_values_while_ids_do_not() {
        let script = round(
            1,
            100,
            &[
                ("primary", "[{id 1 status paid}]"),
                ("replica", "[{id 1 status new}]"),
            ],
        );
        let (r, _) = check_relation(agree(Compare::Records), &script);
        assert_eq!(witnesses(&r), [("unconverged", vec![0, 1, 2, 3])]);
        let changed = &r.anomalies[0].details["differences"][0]["changed"][0];
        assert_eq!(changed["id"], "1");
        assert_eq!(changed["primary"]["status"], "paid");
        assert_eq!(changed["replica"]["status"], "new");
        let (r, _) = check_relation(agree(Compare::Ids), &script);
        assert_eq!(r.valid, Verdict::Valid);
    }

    #[test]
    fn a_missing_field_and_a_nil_field_are_the_same_record() {
        let script = round(
            1,
            100,
            &[
                ("primary", "[{id 1 status nil n 2}]"),
                ("replica", "[{n \"2\" id 1}]"),
            ],
        );
        let (r, _) = check_relation(agree(Compare::Records), &script);
        assert_eq!(r.valid, Verdict::Valid, "{r:?}");
    }

    #[test]
    fn without_rounds_agree_is_unknown_naming_the_views() {
        let script = "10 1 i view:primary\n20 1 ok view:primary {records [{id 1}]}";
        let (r, _) = check_relation(agree(Compare::Ids), script);
        assert_eq!(r.valid, Verdict::Unknown);
        let reason = r.stats["reason"].as_str().unwrap();
        assert!(reason.contains("no convergence rounds") && reason.contains("primary and replica"));
    }

    #[test]
    fn a_view_never_read_ok_in_a_round_is_unknown_naming_it() {
        let script = round(1, 100, &[("primary", "[{id 1}]"), ("replica", "fail")]);
        let (r, convergence) = check_relation(agree(Compare::Ids), &script);
        assert_eq!(r.valid, Verdict::Unknown);
        assert!(
            r.stats["reason"]
                .as_str()
                .unwrap()
                .contains("view replica was never read ok")
        );
        assert_eq!(
            convergence.unmet,
            ["agree(primary,replica): replica not read ok in this round"]
        );
    }
}

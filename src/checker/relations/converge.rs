//! Rounds and the time to converge: which relations do not hold in one snapshot of the views
//! (the runner asks after every convergence-phase round, to know when to stop polling), and,
//! over a history, the first round at which every relation held and how long after the last
//! heal it came.
//!
//! `check` and the runner must agree on the round at which the system converged, so both go
//! through [`unmet_in`]: the round where it is first empty is the one `time_to_converge_ns`
//! measures to.

use std::collections::BTreeMap;

use serde_json::json;

use super::super::witness::secs;
use super::view::{Snapshot, Views};
use super::{Convergence, Relation, Writes, agree, conserved, covers, matches, unique};
use crate::history::{EventKind, History};

/// What does not hold in `snapshot`, one line per relation, in the relations' order.
pub fn unmet_in(relations: &[Relation], writes: &Writes, snapshot: &Snapshot) -> Vec<String> {
    relations
        .iter()
        .filter_map(|relation| unmet_one(relation, writes, snapshot))
        .collect()
}

fn unmet_one(relation: &Relation, writes: &Writes, snapshot: &Snapshot) -> Option<String> {
    let name = relation.name();
    let records = |view: &str| snapshot.get(view).copied();
    match relation {
        Relation::Agree { views, compare } => agree::unmet(&name, views, *compare, snapshot),
        Relation::Covers { view, op, filter } => {
            let cover = covers::Cover {
                op,
                view,
                filter,
                written: writes.of(op),
            };
            cover.unmet(&name, records(view))
        }
        Relation::Unique { view, key } => unique::unmet(&name, view, key.as_deref(), records(view)),
        Relation::Matches {
            view,
            filter,
            other,
            other_filter,
            key,
            expect,
        } => {
            let join = matches::Join {
                view,
                filter,
                other,
                other_filter,
                key,
                expect: *expect,
            };
            join.unmet(&name, records(view), records(other))
        }
        Relation::Conserved {
            view,
            fields,
            total,
            floor,
            when,
        } => {
            // A settled total is judged on the last round, so every round must meet it for
            // the phase to stop; an `always` one too, as it must hold in every read.
            let sum = conserved::Sum {
                view,
                fields,
                total: *total,
                floor: *floor,
                when: *when,
            };
            sum.unmet(&name, records(view))
        }
    }
}

/// How the views converged over the history's rounds.
pub fn convergence(
    relations: &[Relation],
    writes: &Writes,
    views: &Views,
    history: &History,
) -> Convergence {
    let unmet: Vec<Vec<String>> = views
        .rounds
        .iter()
        .map(|round| unmet_in(relations, writes, &round.snapshot()))
        .collect();
    let first = unmet.iter().position(Vec::is_empty);
    let time_to_converge_ns = first.map(|i| {
        let from = last_heal(history).unwrap_or_else(|| views.rounds[0].start());
        views.rounds[i].end().saturating_sub(from)
    });
    Convergence {
        converged: first.is_some(),
        rounds: views.rounds.len() as u32,
        time_to_converge_ns,
        unmet: unmet.last().cloned().unwrap_or_default(),
    }
}

/// The time of the last nemesis event that stopped a fault (`stop-*`, `heal-*`; the
/// nemesis' `info` after its `invoke` when it writes both), if any fault was stopped.
pub fn last_heal(history: &History) -> Option<u64> {
    history
        .nemesis
        .iter()
        .filter(|e| e.kind != EventKind::Fail)
        .filter(|e| e.f.starts_with("stop") || e.f.starts_with("heal"))
        .map(|e| e.time)
        .max()
}

/// The convergence as an `agree` result's stats: `time-to-converge` in words and in ns.
pub fn stats(convergence: &Convergence) -> BTreeMap<String, serde_json::Value> {
    let words = match convergence.time_to_converge_ns {
        Some(ns) => secs(ns),
        None => format!("not converged after {} rounds", convergence.rounds),
    };
    BTreeMap::from([
        ("time-to-converge".to_owned(), json!(words)),
        (
            "time-to-converge-ns".to_owned(),
            json!(convergence.time_to_converge_ns),
        ),
    ])
}

//! Relations between views: the promises a microservice system makes about the same facts
//! held in several places (replicas agree, a read model covers every acknowledged write, one
//! capture per order, stock is conserved). Each relation is a checker over the history; the
//! same evaluation also tells the runner's convergence phase when to stop polling.
//!
//! ## The history contract for views
//! A read of view `NAME` is an op with `f = "view:NAME"`. Its `ok` value is a map
//! `{"records": [R, ...]}`, where each record `R` is a map holding `"id"` (the record's id)
//! and one entry per field the view declares (`{"id": 17, "status": "CONFIRMED"}`); a field
//! missing from the service's record is `nil`. Reads made by the convergence phase also carry
//! `"round": N` (1, 2, ...), in the invocation's value and in the completion's: the runner
//! reads every view once per round and starts a round only after the previous one completed,
//! so a round is a snapshot of every view. Reads made during the main phase have no round.
//! A read that ended `fail` or `info` says nothing about the view.
//!
//! Ids compare by their text: the integer 17 and the string "17" are the same id (a service
//! may echo a number as a string).

mod agree;
mod conserved;
mod converge;
mod covers;
mod filter;
mod matches;
mod unique;
mod view;

use std::collections::BTreeMap;

use crate::history::Value;

pub use filter::Filter;

/// One relation a workload declares, over views named in the workload.
#[derive(Clone, Debug, PartialEq)]
pub enum Relation {
    /// Two or more views hold the same records: as id multisets (`Ids`), or as id → fields
    /// maps (`Records`). Anomalies: `unconverged` (still different in the last round, with the
    /// exact difference), `divergent` (they agreed, then differed again with no write of the
    /// workload's ops in between).
    Agree {
        views: Vec<String>,
        compare: Compare,
    },
    /// Every write op `op` that ended `ok` has its value among the ids of `view`'s last read
    /// (`lost` otherwise), and its record there passes `filter` (`missing` otherwise: it is
    /// there but never reached the state the filter names); one that ended `fail` must not be
    /// there (`unexpected`); `info` may or may not.
    Covers {
        view: String,
        op: String,
        filter: Filter,
    },
    /// No two records of `view` share an id, or, with `key`, the value of field `key` (one
    /// capture per order): `duplicated`, with both records.
    Unique { view: String, key: Option<String> },
    /// Records of `view` that pass `filter` correspond to records of `other` that pass
    /// `other_filter` and whose field `key` is their id: exactly one each (`Expect::One`) or
    /// none (`Expect::None`). `missing`: a record of `view` without its match (or with more
    /// than one: `duplicated`); `orphaned`: a record of `other` whose `key` names no record of
    /// `view` that passes `filter` (with `Expect::One`), or one that should have none.
    Matches {
        view: String,
        filter: Filter,
        other: String,
        other_filter: Filter,
        key: String,
        expect: Expect,
    },
    /// In the reads of `view` that `when` picks, the sum of `fields` over all records equals
    /// `total` (`wrong-total`), and no field is below `floor` (`negative`).
    Conserved {
        view: String,
        fields: Vec<String>,
        total: i64,
        floor: Option<i64>,
        when: When,
    },
}

/// How `agree` compares views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The multiset of ids.
    Ids,
    /// The map id → declared fields.
    Records,
}

/// How many records of `other` each filtered record of `view` must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    One,
    None,
}

/// Which reads of its view a `conserved` relation judges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum When {
    /// Every ok read, main phase and rounds: the total holds at every moment.
    #[default]
    Always,
    /// Only the view's read in the latest convergence round that read it ok: the total holds
    /// once everything in flight has settled (reservations released, refunds made).
    Settled,
}

impl Relation {
    /// A short, stable name for results.json: `agree(primary,replica)`, `covers(add→replica)`,
    /// `unique(payments.order_id)`, `matches(orders→payments)`, `conserved(stock)`.
    pub fn name(&self) -> String {
        match self {
            Relation::Agree { views, .. } => format!("agree({})", views.join(",")),
            Relation::Covers { view, op, .. } => format!("covers({op}→{view})"),
            Relation::Unique { view, key: None } => format!("unique({view})"),
            Relation::Unique {
                view,
                key: Some(key),
            } => format!("unique({view}.{key})"),
            Relation::Matches { view, other, .. } => format!("matches({view}→{other})"),
            Relation::Conserved {
                view, fields, when, ..
            } => format!(
                "conserved({view}.{}{})",
                fields.join("+"),
                if *when == When::Settled {
                    ", settled"
                } else {
                    ""
                }
            ),
        }
    }

    /// The views this relation reads.
    pub fn views(&self) -> Vec<&str> {
        match self {
            Relation::Agree { views, .. } => views.iter().map(String::as_str).collect(),
            Relation::Covers { view, .. }
            | Relation::Unique { view, .. }
            | Relation::Conserved { view, .. } => vec![view],
            Relation::Matches { view, other, .. } => vec![view, other],
        }
    }
}

/// The `f` of a read of view `name`.
pub fn view_f(name: &str) -> String {
    format!("view:{name}")
}

/// One round of the convergence phase (or any set of reads): each view's records.
pub type Round = BTreeMap<String, Vec<Value>>;

/// How the views converged, for results.json (`"convergence"`) and the summary.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Convergence {
    /// Whether some round had every relation hold.
    pub converged: bool,
    /// Convergence-phase rounds in the history.
    pub rounds: u32,
    /// From the last heal (the last nemesis `stop-*` event; without faults, the first
    /// round's invocation) to the completion of the first round at which every relation
    /// held; `None` if none did.
    pub time_to_converge_ns: Option<u64>,
    /// What still did not hold in the last round, one line each.
    pub unmet: Vec<String>,
}

/// The writes the relations need (`covers`: each op's value and outcome), taken from a
/// history once, so the convergence phase can evaluate many rounds cheaply.
#[derive(Clone, Debug, Default)]
pub struct Writes {
    /// The writes of each `covers` op name, by record id.
    by_op: BTreeMap<String, covers::Written>,
}

impl Writes {
    /// The writes of every op name a `covers` relation names.
    pub fn from_history(relations: &[Relation], history: &crate::history::History) -> Writes {
        let mut by_op = BTreeMap::new();
        for relation in relations {
            if let Relation::Covers { op, .. } = relation
                && !by_op.contains_key(op)
            {
                by_op.insert(op.clone(), covers::Written::from_history(op, history));
            }
        }
        Writes { by_op }
    }

    /// The writes of `op` (none if `from_history` was not asked for it).
    fn of(&self, op: &str) -> &covers::Written {
        static NONE: std::sync::OnceLock<covers::Written> = std::sync::OnceLock::new();
        self.by_op
            .get(op)
            .unwrap_or_else(|| NONE.get_or_init(covers::Written::default))
    }
}

/// What does not hold in `round`, one line each (`agree(a,b): 3 ids differ: 17 only in a,
/// …`); empty when every relation holds. Views missing from `round` do not hold.
/// `divergent` needs two rounds and is judged only by [`check`].
pub fn unmet(relations: &[Relation], writes: &Writes, round: &Round) -> Vec<String> {
    let snapshot: view::Snapshot = round
        .iter()
        .map(|(view, records)| (view.as_str(), records.as_slice()))
        .collect();
    converge::unmet_in(relations, writes, &snapshot)
}

/// Checks every relation over `history`: one result per relation, keyed by
/// [`Relation::name`] (a repeated name gets ` #2`, ` #3`, ...), and how the views converged.
pub fn check(
    relations: &[Relation],
    history: &crate::history::History,
) -> Result<(BTreeMap<String, super::CheckerResult>, Convergence), crate::history::HistoryError> {
    let views = view::Views::from_history(history)?;
    let writes = Writes::from_history(relations, history);
    let convergence = converge::convergence(relations, &writes, &views, history);
    let mut results = BTreeMap::new();
    for relation in relations {
        let result = check_one(relation, &writes, &views, history, &convergence);
        let mut name = relation.name();
        for n in 2.. {
            if !results.contains_key(&name) {
                break;
            }
            name = format!("{} #{n}", relation.name());
        }
        results.insert(name, result);
    }
    Ok((results, convergence))
}

fn check_one(
    relation: &Relation,
    writes: &Writes,
    views: &view::Views,
    history: &crate::history::History,
    convergence: &Convergence,
) -> super::CheckerResult {
    match relation {
        Relation::Agree {
            views: names,
            compare,
        } => {
            let stats = converge::stats(convergence);
            agree::check(names, *compare, history, views, &stats)
        }
        Relation::Covers { view, op, filter } => covers::Cover {
            op,
            view,
            filter,
            written: writes.of(op),
        }
        .check(history, views),
        Relation::Unique { view, key } => unique::check(view, key.as_deref(), views),
        Relation::Matches {
            view,
            filter,
            other,
            other_filter,
            key,
            expect,
        } => matches::Join {
            view,
            filter,
            other,
            other_filter,
            key,
            expect: *expect,
        }
        .check(views),
        Relation::Conserved {
            view,
            fields,
            total,
            floor,
            when,
        } => conserved::Sum {
            view,
            fields,
            total: *total,
            floor: *floor,
            when: *when,
        }
        .check(views),
    }
}

//! The relations checkers through `checker::check`: results keyed by relation, the
//! convergence measured from the last heal, and properties over generated rounds.

use proptest::prelude::*;
use splitbrain::checker::relations::{self, Compare, Convergence, Relation, Round, Writes};
use splitbrain::checker::{self, Model, Verdict};
use splitbrain::history::{Event, EventKind, History, Process, Value};

/// Builds histories event by event, with times and indexes in order.
#[derive(Default)]
struct Builder {
    events: Vec<Event>,
    time: u64,
}

impl Builder {
    fn push(&mut self, process: Process, kind: EventKind, f: &str, value: Value) {
        self.time += 10;
        self.events.push(Event {
            index: self.events.len() as u64,
            time: self.time,
            process,
            kind,
            f: f.into(),
            value,
            node: None,
            error: None,
        });
    }

    fn op(&mut self, kind: EventKind, f: &str, value: Value) {
        self.push(Process::Client(0), EventKind::Invoke, f, value.clone());
        self.push(Process::Client(0), kind, f, value);
    }

    fn nemesis(&mut self, f: &str) {
        self.push(Process::Nemesis, EventKind::Info, f, Value::Nil);
    }

    /// One round: each view read ok with these ids.
    fn round(&mut self, n: i64, views: &[(&str, &[i64])]) {
        for (view, ids) in views {
            let f = relations::view_f(view);
            let round = map([("round", Value::Int(n))]);
            self.push(Process::Client(1), EventKind::Invoke, &f, round);
            let value = map([("records", records(ids)), ("round", Value::Int(n))]);
            self.push(Process::Client(1), EventKind::Ok, &f, value);
        }
    }

    fn history(self) -> History {
        History::from_events(None, self.events).expect("well-formed")
    }
}

fn map<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

fn records(ids: &[i64]) -> Value {
    Value::list(ids.iter().map(|&id| map([("id", Value::Int(id))])))
}

fn agree() -> Relation {
    Relation::Agree {
        views: vec!["primary".into(), "replica".into()],
        compare: Compare::Ids,
    }
}

fn covers() -> Relation {
    Relation::Covers {
        view: "replica".into(),
        op: "add".into(),
        filter: Default::default(),
    }
}

#[test]
fn relation_results_follow_the_models_and_convergence_is_timed_from_the_last_heal() {
    let mut b = Builder::default();
    b.op(EventKind::Ok, "add", Value::Int(1)); // 10, 20
    b.op(EventKind::Ok, "read", Value::list([Value::Int(1)])); // 30, 40
    b.nemesis("start-partition"); // 50
    b.nemesis("stop-partition"); // 60
    b.round(1, &[("primary", &[1]), ("replica", &[])]); // 70..100
    b.round(2, &[("primary", &[1]), ("replica", &[1])]); // 110..140
    let history = b.history();
    let model = Model::Set {
        linearizable: false,
    };
    let results = checker::check(&model, &[agree(), covers()], &history).unwrap();
    let names: Vec<&str> = results.checkers.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["agree(primary,replica)", "covers(add→replica)", "set"]
    );
    assert_eq!(results.valid, Verdict::Valid);
    assert_eq!(
        results.convergence,
        Some(Convergence {
            converged: true,
            rounds: 2,
            time_to_converge_ns: Some(140 - 60),
            unmet: vec![],
        })
    );
    let agree = &results.checkers["agree(primary,replica)"];
    assert_eq!(agree.stats["time-to-converge-ns"], 80);
}

#[test]
fn without_relations_there_is_no_convergence_in_the_results() {
    let mut b = Builder::default();
    b.op(EventKind::Ok, "add", Value::Int(1));
    let results = checker::check(&Model::UniqueIds, &[], &b.history()).unwrap();
    assert_eq!(results.convergence, None);
    assert_eq!(results.checkers.len(), 1);
}

#[test]
fn a_lost_write_is_annotated_with_the_fault_active_when_it_ran() {
    let mut b = Builder::default();
    b.nemesis("start-kill"); // 10
    b.op(EventKind::Ok, "add", Value::Int(7)); // 20, 30
    b.nemesis("stop-kill"); // 40
    b.round(1, &[("replica", &[])]);
    let results = checker::check(&Model::UniqueIds, &[covers()], &b.history()).unwrap();
    let lost = &results.checkers["covers(add→replica)"].anomalies[0];
    assert_eq!(
        (lost.kind.as_str(), lost.ops.as_slice()),
        ("lost", &[1, 2, 4, 5][..])
    );
    assert_eq!(lost.faults, ["kill from 0.0 s to 0.0 s"]);
    assert_eq!(results.valid, Verdict::Invalid);
}

/// Ids for one view in one round.
fn ids() -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::vec(0..20i64, 0..8)
}

/// Rounds of (primary, replica) ids, the last one identical across the views.
fn rounds_ending_equal() -> impl Strategy<Value = Vec<(Vec<i64>, Vec<i64>)>> {
    (proptest::collection::vec((ids(), ids()), 0..6), ids()).prop_map(|(mut rounds, last)| {
        let mut shuffled = last.clone();
        shuffled.reverse();
        rounds.push((last, shuffled));
        rounds
    })
}

fn history_of(writes: &[(i64, EventKind)], rounds: &[(Vec<i64>, Vec<i64>)]) -> History {
    let mut b = Builder::default();
    for (id, kind) in writes {
        b.op(*kind, "add", Value::Int(*id));
    }
    b.nemesis("stop-partition");
    for (n, (p, r)) in rounds.iter().enumerate() {
        b.round(n as i64 + 1, &[("primary", p), ("replica", r)]);
    }
    b.history()
}

fn kind() -> impl Strategy<Value = EventKind> {
    prop_oneof![
        Just(EventKind::Ok),
        Just(EventKind::Fail),
        Just(EventKind::Info)
    ]
}

proptest! {
    #[test]
    fn views_identical_in_the_last_round_are_never_unconverged(rounds in rounds_ending_equal()) {
        let (results, convergence) = relations::check(&[agree()], &history_of(&[], &rounds)).unwrap();
        let result = &results["agree(primary,replica)"];
        prop_assert!(!result.anomaly_types.contains(&"unconverged".to_owned()));
        prop_assert!(convergence.converged);
        prop_assert!(convergence.unmet.is_empty());
    }

    #[test]
    fn every_acknowledged_write_in_the_last_read_is_never_lost(
        writes in proptest::collection::vec((0..30i64, kind()), 0..20),
        extra in ids(),
    ) {
        let mut last: Vec<i64> = writes.iter().filter(|w| w.1 == EventKind::Ok).map(|w| w.0).collect();
        last.extend(extra);
        let rounds = [(Vec::new(), Vec::new()), (last.clone(), last)];
        let (results, _) = relations::check(&[covers()], &history_of(&writes, &rounds)).unwrap();
        let result = &results["covers(add→replica)"];
        prop_assert!(!result.anomaly_types.contains(&"lost".to_owned()));
        prop_assert_eq!(result.counts["lost"], 0);
    }

    #[test]
    fn time_to_converge_points_at_the_first_round_unmet_finds_empty(
        writes in proptest::collection::vec((0..10i64, kind()), 0..10),
        rounds in proptest::collection::vec((ids(), ids()), 1..6),
    ) {
        let history = history_of(&writes, &rounds);
        let relations = [agree(), covers()];
        let (_, convergence) = relations::check(&relations, &history).unwrap();
        let writes = Writes::from_history(&relations, &history);
        let first = rounds.iter().position(|(p, r)| {
            let round = Round::from([
                ("primary".to_owned(), records(p).as_list().unwrap().to_vec()),
                ("replica".to_owned(), records(r).as_list().unwrap().to_vec()),
            ]);
            relations::unmet(&relations, &writes, &round).is_empty()
        });
        prop_assert_eq!(convergence.converged, first.is_some());
        // Each round is four events 10 ns apart, starting right after the heal.
        let expected = first.map(|i| (i as u64 + 1) * 40);
        prop_assert_eq!(convergence.time_to_converge_ns, expected);
    }
}

//! Property tests for the set, counter, queue and unique-ids checkers: histories produced by
//! a correct in-memory model under random concurrency, latencies, timeouts (`info`, applied
//! or not) and failures are never invalid, and one injected bug is always found, naming the
//! element it was injected into.
//!
//! Each op gets a linearization point inside its invocation–completion window (for an `info`
//! op that applied: any time after its invocation); the model applies ops in that order.

use std::collections::{BTreeSet, VecDeque};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use splitbrain::checker::{self, CheckerResult, Model, Verdict};
use splitbrain::history::{Event, EventKind, History, Process, Value};

const WORKERS: u64 = 4;

/// How a planned op ends, decided before the model runs.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Planned {
    Ok,
    Fail,
    Info { applied: bool, completes: bool },
}

/// One op of the simulated run.
#[derive(Clone, Debug)]
struct Slot {
    pid: u64,
    f: &'static str,
    invoke: u64,
    apply: u64,
    complete: u64,
    planned: Planned,
    arg: Value,
    result: Value,
    kind: EventKind,
}

impl Slot {
    fn applies(&self) -> bool {
        matches!(
            self.planned,
            Planned::Ok | Planned::Info { applied: true, .. }
        )
    }
}

/// A correct implementation of a model: assigns arguments and applies ops in order.
trait Sim {
    fn arg(&mut self, f: &str, rng: &mut ChaCha8Rng) -> Value;
    fn apply(&mut self, slot: &mut Slot);
}

/// Plans `WORKERS` workers' ops: each worker invokes after its previous op completed, and
/// takes a new process id after an `info` (Jepsen's rule).
fn plan(rng: &mut ChaCha8Rng, sim: &mut dyn Sim, mix: &[&'static str], infos: bool) -> Vec<Slot> {
    let mut slots = Vec::new();
    for worker in 0..WORKERS {
        let (mut t, mut pid) = (rng.gen_range(0..20u64), worker);
        for k in 0..rng.gen_range(3..12) {
            let f = mix[rng.gen_range(0..mix.len())];
            let latency = rng.gen_range(1..40u64);
            let roll = rng.gen_range(0..100);
            let planned = match roll {
                _ if worker == 0 && k < 2 => Planned::Ok,
                0..10 => Planned::Fail,
                10..22 if infos => Planned::Info {
                    applied: rng.gen_bool(0.5),
                    completes: rng.gen_range(0..10) > 0,
                },
                _ => Planned::Ok,
            };
            let apply = match planned {
                Planned::Info { .. } => t + rng.gen_range(0..=2 * latency),
                _ => t + rng.gen_range(0..=latency),
            };
            let f = if worker == 0 && k < 2 { mix[0] } else { f };
            let arg = sim.arg(f, rng);
            slots.push(Slot {
                pid,
                f,
                invoke: t,
                apply,
                complete: t + latency,
                planned,
                arg,
                result: Value::Nil,
                kind: EventKind::Ok,
            });
            if let Planned::Info { completes, .. } = planned {
                pid += WORKERS;
                if !completes {
                    break;
                }
            }
            t += latency + rng.gen_range(1..10);
        }
    }
    slots
}

/// Applies every op that takes effect in linearization order, then one final op (a read or
/// a drain) after everything has settled.
fn run(slots: &mut Vec<Slot>, sim: &mut dyn Sim, last: Option<&'static str>) {
    for slot in slots.iter_mut() {
        slot.kind = match slot.planned {
            Planned::Ok => EventKind::Ok,
            Planned::Fail => EventKind::Fail,
            Planned::Info { .. } => EventKind::Info,
        };
    }
    let mut order: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].applies()).collect();
    order.sort_by_key(|&i| (slots[i].apply, i));
    for i in order {
        sim.apply(&mut slots[i]);
    }
    if let Some(f) = last {
        let end = slots
            .iter()
            .map(|s| s.apply.max(s.complete))
            .max()
            .unwrap_or(0)
            + 10;
        let mut slot = Slot {
            pid: 1000,
            f,
            invoke: end,
            apply: end + 1,
            complete: end + 2,
            planned: Planned::Ok,
            arg: Value::Nil,
            result: Value::Nil,
            kind: EventKind::Ok,
        };
        sim.apply(&mut slot);
        slots.push(slot);
    }
}

/// The history of the run: events by time, invocations before completions at equal times
/// (so ops touching at one instant count as concurrent).
fn history(slots: &[Slot]) -> History {
    let mut events = Vec::new();
    for (i, s) in slots.iter().enumerate() {
        events.push((s.invoke, 0, i, EventKind::Invoke, s.arg.clone()));
        let completes = !matches!(
            s.planned,
            Planned::Info {
                completes: false,
                ..
            }
        );
        if completes {
            let value = if s.result.is_nil() {
                s.arg.clone()
            } else {
                s.result.clone()
            };
            events.push((s.complete, 1, i, s.kind, value));
        }
    }
    events.sort_by_key(|e| (e.0, e.1, e.2));
    let events = events
        .into_iter()
        .enumerate()
        .map(|(index, (time, _, i, kind, value))| Event {
            index: index as u64,
            time,
            process: Process::Client(slots[i].pid),
            kind,
            f: slots[i].f.into(),
            value,
            node: None,
            error: None,
        });
    History::from_events(None, events).expect("simulated history is well-formed")
}

fn check(model: Model, h: &History) -> CheckerResult {
    let results = checker::check(&model, &[], h).expect("simulated history fits the model");
    results.checkers[model.name()].clone()
}

/// Whether an anomaly of `kind` names `element` in its details.
fn names(r: &CheckerResult, kind: &str, key: &str, element: &Value) -> bool {
    let want = serde_json::to_value(element).expect("values serialise");
    r.anomalies
        .iter()
        .any(|a| a.kind == kind && a.details[key] == want)
}

// ---- set ----

#[derive(Default)]
struct SetSim {
    next: i64,
    set: BTreeSet<i64>,
    lose: Option<i64>,
}

impl Sim for SetSim {
    fn arg(&mut self, f: &str, _: &mut ChaCha8Rng) -> Value {
        if f != "add" {
            return Value::Nil;
        }
        self.next += 1;
        Value::Int(self.next)
    }
    fn apply(&mut self, slot: &mut Slot) {
        match slot.f {
            "add" if self.lose != slot.arg.as_int() => {
                self.set.insert(slot.arg.as_int().expect("int element"));
            }
            "read" if slot.kind == EventKind::Ok => {
                slot.result = Value::list(self.set.iter().map(|&e| Value::Int(e)));
            }
            _ => {}
        }
    }
}

fn set_run(seed: u64, lose: bool) -> (Vec<Slot>, Option<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sim = SetSim::default();
    let mut slots = plan(&mut rng, &mut sim, &["add", "add", "read"], true);
    // The first op of worker 0 is an ok add: with `lose`, the system drops its element.
    let lost = lose.then(|| slots[0].arg.as_int().expect("int element"));
    sim.lose = lost;
    run(&mut slots, &mut sim, Some("read"));
    (slots, lost)
}

// ---- counter ----

#[derive(Default)]
struct CounterSim {
    total: i64,
    drop_first_add: bool,
}

impl Sim for CounterSim {
    fn arg(&mut self, f: &str, rng: &mut ChaCha8Rng) -> Value {
        match f {
            "add" => Value::Int([-2, 1, 2, 3, 5][rng.gen_range(0..5)]),
            _ => Value::Nil,
        }
    }
    fn apply(&mut self, slot: &mut Slot) {
        match slot.f {
            "add" if std::mem::take(&mut self.drop_first_add) => {}
            "add" => self.total += slot.arg.as_int().expect("int add"),
            "read" if slot.kind == EventKind::Ok => slot.result = Value::Int(self.total),
            _ => {}
        }
    }
}

// ---- queue ----

#[derive(Default)]
struct QueueSim {
    next: i64,
    queue: VecDeque<i64>,
    lose: Option<i64>,
}

impl Sim for QueueSim {
    fn arg(&mut self, f: &str, _: &mut ChaCha8Rng) -> Value {
        if f != "enqueue" {
            return Value::Nil;
        }
        self.next += 1;
        Value::Int(self.next)
    }
    fn apply(&mut self, slot: &mut Slot) {
        match slot.f {
            "enqueue" if self.lose != slot.arg.as_int() => {
                self.queue
                    .push_back(slot.arg.as_int().expect("int element"));
            }
            // A timed-out dequeue is redelivered (at-least-once), so only ok ones take effect.
            "dequeue" if slot.kind == EventKind::Ok => match self.queue.pop_front() {
                Some(e) => slot.result = Value::Int(e),
                None => slot.kind = EventKind::Fail,
            },
            "drain" => slot.result = Value::list(self.queue.drain(..).map(Value::Int)),
            _ => {}
        }
    }
}

fn queue_run(seed: u64, lose: bool) -> (Vec<Slot>, Option<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sim = QueueSim::default();
    let mut slots = plan(&mut rng, &mut sim, &["enqueue", "enqueue", "dequeue"], true);
    for slot in slots.iter_mut().filter(|s| s.f == "dequeue") {
        // Info dequeues never take effect in this model (see QueueSim::apply).
        if let Planned::Info { applied, .. } = &mut slot.planned {
            *applied = false;
        }
    }
    let lost = lose.then(|| slots[0].arg.as_int().expect("int element"));
    sim.lose = lost;
    run(&mut slots, &mut sim, Some("drain"));
    (slots, lost)
}

// ---- unique ids ----

#[derive(Default)]
struct IdSim {
    next: i64,
}

impl Sim for IdSim {
    fn arg(&mut self, _: &str, _: &mut ChaCha8Rng) -> Value {
        Value::Nil
    }
    fn apply(&mut self, slot: &mut Slot) {
        self.next += 1;
        if slot.kind == EventKind::Ok {
            slot.result = Value::Int(self.next * 7);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn correct_set_histories_are_valid(seed in any::<u64>()) {
        let (slots, _) = set_run(seed, false);
        let r = check(Model::Set { linearizable: true }, &history(&slots));
        prop_assert_eq!(r.valid, Verdict::Valid, "{:#?}", r);
    }

    #[test]
    fn a_lost_set_element_is_found_by_name(seed in any::<u64>()) {
        let (slots, lost) = set_run(seed, true);
        let r = check(Model::Set { linearizable: true }, &history(&slots));
        let lost = Value::Int(lost.expect("injected"));
        prop_assert!(names(&r, "lost", "element", &lost), "{:#?}", r);
        prop_assert_eq!(r.anomaly_types.clone(), vec!["lost".to_owned()]);
    }

    #[test]
    fn a_duplicated_set_element_is_found_by_name(seed in any::<u64>()) {
        let (mut slots, _) = set_run(seed, false);
        let last = slots.last_mut().expect("final read");
        let mut items = last.result.as_list().expect("a list").to_vec();
        let dup = items[0].clone();
        items.push(dup.clone());
        last.result = Value::list(items);
        let r = check(Model::Set { linearizable: true }, &history(&slots));
        prop_assert!(names(&r, "duplicated", "element", &dup), "{:#?}", r);
    }

    #[test]
    fn shifting_every_time_changes_no_set_verdict(seed in any::<u64>(), shift in 0..1_000_000u64) {
        let (mut slots, _) = set_run(seed, seed % 2 == 0);
        let before = check(Model::Set { linearizable: true }, &history(&slots));
        for s in &mut slots {
            (s.invoke, s.complete) = (s.invoke + shift, s.complete + shift);
        }
        let after = check(Model::Set { linearizable: true }, &history(&slots));
        prop_assert_eq!(before.anomalies, after.anomalies);
        prop_assert_eq!(before.counts, after.counts);
    }

    #[test]
    fn correct_counter_histories_are_valid(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sim = CounterSim::default();
        let mut slots = plan(&mut rng, &mut sim, &["add", "add", "read"], true);
        run(&mut slots, &mut sim, Some("read"));
        let r = check(Model::Counter, &history(&slots));
        prop_assert_eq!(r.valid, Verdict::Valid, "{:#?}", r);
    }

    #[test]
    fn a_lost_counter_add_makes_the_final_read_a_wrong_total(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sim = CounterSim { drop_first_add: true, ..CounterSim::default() };
        let mut slots = plan(&mut rng, &mut sim, &["add", "add", "read"], false);
        // CounterSim drops the first add to take effect; no add is 0, so the total is off.
        run(&mut slots, &mut sim, Some("read"));
        let h = history(&slots);
        let r = check(Model::Counter, &h);
        let final_read = h.ops.last().expect("final read").complete.expect("completed");
        prop_assert!(r.anomalies.iter().any(|a| a.kind == "wrong-total" && a.ops.contains(&final_read)),
            "{:#?}", r);
    }

    #[test]
    fn correct_queue_histories_are_valid_and_fifo(seed in any::<u64>()) {
        let (slots, _) = queue_run(seed, false);
        let h = history(&slots);
        let r = check(Model::Queue { fifo: true }, &h);
        prop_assert_eq!(r.valid, Verdict::Valid, "{:#?}", r);
    }

    #[test]
    fn a_lost_queue_element_is_found_by_name(seed in any::<u64>()) {
        let (slots, lost) = queue_run(seed, true);
        let r = check(Model::Queue { fifo: true }, &history(&slots));
        let lost = Value::Int(lost.expect("injected"));
        prop_assert!(names(&r, "lost", "element", &lost), "{:#?}", r);
    }

    #[test]
    fn a_duplicated_queue_element_is_found_by_name(seed in any::<u64>()) {
        let (mut slots, _) = queue_run(seed, false);
        let dup = slots[0].arg.clone();
        let drain = slots.last_mut().expect("final drain");
        let mut items = drain.result.as_list().expect("a list").to_vec();
        items.push(dup.clone());
        drain.result = Value::list(items);
        let r = check(Model::Queue { fifo: false }, &history(&slots));
        prop_assert!(names(&r, "duplicated", "element", &dup), "{:#?}", r);
    }

    #[test]
    fn correct_unique_id_histories_are_valid(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sim = IdSim::default();
        let mut slots = plan(&mut rng, &mut sim, &["generate"], true);
        run(&mut slots, &mut sim, None);
        let r = check(Model::UniqueIds, &history(&slots));
        prop_assert_eq!(r.valid, Verdict::Valid, "{:#?}", r);
    }

    #[test]
    fn a_duplicated_id_is_found_by_name(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sim = IdSim::default();
        let mut slots = plan(&mut rng, &mut sim, &["generate"], true);
        run(&mut slots, &mut sim, None);
        // Worker 0's first two generates are ok: the second returns the first's id again.
        let id = slots[0].result.clone();
        slots[1].result = id.clone();
        let r = check(Model::UniqueIds, &history(&slots));
        prop_assert!(names(&r, "duplicated", "id", &id), "{:#?}", r);
    }
}

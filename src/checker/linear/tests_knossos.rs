//! Knossos' mutex and multi-register on tiny hand-written histories, and against brute force:
//! on random histories of up to 8 ops, every order consistent with real time is tried, with
//! each op read from the corpus README's words for Knossos (failed ops did not happen; `info`
//! and never-completed ops may take effect after their invocation or never), not from
//! `mutex.rs` or `multi_register.rs`.

use proptest::prelude::*;

use super::tests::history;
use super::*;
use crate::history::{EventKind, Outcome, Value};

use EventKind::{Fail, Info, Invoke, Ok};

fn verdict(h: &History, model: LinearModel) -> Verdict {
    check(h, model, Bounds::default()).unwrap().valid
}

const MULTI: LinearModel = LinearModel::MultiRegister { init: Some(0) };

/// `[[f k v] ...]` from `("read", "x", None)` triples.
fn txn(micro_ops: &[(&str, &str, Option<i64>)]) -> Value {
    Value::list(micro_ops.iter().map(|&(f, k, v)| {
        let v = v.map_or(Value::Nil, Value::from);
        Value::list([f.into(), k.into(), v])
    }))
}

#[test]
fn detects_two_clients_holding_the_mutex_at_once_with_its_witness() {
    let h = history(vec![
        (0, Invoke, "acquire", Value::Nil),
        (0, Ok, "acquire", Value::Nil),
        (1, Invoke, "acquire", Value::Nil),
        (1, Ok, "acquire", Value::Nil),
    ]);
    let result = check(&h, LinearModel::Mutex, Bounds::default()).unwrap();
    assert_eq!(result.valid, Verdict::Invalid);
    let a = &result.anomalies[0];
    assert_eq!(a.ops, vec![0, 1, 2, 3]);
    assert_eq!(a.details["blocked"]["op"], json!("acquire() -> ok"));
    assert_eq!(a.details["prefix"], json!([0]));
    assert_eq!(a.details["states"], json!(["held"]));
    assert_eq!(result.stats["model"], json!("mutex"));
}

#[test]
fn a_mutex_released_in_between_may_be_acquired_again() {
    let h = history(vec![
        (0, Invoke, "acquire", Value::Nil),
        (0, Ok, "acquire", Value::Nil),
        (1, Invoke, "acquire", Value::Nil),
        (0, Invoke, "release", Value::Nil),
        (0, Ok, "release", Value::Nil),
        (1, Ok, "acquire", Value::Nil),
    ]);
    assert_eq!(verdict(&h, LinearModel::Mutex), Verdict::Valid);
}

#[test]
fn a_release_of_a_free_mutex_is_invalid_unless_it_failed() {
    let released = |end| {
        history(vec![
            (0, Invoke, "release", Value::Nil),
            (0, end, "release", Value::Nil),
            (1, Invoke, "acquire", Value::Nil),
            (1, Ok, "acquire", Value::Nil),
        ])
    };
    assert_eq!(verdict(&released(Ok), LinearModel::Mutex), Verdict::Invalid);
    assert_eq!(verdict(&released(Fail), LinearModel::Mutex), Verdict::Valid);
}

#[test]
fn an_info_acquire_may_never_have_happened() {
    let h = history(vec![
        (0, Invoke, "acquire", Value::Nil),
        (0, Info, "acquire", Value::Nil),
        (1, Invoke, "acquire", Value::Nil),
        (1, Ok, "acquire", Value::Nil),
    ]);
    assert_eq!(verdict(&h, LinearModel::Mutex), Verdict::Valid);
}

#[test]
fn a_mutex_refuses_other_operations_as_a_shape_error() {
    let h = history(vec![
        (0, Invoke, "lock", Value::Nil),
        (0, Ok, "lock", Value::Nil),
    ]);
    let err = check(&h, LinearModel::Mutex, Bounds::default()).unwrap_err();
    assert!(err.to_string().contains("acquire, release"), "{err}");
}

#[test]
fn detects_a_txn_reading_a_value_overwritten_before_it_began() {
    let h = history(vec![
        (
            0,
            Invoke,
            "txn",
            txn(&[("write", "x", Some(1)), ("write", "y", Some(2))]),
        ),
        (
            0,
            Ok,
            "txn",
            txn(&[("write", "x", Some(1)), ("write", "y", Some(2))]),
        ),
        (
            1,
            Invoke,
            "txn",
            txn(&[("read", "x", None), ("read", "y", None)]),
        ),
        (
            1,
            Ok,
            "txn",
            txn(&[("read", "x", Some(1)), ("read", "y", Some(0))]),
        ),
    ]);
    let result = check(&h, MULTI, Bounds::default()).unwrap();
    assert_eq!(result.valid, Verdict::Invalid);
    let a = &result.anomalies[0];
    assert_eq!(
        a.details["blocked"]["op"],
        json!("txn([read x 1, read y 0])")
    );
    assert_eq!(a.details["states"], json!([{"x": 1, "y": 2}]));
}

#[test]
fn a_txn_sees_another_txns_writes_all_or_nothing() {
    let writes = txn(&[("write", "x", Some(1)), ("write", "y", Some(1))]);
    let h = |x, y| {
        history(vec![
            (0, Invoke, "txn", writes.clone()),
            (
                1,
                Invoke,
                "txn",
                txn(&[("read", "x", None), ("read", "y", None)]),
            ),
            (
                1,
                Ok,
                "txn",
                txn(&[("read", "x", Some(x)), ("read", "y", Some(y))]),
            ),
            (0, Ok, "txn", writes.clone()),
        ])
    };
    assert_eq!(verdict(&h(0, 0), MULTI), Verdict::Valid);
    assert_eq!(verdict(&h(1, 1), MULTI), Verdict::Valid);
    assert_eq!(verdict(&h(1, 0), MULTI), Verdict::Invalid);
}

#[test]
fn an_info_txn_may_take_effect_later_and_its_reads_constrain_nothing() {
    let h = history(vec![
        (
            0,
            Invoke,
            "txn",
            txn(&[("read", "y", None), ("write", "x", Some(3))]),
        ),
        (
            0,
            Info,
            "txn",
            txn(&[("read", "y", Some(9)), ("write", "x", Some(3))]),
        ),
        (1, Invoke, "txn", txn(&[("read", "x", None)])),
        (1, Ok, "txn", txn(&[("read", "x", Some(0))])),
        (2, Invoke, "txn", txn(&[("read", "x", None)])),
        (2, Ok, "txn", txn(&[("read", "x", Some(3))])),
    ]);
    assert_eq!(verdict(&h, MULTI), Verdict::Valid);
}

#[test]
fn a_failed_txn_did_not_happen() {
    let h = history(vec![
        (0, Invoke, "txn", txn(&[("write", "x", Some(3))])),
        (0, Fail, "txn", txn(&[("write", "x", Some(3))])),
        (1, Invoke, "txn", txn(&[("read", "x", None)])),
        (1, Ok, "txn", txn(&[("read", "x", Some(3))])),
    ]);
    assert_eq!(verdict(&h, MULTI), Verdict::Invalid);
}

#[test]
fn elles_short_micro_op_names_are_read_and_write() {
    let h = history(vec![
        (0, Invoke, "txn", txn(&[("w", "x", Some(3))])),
        (0, Ok, "txn", txn(&[("w", "x", Some(3))])),
        (1, Invoke, "txn", txn(&[("r", "x", None)])),
        (1, Ok, "txn", txn(&[("r", "x", Some(0))])),
    ]);
    assert_eq!(verdict(&h, MULTI), Verdict::Invalid);
}

#[test]
fn a_malformed_micro_op_is_a_shape_error_naming_it() {
    let h = history(vec![
        (0, Invoke, "txn", txn(&[("append", "x", Some(3))])),
        (0, Ok, "txn", txn(&[("append", "x", Some(3))])),
    ]);
    let err = check(&h, MULTI, Bounds::default()).unwrap_err();
    assert!(err.to_string().contains("read or write"), "{err}");
}

// ---- brute force ----------------------------------------------------------------------

/// What a brute-force op does to the state, `None` where it cannot happen.
type Step<S> = Box<dyn Fn(&S) -> Option<S>>;

/// A brute-force op: whether it must take effect, its real-time bounds, and what it does.
struct Brute<S> {
    required: bool,
    invoke: u64,
    complete: u64,
    step: Step<S>,
}

/// Whether some order of the ops (every required one, any optional ones) respects real time
/// and the specification.
fn brute_linearizable<S>(ops: &[Brute<S>], used: &mut [bool], state: &S) -> bool {
    if ops.iter().zip(used.iter()).all(|(o, &u)| u || !o.required) {
        return true;
    }
    for i in 0..ops.len() {
        if used[i] {
            continue;
        }
        // Real time: no op left out so far may have completed before this one began.
        if (0..ops.len()).any(|j| !used[j] && j != i && ops[j].complete < ops[i].invoke) {
            continue;
        }
        if let Some(next) = (ops[i].step)(state) {
            used[i] = true;
            let found = brute_linearizable(ops, used, &next);
            used[i] = false;
            if found {
                return true;
            }
        }
    }
    false
}

/// Knossos: failed ops are gone; ok ones are required by their completion; the rest may
/// happen any time after their invocation, or never.
fn brute_bounds(op: &crate::history::Op) -> Option<(bool, u64)> {
    match (op.outcome, op.complete) {
        (Outcome::Fail, _) => None,
        (Outcome::Ok, Some(c)) => Some((true, c)),
        _ => Some((false, u64::MAX)),
    }
}

fn brute_mutex(h: &History) -> Vec<Brute<bool>> {
    let mut out = Vec::new();
    for op in &h.ops {
        let Some((required, complete)) = brute_bounds(op) else {
            continue;
        };
        let acquire = &*op.f == "acquire";
        out.push(Brute {
            required,
            invoke: op.invoke,
            complete,
            step: Box::new(move |&held| (held != acquire).then_some(acquire)),
        });
    }
    out
}

/// Registers x, y, z as indexes 0, 1, 2.
fn brute_multi(h: &History) -> Vec<Brute<Vec<Option<i64>>>> {
    let mut out = Vec::new();
    for op in &h.ops {
        let Some((required, complete)) = brute_bounds(op) else {
            continue;
        };
        let micro_ops: Vec<(bool, usize, Option<i64>)> = op
            .value
            .as_list()
            .unwrap()
            .iter()
            .map(|m| {
                let m = m.as_list().unwrap();
                let key = ["x", "y", "z"]
                    .iter()
                    .position(|k| m[1].as_str() == Some(k));
                (m[0].as_str() == Some("write"), key.unwrap(), m[2].as_int())
            })
            .collect();
        // An unknown txn's reads were never seen: only its writes count.
        let seen = op.outcome == Outcome::Ok;
        let step = move |s: &Vec<Option<i64>>| {
            let mut s = s.clone();
            for &(write, k, v) in &micro_ops {
                match (write, v) {
                    (true, v) => s[k] = v,
                    (false, Some(v)) if seen && s[k] != Some(v) => return None,
                    (false, _) => {}
                }
            }
            Some(s)
        };
        out.push(Brute {
            required,
            invoke: op.invoke,
            complete,
            step: Box::new(step),
        });
    }
    out
}

/// One generated op: up to 3 micro-ops (write?, key 0..3, value 0..3 with 3 for nil in a
/// read's result), how it ended (0 ok, 1 fail, 2 info, 3 never completed). A mutex op uses
/// only the first micro-op's `write?` (acquire when true).
#[derive(Clone, Debug)]
struct GenOp {
    micro_ops: Vec<(bool, u8, i64)>,
    end: u8,
}

fn gen_op() -> impl Strategy<Value = GenOp> {
    let micro_op = (any::<bool>(), 0u8..3, 0i64..4);
    (
        prop::collection::vec(micro_op, 1..=3),
        prop_oneof![3 => Just(0u8), 1 => Just(1), 1 => Just(2), 1 => Just(3)],
    )
        .prop_map(|(micro_ops, end)| GenOp { micro_ops, end })
}

/// The op's value at its invocation (`done` false) or completion: reads are nil until an ok
/// completion fills them in; an info completion repeats the invocation.
fn gen_txn(op: &GenOp, done: bool) -> Value {
    let fill = done && op.end == 0;
    Value::list(op.micro_ops.iter().map(|&(write, key, v)| {
        let k: Value = ["x", "y", "z"][key as usize].into();
        let v = match (write, fill, v) {
            (true, _, v) => Value::from(v % 3),
            (false, true, v) if v < 3 => Value::from(v),
            (false, _, _) => Value::Nil,
        };
        Value::list([if write { "write" } else { "read" }.into(), k, v])
    }))
}

fn generated_history(ops: &[GenOp], order: &[u32], mutex: bool) -> History {
    let mut tokens: Vec<(u32, usize, bool)> = Vec::new();
    for i in 0..ops.len() {
        let (x, y) = (order[2 * i], order[2 * i + 1]);
        tokens.push((x.min(y), i, false));
        tokens.push((x.max(y), i, true));
    }
    tokens.sort();
    let mut events = Vec::new();
    for (_, i, done) in tokens {
        let op = &ops[i];
        let (f, value) = match (mutex, op.micro_ops[0].0) {
            (true, true) => ("acquire", Value::Nil),
            (true, false) => ("release", Value::Nil),
            (false, _) => ("txn", gen_txn(op, done)),
        };
        let kind = match (done, op.end) {
            (false, _) => Invoke,
            (true, 0) => Ok,
            (true, 1) => Fail,
            (true, 2) => Info,
            _ => continue,
        };
        events.push((i as u64, kind, f, value));
    }
    history(events)
}

fn agrees<S>(h: &History, model: LinearModel, brute: &[Brute<S>], init: &S) -> bool {
    let expected = brute_linearizable(brute, &mut vec![false; brute.len()], init);
    let result = check(h, model, Bounds::default()).unwrap();
    if result.valid == Verdict::Invalid && result.anomalies[0].details["states"] == json!([]) {
        return false;
    }
    match result.counts["ops"] {
        // Every op dropped (failed, or only nil reads): vacuously valid, with a warning.
        0 => expected && result.valid == Verdict::Valid && result.stats.contains_key("warning"),
        _ => (result.valid == Verdict::Valid) == expected,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn the_mutex_agrees_with_brute_force_on_histories_of_up_to_8_ops(
        ops in prop::collection::vec(gen_op(), 1..=8),
        order in prop::collection::vec(any::<u32>(), 16),
    ) {
        let h = generated_history(&ops, &order, true);
        prop_assert!(agrees(&h, LinearModel::Mutex, &brute_mutex(&h), &false), "{:?}", h.ops);
    }

    #[test]
    fn the_multi_register_agrees_with_brute_force_on_histories_of_up_to_8_ops(
        ops in prop::collection::vec(gen_op(), 1..=8),
        order in prop::collection::vec(any::<u32>(), 16),
        init in prop_oneof![Just(None), Just(Some(0))],
    ) {
        let h = generated_history(&ops, &order, false);
        let model = LinearModel::MultiRegister { init };
        prop_assert!(agrees(&h, model, &brute_multi(&h), &vec![init; 3]), "{:?}", h.ops);
    }
}

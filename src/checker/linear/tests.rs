//! The linearizability checker on tiny hand-written histories, and against brute force: on
//! random register histories of up to 8 ops, every order consistent with real time is tried.

use proptest::prelude::*;

use super::*;
use crate::history::{Event, EventKind, Process, Value};

/// `(process, kind, f, value)`, index and time = position.
pub(super) type Ev = (u64, EventKind, &'static str, Value);

pub(super) fn history(events: Vec<Ev>) -> History {
    let events = events
        .into_iter()
        .enumerate()
        .map(|(i, (p, kind, f, value))| Event {
            index: i as u64,
            time: i as u64,
            process: Process::Client(p),
            kind,
            f: f.into(),
            value,
            node: None,
            error: None,
        });
    History::from_events(None, events).unwrap()
}

use EventKind::{Fail, Info, Invoke, Ok};

fn cas(from: i64, to: i64) -> Value {
    Value::list([from.into(), to.into()])
}

const ETCD: LinearModel = LinearModel::CasRegister(Semantics::PorcupineEtcd);
const KNOSSOS: LinearModel = LinearModel::CasRegister(Semantics::Knossos { init: Some(0) });

fn verdict(h: &History, model: LinearModel) -> Verdict {
    check(h, model, Bounds::default()).unwrap().valid
}

#[test]
fn detects_a_read_of_an_overwritten_value_with_its_witness() {
    let h = history(vec![
        (0, Invoke, "write", 1.into()),
        (0, Ok, "write", 1.into()),
        (1, Invoke, "write", 2.into()),
        (1, Ok, "write", 2.into()),
        (2, Invoke, "read", Value::Nil),
        (2, Ok, "read", 1.into()),
    ]);
    let result = check(&h, ETCD, Bounds::default()).unwrap();
    assert_eq!(result.valid, Verdict::Invalid);
    let a = &result.anomalies[0];
    assert_eq!(a.kind, "nonlinearizable");
    assert_eq!(a.ops, vec![2, 3, 4, 5]);
    assert_eq!(a.details["prefix"], json!([0, 2]));
    assert_eq!(a.details["blocked"]["invoke"], json!(4));
    assert_eq!(a.details["states"], json!([2]));
    assert!(a.explanation.contains("read() -> 1"), "{}", a.explanation);
}

#[test]
fn a_read_concurrent_with_a_write_may_see_either_value() {
    let h = history(vec![
        (0, Invoke, "write", 1.into()),
        (0, Ok, "write", 1.into()),
        (1, Invoke, "write", 2.into()),
        (2, Invoke, "read", Value::Nil),
        (2, Ok, "read", 1.into()),
        (1, Ok, "write", 2.into()),
    ]);
    assert_eq!(verdict(&h, ETCD), Verdict::Valid);
}

#[test]
fn an_info_write_may_take_effect_after_later_reads_or_never() {
    let h = history(vec![
        (0, Invoke, "write", 1.into()),
        (0, Info, "write", Value::Nil),
        (1, Invoke, "read", Value::Nil),
        (1, Ok, "read", Value::Nil),
        (2, Invoke, "read", Value::Nil),
        (2, Ok, "read", 1.into()),
    ]);
    assert_eq!(verdict(&h, ETCD), Verdict::Valid);
    let never = history(vec![
        (0, Invoke, "write", 1.into()),
        (1, Invoke, "read", Value::Nil),
        (1, Ok, "read", Value::Nil),
    ]);
    assert_eq!(verdict(&never, ETCD), Verdict::Valid);
}

#[test]
fn etcd_a_failed_cas_means_the_register_did_not_hold_from() {
    let h = history(vec![
        (0, Invoke, "write", 3.into()),
        (0, Ok, "write", 3.into()),
        (1, Invoke, "cas", cas(3, 0)),
        (1, Fail, "cas", cas(3, 0)),
    ]);
    assert_eq!(verdict(&h, ETCD), Verdict::Invalid);
    // Knossos drops the failed cas: nothing to contradict.
    assert_eq!(verdict(&h, KNOSSOS), Verdict::Valid);
}

#[test]
fn etcd_a_nil_read_means_missing_but_knossos_a_nil_read_is_unconstrained() {
    let h = history(vec![
        (0, Invoke, "write", 3.into()),
        (0, Ok, "write", 3.into()),
        (1, Invoke, "read", Value::Nil),
        (1, Ok, "read", Value::Nil),
    ]);
    assert_eq!(verdict(&h, ETCD), Verdict::Invalid);
    assert_eq!(verdict(&h, KNOSSOS), Verdict::Valid);
}

#[test]
fn a_register_without_cas_refuses_a_cas_as_a_shape_error() {
    let h = history(vec![
        (0, Invoke, "cas", cas(1, 2)),
        (0, Ok, "cas", cas(1, 2)),
    ]);
    let model = LinearModel::Register(Semantics::PorcupineEtcd);
    let err = check(&h, model, Bounds::default()).unwrap_err();
    assert!(
        err.to_string().contains("unknown operation \"cas\""),
        "{err}"
    );
}

#[test]
fn passing_the_memory_bound_is_unknown_and_names_the_key() {
    let kv = |k: &str, v: &str| Value::list([k.into(), v.into()]);
    let h = history(vec![
        (0, Invoke, "put", kv("a", "x")),
        (1, Invoke, "put", kv("a", "y")),
        (0, Ok, "put", kv("a", "x")),
        (1, Ok, "put", kv("a", "y")),
    ]);
    let bounds = Bounds {
        time_per_key: None,
        memo_per_key: 1,
        stop_at_first_violation: true,
    };
    let result = check(&h, LinearModel::Kv, bounds).unwrap();
    assert_eq!(result.valid, Verdict::Unknown);
    assert_eq!(result.stats["unknown-keys"][0]["key"], json!("a"));
}

#[test]
fn kv_keys_are_checked_independently() {
    let kv = |k: &str, v: &str| Value::list([k.into(), v.into()]);
    let h = history(vec![
        (0, Invoke, "append", kv("a", "x")),
        (0, Ok, "append", kv("a", "x")),
        (1, Invoke, "get", kv("b", "")),
        (1, Ok, "get", kv("b", "")),
        (2, Invoke, "get", Value::list(["a".into(), Value::Nil])),
        (2, Ok, "get", kv("a", "")),
    ]);
    let result = check(&h, LinearModel::Kv, Bounds::default()).unwrap();
    assert_eq!(result.valid, Verdict::Invalid);
    assert_eq!(result.counts["keys-nonlinearizable"], 1);
    assert_eq!(result.anomalies[0].details["key"], json!("a"));
}

#[test]
fn keys_after_the_first_nonlinearizable_one_are_skipped_whatever_the_threads_did() {
    let kv = |k: &str, v: &str| Value::list([k.into(), v.into()]);
    let mut events = Vec::new();
    for (p, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
        let p = p as u64;
        events.push((p, Invoke, "put", kv(key, "x")));
        events.push((p, Ok, "put", kv(key, "x")));
        events.push((p, Invoke, "get", Value::list([key.into(), Value::Nil])));
        events.push((p, Ok, "get", kv(key, if key == "b" { "y" } else { "x" })));
    }
    let result = check(&history(events), LinearModel::Kv, Bounds::default()).unwrap();
    assert_eq!(result.valid, Verdict::Invalid);
    assert_eq!(result.anomalies[0].details["key"], json!("b"));
    let decided = (
        result.counts["keys-linearizable"],
        result.counts["keys-skipped"],
    );
    assert_eq!(decided, (1, 2));
}

#[test]
fn an_empty_history_is_valid_only_vacuously_with_a_warning() {
    let result = check(&history(vec![]), ETCD, Bounds::default()).unwrap();
    assert_eq!(result.valid, Verdict::Valid);
    let warning = result.stats["warning"].as_str().unwrap();
    assert!(warning.contains("vacuously"), "{warning}");
}

// ---- brute force ----------------------------------------------------------------------

/// One generated op: f (0 read, 1 write, 2 cas), two values (3 = nil for a read), how it
/// ended (0 ok, 1 fail, 2 info, 3 never completed).
#[derive(Clone, Debug)]
struct GenOp {
    f: u8,
    a: i64,
    b: i64,
    end: u8,
}

/// A brute-force op: whether it must take effect, its real-time bounds, and what it does.
struct Brute {
    required: bool,
    invoke: u64,
    complete: u64,
    step: Box<dyn Fn(Option<i64>) -> Option<Option<i64>>>,
}

/// The ops as each semantics reads them, written from the README's words, not `prepare.rs`.
fn brute_ops(h: &History, etcd: bool) -> Vec<Brute> {
    let mut out = Vec::new();
    for op in &h.ops {
        let ok = op.outcome == crate::history::Outcome::Ok;
        let fail = op.outcome == crate::history::Outcome::Fail;
        let (required, complete) = match (ok || (etcd && fail), op.complete) {
            (true, Some(c)) => (true, c),
            _ => (false, u64::MAX),
        };
        let step: Box<dyn Fn(Option<i64>) -> Option<Option<i64>>> = match &*op.f {
            "read" if !ok => continue,
            "read" if op.value.is_nil() && !etcd => continue,
            "read" => {
                let v = op.value.as_int();
                Box::new(move |s| (s == v).then_some(s))
            }
            "write" if fail => continue,
            "write" => {
                let v = op.value.as_int();
                Box::new(move |_| Some(v))
            }
            _ if fail && !etcd => continue,
            _ => {
                let items = op.value.as_list().unwrap();
                let (from, to) = (items[0].as_int(), items[1].as_int());
                // ok and unknown (when it happens) swap; a failed cas compared and lost.
                Box::new(move |s| match fail {
                    false => (s == from).then_some(to),
                    true => (s != from).then_some(s),
                })
            }
        };
        out.push(Brute {
            required,
            invoke: op.invoke,
            complete,
            step,
        });
    }
    out
}

/// Whether some order of the ops (every required one, any optional ones) respects real time
/// and the register's specification.
fn brute_linearizable(ops: &[Brute], used: &mut Vec<bool>, state: Option<i64>) -> bool {
    let all_required = ops.iter().zip(used.iter()).all(|(o, &u)| u || !o.required);
    if all_required {
        return true;
    }
    for i in 0..ops.len() {
        if used[i] {
            continue;
        }
        // Real time: no op left out so far may have completed before this one began.
        let blocked = (0..ops.len()).any(|j| !used[j] && j != i && ops[j].complete < ops[i].invoke);
        if blocked {
            continue;
        }
        if let Some(next) = (ops[i].step)(state) {
            used[i] = true;
            let found = brute_linearizable(ops, used, next);
            used[i] = false;
            if found {
                return true;
            }
        }
    }
    false
}

fn generated_history(ops: &[GenOp], order: &[u32]) -> History {
    // Events as (sort key, op, is completion); each op's earlier key is its invocation.
    let mut tokens: Vec<(u32, usize, bool)> = Vec::new();
    for (i, _) in ops.iter().enumerate() {
        let (x, y) = (order[2 * i], order[2 * i + 1]);
        tokens.push((x.min(y), i, false));
        tokens.push((x.max(y), i, true));
    }
    tokens.sort();
    let mut events = Vec::new();
    for (_, i, is_completion) in tokens {
        let op = &ops[i];
        let (f, value) = match op.f {
            0 => ("read", if op.a == 3 { Value::Nil } else { op.a.into() }),
            1 => ("write", op.a.into()),
            _ => ("cas", cas(op.a % 3, op.b)),
        };
        if !is_completion {
            let invoked = if op.f == 0 { Value::Nil } else { value };
            events.push((i as u64, Invoke, f, invoked));
            continue;
        }
        let kind = match op.end {
            0 => Ok,
            1 => Fail,
            2 => Info,
            _ => continue,
        };
        let value = match (op.f, kind) {
            (0, Ok) => value,
            (0, _) => Value::Nil,
            _ => value,
        };
        events.push((i as u64, kind, f, value));
    }
    history(events)
}

fn gen_op() -> impl Strategy<Value = GenOp> {
    (
        0u8..3,
        0i64..4,
        0i64..3,
        prop_oneof![3 => Just(0u8), 1 => Just(1), 1 => Just(2), 1 => Just(3)],
    )
        .prop_map(|(f, a, b, end)| GenOp { f, a, b, end })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_brute_force_on_histories_of_up_to_8_ops(
        ops in prop::collection::vec(gen_op(), 1..=8),
        order in prop::collection::vec(any::<u32>(), 16),
        etcd in any::<bool>(),
    ) {
        let h = generated_history(&ops, &order);
        let (model, init) = match etcd {
            true => (ETCD, None),
            false => (KNOSSOS, Some(0)),
        };
        let brute = brute_ops(&h, etcd);
        let expected = brute_linearizable(&brute, &mut vec![false; brute.len()], init);
        let result = check(&h, model, Bounds::default()).unwrap();
        let got = result.valid;
        if brute.iter().all(|o| !o.required) {
            // Nothing required: valid, or unknown when no op is left to check.
            prop_assert_ne!(got, Verdict::Invalid);
        } else {
            prop_assert_eq!(got == Verdict::Valid, expected, "{:?}", result);
        }
        if got == Verdict::Invalid {
            let a = &result.anomalies[0];
            prop_assert!(!a.details["states"].as_array().unwrap().is_empty());
        }
    }
}

#[test]
fn a_witness_lists_the_ops_around_the_failure_and_the_states_of_its_linearization() {
    let h = history(vec![
        (0, Invoke, "write", 1.into()),
        (0, Ok, "write", 1.into()),
        (1, Invoke, "write", 2.into()),
        (1, Ok, "write", 2.into()),
        (2, Invoke, "read", Value::Nil),
        (3, Invoke, "write", 3.into()),
        (2, Ok, "read", 1.into()),
        (3, Info, "write", Value::Nil),
    ]);
    let result = check(&h, ETCD, Bounds::default()).unwrap();
    let d = &result.anomalies[0].details;
    assert_eq!(d["state-before"], json!(null));
    assert_eq!(
        d["linearization"],
        json!([
            {"order": 1, "invoke": 0, "process": 0, "op": "write(1)", "state": 1},
            {"order": 2, "invoke": 2, "process": 1, "op": "write(2)", "state": 2},
            {"order": 3, "invoke": 5, "process": 3, "op": "write(3)", "state": 3},
        ])
    );
    assert_eq!(d["states"], json!([3]), "after a longest prefix");
    assert_eq!(d["blocked"]["process"], json!(2));
    let ops: Vec<(u64, Option<u64>, &str, &str)> = d["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["invoke"].as_u64().unwrap(),
                o["order"].as_u64(),
                o["op"].as_str().unwrap(),
                o["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    // The linearized writes (the info one among them, concurrent with it), the blocked read.
    assert_eq!(
        ops,
        vec![
            (0, Some(1), "write(1)", "ok"),
            (2, Some(2), "write(2)", "ok"),
            (4, None, "read() -> 1", "ok"),
            (5, Some(3), "write(3)", "info"),
        ]
    );
}

#[test]
fn a_witness_stays_bounded_whatever_the_history_size() {
    let mut events = Vec::new();
    for k in 0..2000i64 {
        events.push((k as u64 % 5, Invoke, "write", k.into()));
        events.push((k as u64 % 5, Ok, "write", k.into()));
    }
    // A read of a value never written, concurrent with 100 more writes.
    events.push((5, Invoke, "read", Value::Nil));
    for k in 2000..2100i64 {
        events.push((0, Invoke, "write", k.into()));
        events.push((0, Ok, "write", k.into()));
    }
    events.push((5, Ok, "read", (-1).into()));
    let result = check(&history(events), ETCD, Bounds::default()).unwrap();
    let d = &result.anomalies[0].details;
    assert_eq!(d["prefix-length"], json!(2100));
    assert_eq!(d["linearization"].as_array().unwrap().len(), 30);
    assert_eq!(d["linearization"][29]["state"], json!(2099));
    assert_eq!(d["state-before"], json!(2069));
    // The last 30 linearized, the blocked read, the 30 concurrent writes nearest to it.
    assert_eq!(d["ops"].as_array().unwrap().len(), 61);
    assert_eq!(d["prefix"].as_array().unwrap().len(), 200);
}

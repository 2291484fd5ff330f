//! Property tests for the bank checker: a correct in-memory bank (transfers applied atomically
//! at a point inside their invocation–completion window, reads of that state, `info` transfers
//! applied or not, refused overdrafts failing as Jepsen's do) is always valid, whether account
//! keys are integers or their decimal strings; one read with one balance raised is exactly one
//! `wrong-total`, witnessed by that read.

mod common;

use common::simulated::{self, SimOp};
use proptest::prelude::*;
use splitbrain::checker::{self, CheckerResult, Model, Verdict};
use splitbrain::history::{EventKind, History, Value};

/// What one planned op is.
#[derive(Clone, Debug)]
enum Plan {
    Read {
        ends: u8,
        string_keys: bool,
    },
    Transfer {
        from: usize,
        to: usize,
        amount: i64,
        ends: u8,
        applies: bool,
    },
}

/// One simulated op, ready to become two events (or one, if it never completed).
struct Done {
    f: &'static str,
    invoke: u64,
    complete: Option<(u64, EventKind, Value)>,
    arg: Value,
}

fn plan_strategy(accounts: usize) -> impl Strategy<Value = Plan> {
    let read =
        (0..10u8, any::<bool>()).prop_map(|(ends, string_keys)| Plan::Read { ends, string_keys });
    let transfer = (0..accounts, 0..accounts, 1..30i64, 0..10u8, any::<bool>()).prop_map(
        |(from, to, amount, ends, applies)| Plan::Transfer {
            from,
            to,
            amount,
            ends,
            applies,
        },
    );
    prop_oneof![read, transfer]
}

/// Initial balances, the planned ops, each op's (before, after) jitter around its effect, and
/// whether the model is given the total.
type Bank = (Vec<i64>, Vec<Plan>, Vec<(u64, u64)>, bool);

fn bank_strategy() -> impl Strategy<Value = Bank> {
    (2..6usize)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(0..100i64, n),
                prop::collection::vec(plan_strategy(n), 1..60),
            )
        })
        .prop_flat_map(|(balances, plans)| {
            let n = plans.len() + 1;
            (
                Just(balances),
                Just(plans),
                prop::collection::vec((0..90u64, 0..90u64), n),
                any::<bool>(),
            )
        })
}

fn map(balances: &[i64], string_keys: bool) -> Value {
    let key = |i: usize| match string_keys {
        true => Value::from(i.to_string().as_str()),
        false => Value::Int(i as i64),
    };
    Value::Map(
        balances
            .iter()
            .enumerate()
            .map(|(i, b)| (key(i), Value::Int(*b)))
            .collect(),
    )
}

/// Runs the plans against a correct bank: op `i` takes effect at time `100 (i + 1)`, inside
/// its window. The first op is always an ok read, so every history has one.
fn simulate(mut balances: Vec<i64>, plans: &[Plan], jitter: &[(u64, u64)]) -> Vec<Done> {
    let first = Plan::Read {
        ends: 0,
        string_keys: false,
    };
    let mut done = Vec::new();
    for (i, plan) in std::iter::once(&first).chain(plans).enumerate() {
        let at = 100 * (i as u64 + 1);
        let (invoke, complete) = (at - jitter[i].0, at + jitter[i].1);
        let op = match plan {
            Plan::Read { ends, string_keys } => {
                let (kind, value) = match ends {
                    0 => (EventKind::Info, Value::Nil),
                    1 => (EventKind::Fail, Value::Nil),
                    _ => (EventKind::Ok, map(&balances, *string_keys)),
                };
                let kind = if i == 0 { EventKind::Ok } else { kind };
                let value = if i == 0 { map(&balances, false) } else { value };
                Done {
                    f: "read",
                    invoke,
                    complete: Some((complete, kind, value)),
                    arg: Value::Nil,
                }
            }
            &Plan::Transfer {
                from,
                to,
                amount,
                ends,
                applies,
            } => {
                let arg = Value::Map(Box::new([
                    ("from".into(), Value::Int(from as i64)),
                    ("to".into(), Value::Int(to as i64)),
                    ("amount".into(), Value::Int(amount)),
                ]));
                let overdraft = balances[from] < amount;
                let (kind, applied) = match ends {
                    _ if overdraft => (Some(EventKind::Fail), false),
                    0 => (None, applies),
                    1 => (Some(EventKind::Info), applies),
                    2 => (Some(EventKind::Fail), false),
                    _ => (Some(EventKind::Ok), true),
                };
                if applied {
                    balances[from] -= amount;
                    balances[to] += amount;
                }
                let value = match overdraft {
                    // Jepsen's clients complete a refused transfer with why.
                    true => Value::list(["negative".into(), Value::Int(from as i64)]),
                    false => arg.clone(),
                };
                let complete = kind.map(|kind| (complete, kind, value));
                Done {
                    f: "transfer",
                    invoke,
                    complete,
                    arg,
                }
            }
        };
        done.push(op);
    }
    done
}

/// The ops' history, each op its own process.
fn history(done: &[Done]) -> History {
    let ops = done.iter().enumerate().map(|(i, op)| SimOp {
        process: i as u64,
        f: op.f,
        invoke: op.invoke,
        value: op.arg.clone(),
        complete: op.complete.clone(),
    });
    simulated::history(ops.collect())
}

fn check(history: &History, total: Option<i64>) -> CheckerResult {
    let model = Model::Bank {
        total,
        negative_allowed: false,
    };
    let mut results = checker::check(&model, &[], history).expect("a well-shaped bank history");
    results.checkers.remove("bank").expect("the bank result")
}

proptest! {
    #[test]
    fn correct_bank_is_always_valid((balances, plans, jitter, given) in bank_strategy()) {
        let total = balances.iter().sum::<i64>();
        let h = history(&simulate(balances, &plans, &jitter));
        let r = check(&h, given.then_some(total));
        prop_assert_eq!(r.valid, Verdict::Valid, "{:#?}", r);
        prop_assert_eq!(&r.stats["total"], &serde_json::json!(total));
    }

    #[test]
    fn one_raised_balance_is_exactly_one_wrong_total_at_that_read(
        (balances, plans, jitter, given) in bank_strategy(),
        pick in any::<prop::sample::Index>(),
        account in any::<prop::sample::Index>(),
        raise in 1..50i64,
    ) {
        let total = balances.iter().sum::<i64>();
        let mut done = simulate(balances, &plans, &jitter);
        // With an inferred total the first read sets it, so another read is corrupted.
        let skip = usize::from(!given);
        let ok_reads: Vec<usize> = (0..done.len())
            .filter(|&i| done[i].f == "read")
            .filter(|&i| matches!(done[i].complete, Some((_, EventKind::Ok, _))))
            .skip(skip)
            .collect();
        prop_assume!(!ok_reads.is_empty());
        let victim = ok_reads[pick.index(ok_reads.len())];
        let Some((_, _, Value::Map(entries))) = &mut done[victim].complete else {
            unreachable!("an ok read carries a map")
        };
        let slot = &mut entries[account.index(entries.len())].1;
        *slot = Value::Int(slot.as_int().expect("a balance") + raise);
        let h = history(&done);
        let r = check(&h, given.then_some(total));
        let read = h.ops.iter().find(|op| op.process == victim as u64).expect("the read");
        let witness = vec![read.invoke, read.complete.expect("ok read completed")];
        prop_assert_eq!(&r.anomaly_types, &["wrong-total".to_owned()]);
        prop_assert_eq!(r.anomalies.len(), 1);
        prop_assert_eq!(&r.anomalies[0].ops, &witness);
        prop_assert_eq!(&r.anomalies[0].details["sum"], &serde_json::json!(total + raise));
    }
}

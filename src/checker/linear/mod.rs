//! Decides whether a history of reads, writes and compare-and-sets (or a key-value store's
//! gets, puts and appends) is linearizable: Wing & Gong (1993) with Lowe's (2017) and Horn &
//! Kroening's (2015) refinements, Porcupine's algorithm (`search.rs`). Each key is checked on
//! its own (P-compositionality). A key whose search passes the time or memory bound is
//! `unknown`, named in `stats.unknown-keys`, never a guess.
//!
//! `model.rs` holds the sequential specifications, `prepare.rs` turns history ops into calls
//! under the semantics the history was written with (Porcupine's etcd or Knossos'),
//! `mutex.rs` and `multi_register.rs` are Knossos' mutex and multi-register, each its model and
//! its calls (Knossos' semantics only). `independent.rs` splits a register history whose values
//! are `[key value]` tuples into its keys (Jepsen's independent checker), `options.rs` is the
//! options as the command line and a history header name them. The peers' log formats are read
//! by `history::read_history`.

mod independent;
#[cfg(test)]
mod keys_and_bounds_tests;
mod model;
mod multi_register;
mod mutex;
mod options;
mod prepare;
mod search;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_knossos;

pub use model::{CasResult, Kv, KvOp, RegValue, Register, RegisterOp, SeqModel};
pub use multi_register::{MicroOp, MultiRegister, TxnOp};
pub use mutex::{LockOp, MutexOp};
pub use options::{LinearOptions, OptionsError, SemanticsName, TimeLimit, parse_init};
pub use prepare::Semantics;
pub use search::{Call, Found, Limits, Witness, search};

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::witness::{anomaly, counts};
use super::{CheckerResult, Verdict};
use crate::history::{History, HistoryError, Op};

/// The anomaly kind of a key whose history has no linearization.
pub const NONLINEARIZABLE: &str = "nonlinearizable";

/// At most this many ops of a witness's prefix (its end) are listed in `details.prefix`.
const PREFIX_SHOWN: usize = 200;

/// Which object the history is of, and how to read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinearModel {
    /// A single register: `read`, `write`.
    Register(Semantics),
    /// A single register with `cas` (value `[from to]`).
    CasRegister(Semantics),
    /// Porcupine's key-value store: `get`, `put`, `append`, each valued `[key value]`.
    Kv,
    /// Knossos' `(mutex)`: `acquire`, `release`, free at the start (Knossos' semantics).
    Mutex,
    /// Knossos' `(multi-register {...})`: `txn` ops of `[read k v]` and `[write k v]`
    /// micro-ops, every key starting at `init` (Knossos' semantics).
    MultiRegister { init: RegValue },
}

impl LinearModel {
    pub fn name(self) -> &'static str {
        match self {
            LinearModel::Register(_) => "register",
            LinearModel::CasRegister(_) => "cas-register",
            LinearModel::Kv => "kv",
            LinearModel::Mutex => "mutex",
            LinearModel::MultiRegister { .. } => "multi-register",
        }
    }
}

/// How long, and how much memory, the search may spend on one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Wall-clock time per key; `None` for no limit.
    pub time_per_key: Option<Duration>,
    /// Configurations remembered per key (each a bitset of the key's ops and a state).
    pub memo_per_key: usize,
    /// Stop searching the other keys once one is found nonlinearizable (as Porcupine does):
    /// the verdict cannot change; the keys left undecided are counted as `keys-skipped`.
    pub stop_at_first_violation: bool,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            time_per_key: Some(Duration::from_secs(60)),
            memo_per_key: 10_000_000,
            stop_at_first_violation: true,
        }
    }
}

/// Checks a history against a linearizable object (see the module docs).
pub fn check(
    history: &History,
    model: LinearModel,
    bounds: Bounds,
) -> Result<CheckerResult, HistoryError> {
    match model {
        LinearModel::Register(semantics) | LinearModel::CasRegister(semantics) => {
            let cas = matches!(model, LinearModel::CasRegister(_));
            let keys = independent::register_keys(history, semantics, cas)?;
            let register = Register {
                init: semantics.init(),
            };
            Ok(check_keys(&register, model.name(), keys, history, bounds))
        }
        LinearModel::Kv => {
            let keys = prepare::kv_calls(history)?.into_iter().collect();
            Ok(check_keys(&Kv, model.name(), keys, history, bounds))
        }
        LinearModel::Mutex => check_mutex(history, bounds),
        LinearModel::MultiRegister { init } => check_multi_register(history, init, bounds),
    }
}

/// A mutex history: one lock, one search.
fn check_mutex(history: &History, bounds: Bounds) -> Result<CheckerResult, HistoryError> {
    let keys = vec![(String::new(), mutex::mutex_calls(history)?)];
    let name = LinearModel::Mutex.name();
    Ok(check_keys(&mutex::Mutex, name, keys, history, bounds))
}

/// A multi-register history: its txns read and write several keys at once, so the keys are
/// one object and one search.
fn check_multi_register(
    history: &History,
    init: RegValue,
    bounds: Bounds,
) -> Result<CheckerResult, HistoryError> {
    let (registers, calls) = multi_register::txn_calls(history, init)?;
    let keys = vec![(String::new(), calls)];
    let name = LinearModel::MultiRegister { init }.name();
    Ok(check_keys(&registers, name, keys, history, bounds))
}

/// Searches the keys in parallel and gathers the verdicts, witnesses and unknown keys.
fn check_keys<M>(
    model: &M,
    name: &str,
    keys: Vec<(String, Vec<Call<M::Op>>)>,
    history: &History,
    bounds: Bounds,
) -> CheckerResult
where
    M: SeqModel + Sync,
    M::Op: Sync,
    M::State: Send,
{
    let mut anomalies = Vec::new();
    let mut unknown = Vec::new();
    let mut tally = [0u64; 4];
    let ops: u64 = keys.iter().map(|(_, calls)| calls.len() as u64).sum();
    for (key, found) in keys.iter().zip(search_keys(model, &keys, bounds)) {
        let (key, calls) = key;
        match found {
            Found::Linearizable => tally[0] += 1,
            Found::Violation(witness) => {
                tally[1] += 1;
                anomalies.push(violation(model, key, calls, &witness, history));
            }
            Found::Unknown(reason) => {
                tally[2] += 1;
                unknown.push(json!({ "key": key, "reason": reason }));
            }
            Found::Stopped => tally[3] += 1,
        }
    }
    let mut stats = BTreeMap::new();
    stats.insert("model".to_owned(), json!(name));
    let valid = if !anomalies.is_empty() {
        Verdict::Invalid
    } else if !unknown.is_empty() {
        stats.insert("reason".into(), json!("a key's search passed its bound"));
        Verdict::Unknown
    } else if ops == 0 {
        // Knossos and Porcupine call a history with no op left to check (none at all, or
        // only failed ops and nil reads) linearizable, and the corpus labels such histories
        // so; the warning keeps a run whose every op failed from passing unnoticed.
        stats.insert(
            "warning".into(),
            json!("no operation left to check: linearizable only vacuously"),
        );
        Verdict::Valid
    } else {
        Verdict::Valid
    };
    if !unknown.is_empty() {
        stats.insert("unknown-keys".into(), json!(unknown));
    }
    let anomaly_types = match anomalies.is_empty() {
        true => Vec::new(),
        false => vec![NONLINEARIZABLE.to_owned()],
    };
    CheckerResult {
        valid,
        anomaly_types,
        anomalies,
        counts: counts([
            ("ops", ops),
            ("keys", keys.len() as u64),
            ("keys-linearizable", tally[0]),
            ("keys-nonlinearizable", tally[1]),
            ("keys-unknown", tally[2]),
            ("keys-skipped", tally[3]),
        ]),
        stats,
    }
}

/// Each key's search, on as many threads as there are cores. Keys are taken
/// smallest first (fewest calls, then key order). With `stop_at_first_violation`, a
/// violation on a key stops the searches of the keys after it in that order, and whatever
/// they found is dropped: the keys up to the first nonlinearizable one are all decided, the
/// rest all skipped, so the result does not depend on the threads' timing.
fn search_keys<M>(
    model: &M,
    keys: &[(String, Vec<Call<M::Op>>)],
    bounds: Bounds,
) -> Vec<Found<M::State>>
where
    M: SeqModel + Sync,
    M::Op: Sync,
    M::State: Send,
{
    // Smaller keys first: a violation on one is found sooner and spares the larger ones.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by_key(|&k| keys[k].1.len());
    let first = AtomicUsize::new(usize::MAX);
    let next = AtomicUsize::new(0);
    let found: Mutex<Vec<Option<Found<M::State>>>> =
        Mutex::new((0..keys.len()).map(|_| None).collect());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&k) = order.get(i) else {
                return;
            };
            let calls = &keys[k].1;
            let limits = Limits {
                deadline: bounds.time_per_key.map(|t| Instant::now() + t),
                max_memo: bounds.memo_per_key,
                stop: bounds.stop_at_first_violation.then_some((&first, i)),
            };
            let result = match limits.stop.is_some() && first.load(Ordering::Relaxed) < i {
                true => Found::Stopped,
                false => search(model, calls, limits),
            };
            if matches!(result, Found::Violation(_)) {
                first.fetch_min(i, Ordering::Relaxed);
            }
            found.lock().expect("no search panics while holding it")[k] = Some(result);
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..threads.min(keys.len()) {
            scope.spawn(work);
        }
        work();
    });
    let first = match bounds.stop_at_first_violation {
        true => first.into_inner(),
        false => usize::MAX,
    };
    let mut found = found.into_inner().expect("no search panicked");
    for &k in order.iter().skip(first.saturating_add(1)) {
        found[k] = Some(Found::Stopped);
    }
    found
        .into_iter()
        .map(|f| f.expect("every key was searched"))
        .collect()
}

/// The anomaly for a key with no linearization: the op that could not be placed after the
/// longest linearizable prefix found, and the states the object could have been in.
fn violation<M: SeqModel>(
    model: &M,
    key: &str,
    calls: &[Call<M::Op>],
    witness: &Witness<M::State>,
    history: &History,
) -> super::Anomaly {
    let op_of = |call: usize| -> &Op { &history.ops[calls[call].id] };
    let blocked = op_of(witness.blocked);
    let last = witness.prefix.last().map(|&c| op_of(c));
    let shown = witness.prefix.len().saturating_sub(PREFIX_SHOWN);
    let prefix: Vec<u64> = witness.prefix[shown..]
        .iter()
        .map(|&c| op_of(c).invoke)
        .collect();
    let states: Vec<serde_json::Value> =
        witness.states.iter().map(|s| model.state_json(s)).collect();
    let on_key = match key.is_empty() {
        true => String::new(),
        false => format!("on key {key:?}, "),
    };
    let after = match last {
        Some(op) => format!(
            "after the longest linearizable prefix found ({} ops, the last invoked at index {})",
            witness.prefix.len(),
            op.invoke
        ),
        None => "first, from the initial state".to_owned(),
    };
    let explanation = format!(
        "{on_key}{} invoked at index {} cannot take effect {after}: the state could only be {}",
        model.describe(&calls[witness.blocked].op),
        blocked.invoke,
        serde_json::Value::from(states.clone()),
    );
    let (steps, before) = last_steps(model, calls, witness, history);
    let details = json!({
        "key": key,
        "blocked": {
            "invoke": blocked.invoke,
            "complete": blocked.complete,
            "process": blocked.process,
            "op": model.describe(&calls[witness.blocked].op),
        },
        "prefix-length": witness.prefix.len(),
        "prefix-skipped": shown,
        "prefix": prefix,
        "states": states,
        "ops": ops_around(model, calls, witness, history),
        "state-before": before,
        "linearization": steps,
    });
    anomaly(
        NONLINEARIZABLE,
        std::iter::once(blocked).chain(last),
        explanation,
        details,
    )
}

/// Steps of the linearization listed with their states in `details.linearization`, at most.
const STEPS_SHOWN: usize = 30;
/// Ops concurrent with the blocked op listed in `details.ops`, at most (nearest first).
const CONCURRENT_SHOWN: usize = 30;

/// The last [`STEPS_SHOWN`] steps of the witness's prefix, each with the state after it, and
/// the state before the first of them: the prefix is a linearization, so replaying it from the
/// initial state succeeds at every step.
fn last_steps<M: SeqModel>(
    model: &M,
    calls: &[Call<M::Op>],
    witness: &Witness<M::State>,
    history: &History,
) -> (Vec<serde_json::Value>, serde_json::Value) {
    let first = witness.prefix.len().saturating_sub(STEPS_SHOWN);
    let mut state = model.init();
    let mut before = None;
    let mut steps = Vec::with_capacity(witness.prefix.len() - first);
    for (n, &c) in witness.prefix.iter().enumerate() {
        if n == first {
            before = Some(model.state_json(&state));
        }
        state = model
            .step(&state, &calls[c].op)
            .expect("the prefix is a linearization: each of its steps succeeds");
        if n >= first {
            let op = &history.ops[calls[c].id];
            steps.push(json!({
                "order": n + 1,
                "invoke": op.invoke,
                "process": op.process,
                "op": model.describe(&calls[c].op),
                "state": model.state_json(&state),
            }));
        }
    }
    let before = before.unwrap_or_else(|| model.state_json(&state));
    (steps, before)
}

/// The ops of the key a diagram of the violation shows, by invocation: the last
/// [`STEPS_SHOWN`] linearized ones, the blocked op, and up to [`CONCURRENT_SHOWN`] ops
/// concurrent with it (those invoked nearest to it). Each says where it stands in the
/// linearization (`order`, from 1; null when it is not in the prefix).
fn ops_around<M: SeqModel>(
    model: &M,
    calls: &[Call<M::Op>],
    witness: &Witness<M::State>,
    history: &History,
) -> Vec<serde_json::Value> {
    let order: rustc_hash::FxHashMap<usize, usize> = witness
        .prefix
        .iter()
        .enumerate()
        .map(|(n, &c)| (c, n + 1))
        .collect();
    let blocked = &calls[witness.blocked];
    let mut concurrent: Vec<usize> = (0..calls.len())
        .filter(|&c| c != witness.blocked)
        .filter(|&c| calls[c].call < blocked.ret && calls[c].ret > blocked.call)
        .collect();
    concurrent.sort_by_key(|&c| (calls[c].call.abs_diff(blocked.call), c));
    concurrent.truncate(CONCURRENT_SHOWN);
    let last = witness.prefix.len().saturating_sub(STEPS_SHOWN);
    let mut shown: Vec<usize> = witness.prefix[last..]
        .iter()
        .copied()
        .chain([witness.blocked])
        .chain(concurrent)
        .collect();
    shown.sort_unstable_by_key(|&c| (calls[c].call, c));
    shown.dedup();
    shown
        .into_iter()
        .map(|c| {
            let op = &history.ops[calls[c].id];
            let outcome = match op.outcome {
                crate::history::Outcome::Ok => "ok",
                crate::history::Outcome::Fail => "fail",
                crate::history::Outcome::Info => "info",
            };
            json!({
                "invoke": op.invoke,
                "complete": op.complete,
                "process": op.process,
                "op": model.describe(&calls[c].op),
                "outcome": outcome,
                "order": order.get(&c),
            })
        })
        .collect()
}

//! History ops into the search's calls, per key, under the semantics the history was written
//! with. What `fail`, `info` and a `nil` read mean differs between the peers (the corpus
//! README's "Semantics"), so it is an option, never a guess:
//!
//! - [`Semantics::PorcupineEtcd`] (Porcupine's etcdModel on Jepsen's etcd logs): the register
//!   starts nil (key missing); an ok read of nil means the key was missing; a failed cas ran
//!   and its compare failed; a failed read (a timeout) returned nothing, so it constrains
//!   nothing; a failed write did not happen.
//! - [`Semantics::Knossos`] (Knossos' cas-register): the register starts at `init`; failed
//!   ops did not happen; a read of nil is unconstrained.
//!
//! In both, an `info` or never-completed write or cas may take effect at any point after its
//! invocation, or never: its return is placed after every other entry. Reads that constrain
//! nothing are dropped, as they can always be linearized without changing the state.

use std::collections::BTreeMap;

use super::model::{CasResult, KvOp, RegValue, RegisterOp};
use super::search::Call;
use crate::history::{History, HistoryError, Op, Outcome, Value};

/// What `fail`, `info` and `nil` mean in a register history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Semantics {
    /// Porcupine's etcdModel: init nil, nil reads are real, a failed cas compared and lost.
    PorcupineEtcd,
    /// Knossos' `(cas-register init)`: failed ops removed, nil reads unconstrained.
    Knossos { init: RegValue },
}

impl Semantics {
    /// The register's initial value.
    pub fn init(self) -> RegValue {
        match self {
            Semantics::PorcupineEtcd => None,
            Semantics::Knossos { init } => init,
        }
    }
}

pub(super) fn shape_error(model: &str, op: &Op, reason: String) -> HistoryError {
    HistoryError::Model {
        model: model.to_owned(),
        index: op.invoke,
        reason,
    }
}

/// The call of an op whose result is known (`ok`, or a definite `fail`) or not.
pub(super) fn call<T>(op: T, id: usize, history_op: &Op, known: bool) -> Call<T> {
    let ret = match (known, history_op.complete) {
        (true, Some(ret)) => ret,
        _ => u64::MAX,
    };
    Call {
        op,
        id,
        call: history_op.invoke,
        ret,
    }
}

/// The register calls of a single-key history; `cas` says whether cas ops are allowed.
pub fn register_calls(
    history: &History,
    semantics: Semantics,
    cas: bool,
) -> Result<Vec<Call<RegisterOp>>, HistoryError> {
    let model = if cas { "cas-register" } else { "register" };
    let mut calls = Vec::new();
    for (id, op) in history.ops.iter().enumerate() {
        let knossos = matches!(semantics, Semantics::Knossos { .. });
        if knossos && op.outcome == Outcome::Fail {
            continue;
        }
        let int = |v: &Value| {
            v.as_int().ok_or_else(|| {
                shape_error(model, op, format!("expected an integer value, found {v}"))
            })
        };
        let prepared = match &*op.f {
            "read" => match (op.outcome, &op.value) {
                (Outcome::Ok, Value::Nil) if !knossos => RegisterOp::Read(None),
                (Outcome::Ok, Value::Nil) => continue,
                (Outcome::Ok, v) => RegisterOp::Read(Some(int(v)?)),
                _ => continue,
            },
            "write" if op.outcome == Outcome::Fail => continue,
            "write" => RegisterOp::Write(int(&op.value)?),
            "cas" if cas => {
                let pair = op.value.as_list().filter(|items| items.len() == 2);
                let Some([from, to]) = pair else {
                    let reason = format!("expected a cas value [from to], found {}", op.value);
                    return Err(shape_error(model, op, reason));
                };
                let result = match op.outcome {
                    Outcome::Ok => CasResult::Swapped,
                    Outcome::Fail => CasResult::Failed,
                    Outcome::Info => CasResult::Unknown,
                };
                let (from, to) = (int(from)?, int(to)?);
                RegisterOp::Cas { from, to, result }
            }
            f => {
                let allowed = if cas {
                    "read, write, cas"
                } else {
                    "read, write"
                };
                let reason = format!("unknown operation {f:?}: the model has {allowed}");
                return Err(shape_error(model, op, reason));
            }
        };
        calls.push(call(prepared, id, op, op.outcome != Outcome::Info));
    }
    Ok(calls)
}

/// The kv calls per key. Each op's value is the pair `[key value]` (Jepsen's independent
/// tuples); a get's value is what it returned. Failed ops did not happen; a get whose result
/// is unknown constrains nothing.
pub fn kv_calls(history: &History) -> Result<BTreeMap<String, Vec<Call<KvOp>>>, HistoryError> {
    let mut keys: BTreeMap<String, Vec<Call<KvOp>>> = BTreeMap::new();
    for (id, op) in history.ops.iter().enumerate() {
        if op.outcome == Outcome::Fail {
            continue;
        }
        let pair = op.value.as_list().filter(|items| items.len() == 2);
        let Some([key, value]) = pair else {
            let reason = format!("expected the value [key value], found {}", op.value);
            return Err(shape_error("kv", op, reason));
        };
        let key = match key {
            Value::Str(s) => s.to_string(),
            other => other.to_string(),
        };
        let text = match value {
            Value::Str(s) => s.clone(),
            Value::Nil => "".into(),
            other => other.to_string().into(),
        };
        let prepared = match &*op.f {
            "get" if op.outcome == Outcome::Ok => KvOp::Get(text),
            "get" => continue,
            "put" => KvOp::Put(text),
            "append" => KvOp::Append(text),
            f => {
                let reason = format!("unknown operation {f:?}: the model has get, put, append");
                return Err(shape_error("kv", op, reason));
            }
        };
        let known = op.outcome != Outcome::Info;
        keys.entry(key)
            .or_default()
            .push(call(prepared, id, op, known));
    }
    Ok(keys)
}

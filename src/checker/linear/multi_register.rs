//! Knossos' `(multi-register {:x 0 :y 0})`: registers named by keys, read and written
//! together by `txn` ops whose value is a list of micro-ops `[f k v]` (`f` is `read` or
//! `write`, or Elle's `r` and `w`), applied in order and atomically. A read must see the
//! register's current value; a read of nil is unconstrained, as in Knossos (an invocation's
//! reads are nil until the completion fills them in); a write sets the register.
//!
//! Knossos' semantics of `fail` and `info`: a failed txn did not happen and is dropped; an
//! `info` or never-completed txn may take effect at any point after its invocation, or never,
//! and its reads are unconstrained (the client never saw them). Such a txn is then only
//! writes, which can always take effect, so placing its return after every other entry (the
//! search's way) is enough.
//!
//! The state is one value per key, the keys interned to small integers in order of first
//! appearance, so cloning and hashing a state is a copy of a few words.

use std::collections::HashMap;

use serde_json::json;

use super::model::{RegValue, SeqModel};
use super::prepare::{call, shape_error};
use super::search::Call;
use crate::history::{History, HistoryError, Op, Outcome, Value};

/// One micro-op of a txn, its key interned (an index into [`MultiRegister::keys`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MicroOp {
    /// A read that returned this value; `None` (nil) constrains nothing.
    Read { key: u32, value: RegValue },
    /// A write of this value (nil included: Knossos lets a register be set to nil).
    Write { key: u32, value: RegValue },
}

/// A txn: its micro-ops in order, and whether it returned ok (`known`) or its result is
/// unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnOp {
    pub micro_ops: Box<[MicroOp]>,
    pub known: bool,
}

/// The registers: their names (by interned index) and the value each starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiRegister {
    /// Every key starts with this value.
    pub init: RegValue,
    /// The key names, in the order they were interned.
    pub keys: Vec<String>,
}

impl SeqModel for MultiRegister {
    /// The value of each key, by interned index.
    type State = Box<[RegValue]>;
    type Op = TxnOp;

    fn init(&self) -> Box<[RegValue]> {
        vec![self.init; self.keys.len()].into()
    }

    fn step(&self, state: &Box<[RegValue]>, op: &TxnOp) -> Option<Box<[RegValue]>> {
        let mut next = state.clone();
        for micro_op in &op.micro_ops {
            match *micro_op {
                MicroOp::Read { value: None, .. } => {}
                MicroOp::Read { key, value } => {
                    if next[key as usize] != value {
                        return None;
                    }
                }
                MicroOp::Write { key, value } => next[key as usize] = value,
            }
        }
        Some(next)
    }

    fn state_json(&self, state: &Box<[RegValue]>) -> serde_json::Value {
        let entries = self.keys.iter().zip(state.iter());
        let map: serde_json::Map<String, serde_json::Value> =
            entries.map(|(k, v)| (k.clone(), json!(v))).collect();
        serde_json::Value::Object(map)
    }

    fn describe(&self, op: &TxnOp) -> String {
        let shown = |v: RegValue| v.map_or("nil".to_owned(), |v| v.to_string());
        let micro_ops: Vec<String> = op
            .micro_ops
            .iter()
            .map(|m| match *m {
                MicroOp::Read { key, value } => {
                    format!("read {} {}", self.keys[key as usize], shown(value))
                }
                MicroOp::Write { key, value } => {
                    format!("write {} {}", self.keys[key as usize], shown(value))
                }
            })
            .collect();
        let result = if op.known { "" } else { " -> unknown" };
        format!("txn([{}]){result}", micro_ops.join(", "))
    }
}

/// The model (every key the history names, starting at `init`) and its calls. Failed txns
/// are dropped, and so are txns that constrain and change nothing (only nil reads).
pub fn txn_calls(
    history: &History,
    init: RegValue,
) -> Result<(MultiRegister, Vec<Call<TxnOp>>), HistoryError> {
    let mut keys = Keys::default();
    let mut calls = Vec::new();
    for (id, op) in history.ops.iter().enumerate() {
        if op.outcome == Outcome::Fail {
            continue;
        }
        if &*op.f != "txn" {
            let reason = format!("unknown operation {:?}: the model has txn", op.f);
            return Err(shape_error("multi-register", op, reason));
        }
        let known = op.outcome == Outcome::Ok;
        let micro_ops = micro_ops(op, known, &mut keys)?;
        let changes = micro_ops.iter().any(|m| match m {
            MicroOp::Read { value, .. } => value.is_some(),
            MicroOp::Write { .. } => true,
        });
        if changes {
            calls.push(call(TxnOp { micro_ops, known }, id, op, known));
        }
    }
    let model = MultiRegister {
        init,
        keys: keys.names,
    };
    Ok((model, calls))
}

/// Key names to small integers, in order of first appearance.
#[derive(Default)]
struct Keys {
    index: HashMap<String, u32>,
    names: Vec<String>,
}

impl Keys {
    fn intern(&mut self, key: &Value) -> u32 {
        let name = match key {
            Value::Str(s) => s.to_string(),
            other => other.to_string(),
        };
        if let Some(&i) = self.index.get(&name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }
}

/// A txn's micro-ops; the reads of a txn whose result is unknown are nil.
fn micro_ops(op: &Op, known: bool, keys: &mut Keys) -> Result<Box<[MicroOp]>, HistoryError> {
    let error = |reason: String| shape_error("multi-register", op, reason);
    let Some(items) = op.value.as_list() else {
        let reason = format!("expected a txn [[f k v] ...], found {}", op.value);
        return Err(error(reason));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let triple = item.as_list().filter(|t| t.len() == 3);
        let Some([f, k, v]) = triple else {
            let reason = format!("expected a micro-op [f k v], found {item}");
            return Err(error(reason));
        };
        let value = match v {
            Value::Nil => None,
            Value::Int(i) => Some(*i),
            other => {
                let reason = format!("expected an integer or nil value in {item}, found {other}");
                return Err(error(reason));
            }
        };
        let key = keys.intern(k);
        out.push(match f.as_str() {
            Some("read" | "r") if known => MicroOp::Read { key, value },
            Some("read" | "r") => MicroOp::Read { key, value: None },
            Some("write" | "w") => MicroOp::Write { key, value },
            _ => {
                let reason = format!("expected a micro-op read or write, found {f} in {item}");
                return Err(error(reason));
            }
        });
    }
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> MultiRegister {
        MultiRegister {
            init: Some(0),
            keys: vec!["x".into(), "y".into()],
        }
    }

    fn txn(micro_ops: &[MicroOp]) -> TxnOp {
        TxnOp {
            micro_ops: micro_ops.into(),
            known: true,
        }
    }

    const fn read(key: u32, value: RegValue) -> MicroOp {
        MicroOp::Read { key, value }
    }

    const fn write(key: u32, value: i64) -> MicroOp {
        MicroOp::Write {
            key,
            value: Some(value),
        }
    }

    #[test]
    fn a_read_must_see_the_current_value_of_its_key() {
        let m = model();
        let s = m.init();
        assert_eq!(m.step(&s, &txn(&[read(1, Some(0))])), Some(s.clone()));
        assert_eq!(m.step(&s, &txn(&[read(1, Some(1))])), None);
    }

    #[test]
    fn a_nil_read_is_unconstrained() {
        let m = model();
        let s: Box<[RegValue]> = vec![Some(5), None].into();
        assert_eq!(m.step(&s, &txn(&[read(0, None), read(1, None)])), Some(s));
    }

    #[test]
    fn micro_ops_apply_in_order_so_a_txn_reads_its_own_writes() {
        let m = model();
        let s = m.init();
        let after = m.step(&s, &txn(&[write(0, 2), read(0, Some(2)), write(1, 3)]));
        assert_eq!(after, Some(vec![Some(2), Some(3)].into()));
        assert_eq!(m.step(&s, &txn(&[read(0, Some(2)), write(0, 2)])), None);
    }

    #[test]
    fn a_txn_is_described_with_its_keys_and_values() {
        let m = model();
        let mut op = txn(&[read(0, Some(1)), write(1, 2)]);
        assert_eq!(m.describe(&op), "txn([read x 1, write y 2])");
        op.known = false;
        assert_eq!(m.describe(&op), "txn([read x 1, write y 2]) -> unknown");
        assert_eq!(m.state_json(&m.init()), json!({"x": 0, "y": 0}));
    }
}

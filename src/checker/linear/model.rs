//! Sequential specifications the linearizability search steps through: a register (read,
//! write), a compare-and-set register (read, write, cas) and Porcupine's key-value store
//! (get, put, append). A model says only what one operation does to one key's state; which
//! history ops become which model ops, and under which semantics, is `prepare.rs`'s job.

use std::fmt::Debug;
use std::hash::Hash;

use serde_json::json;

/// A sequential object: an initial state, and what each operation does to it.
pub trait SeqModel {
    type State: Clone + Eq + Hash + Debug;
    type Op: Clone + Debug;

    fn init(&self) -> Self::State;

    /// The state after `op` runs in `state`, or `None` if `op` could not have returned what
    /// it returned there.
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;

    /// The state as results.json shows it.
    fn state_json(&self, state: &Self::State) -> serde_json::Value;

    /// The op in words, for explanations: `cas(3, 0) -> fail`.
    fn describe(&self, op: &Self::Op) -> String;
}

/// A register's value: `None` is nil (for etcd, the key is missing).
pub type RegValue = Option<i64>;

/// What a cas returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CasResult {
    /// It swapped: the register held `from`.
    Swapped,
    /// It ran and its compare failed: the register did not hold `from`.
    Failed,
    /// Unknown (info, or never completed): it swaps if the register holds `from`, else it
    /// does nothing.
    Unknown,
}

/// One register operation with what it returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegisterOp {
    /// A read that returned this value.
    Read(RegValue),
    Write(i64),
    Cas {
        from: i64,
        to: i64,
        result: CasResult,
    },
}

/// A register with an initial value; with cas when the history has any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Register {
    pub init: RegValue,
}

impl SeqModel for Register {
    type State = RegValue;
    type Op = RegisterOp;

    fn init(&self) -> RegValue {
        self.init
    }

    fn step(&self, state: &RegValue, op: &RegisterOp) -> Option<RegValue> {
        match *op {
            RegisterOp::Read(v) => (v == *state).then_some(*state),
            RegisterOp::Write(v) => Some(Some(v)),
            RegisterOp::Cas { from, to, result } => {
                let matches = *state == Some(from);
                match result {
                    CasResult::Swapped => matches.then_some(Some(to)),
                    CasResult::Failed => (!matches).then_some(*state),
                    CasResult::Unknown => Some(if matches { Some(to) } else { *state }),
                }
            }
        }
    }

    fn state_json(&self, state: &RegValue) -> serde_json::Value {
        json!(state)
    }

    fn describe(&self, op: &RegisterOp) -> String {
        let shown = |v: RegValue| v.map_or("nil".to_owned(), |v| v.to_string());
        match *op {
            RegisterOp::Read(v) => format!("read() -> {}", shown(v)),
            RegisterOp::Write(v) => format!("write({v})"),
            RegisterOp::Cas { from, to, result } => {
                let result = match result {
                    CasResult::Swapped => "ok",
                    CasResult::Failed => "fail",
                    CasResult::Unknown => "unknown",
                };
                format!("cas({from}, {to}) -> {result}")
            }
        }
    }
}

/// One key-value operation on one key (Porcupine's kvModel), with what it returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOp {
    /// A get that returned this string.
    Get(Box<str>),
    Put(Box<str>),
    Append(Box<str>),
}

/// Porcupine's key-value model for one key: a string starting empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Kv;

impl SeqModel for Kv {
    type State = String;
    type Op = KvOp;

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, op: &KvOp) -> Option<String> {
        match op {
            KvOp::Get(v) => (**v == **state).then(|| state.clone()),
            KvOp::Put(v) => Some(v.to_string()),
            KvOp::Append(v) => Some(format!("{state}{v}")),
        }
    }

    fn state_json(&self, state: &String) -> serde_json::Value {
        json!(state)
    }

    fn describe(&self, op: &KvOp) -> String {
        match op {
            KvOp::Get(v) => format!("get() -> {v:?}"),
            KvOp::Put(v) => format!("put({v:?})"),
            KvOp::Append(v) => format!("append({v:?})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_cas_needs_a_different_value_and_changes_nothing() {
        let reg = Register { init: None };
        let cas = |result| RegisterOp::Cas {
            from: 3,
            to: 0,
            result,
        };
        assert_eq!(reg.step(&Some(3), &cas(CasResult::Failed)), None);
        assert_eq!(reg.step(&Some(4), &cas(CasResult::Failed)), Some(Some(4)));
        assert_eq!(reg.step(&Some(3), &cas(CasResult::Swapped)), Some(Some(0)));
        assert_eq!(reg.step(&None, &cas(CasResult::Swapped)), None);
    }

    #[test]
    fn an_unknown_cas_swaps_when_it_matches_and_is_a_no_op_otherwise() {
        let reg = Register { init: None };
        let cas = RegisterOp::Cas {
            from: 3,
            to: 0,
            result: CasResult::Unknown,
        };
        assert_eq!(reg.step(&Some(3), &cas), Some(Some(0)));
        assert_eq!(reg.step(&Some(1), &cas), Some(Some(1)));
    }

    #[test]
    fn a_read_of_nil_means_the_key_was_missing() {
        let reg = Register { init: None };
        assert_eq!(reg.step(&None, &RegisterOp::Read(None)), Some(None));
        assert_eq!(reg.step(&Some(1), &RegisterOp::Read(None)), None);
    }

    #[test]
    fn kv_append_concatenates_and_get_must_match() {
        let s = Kv.step(&"x".into(), &KvOp::Append("y".into())).unwrap();
        assert_eq!(s, "xy");
        assert_eq!(Kv.step(&s, &KvOp::Get("x".into())), None);
    }
}

//! Knossos' `(mutex)`: a single lock, free at the start, with `acquire` and `release`.
//! Acquiring a held lock and releasing a free one are impossible, so a history in which two
//! clients hold the lock at once, or in which a release succeeds with nobody holding it, has
//! no linearization.
//!
//! Knossos' semantics of `fail` and `info` (the corpus README's "Semantics"): a failed op did
//! not happen and is dropped; an `info` or never-completed op may take effect at any point
//! after its invocation, or never. The search places such an op's return after every other
//! entry, so it must be linearized somewhere; the model lets it take effect when it can and
//! be a no-op when it cannot, which is the same as "or never" (a no-op changes nothing, and
//! placing the op last instead changes nothing either).

use serde_json::json;

use super::model::SeqModel;
use super::prepare::{call, shape_error};
use super::search::Call;
use crate::history::{History, HistoryError, Outcome};

/// Which way an op turns the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOp {
    Acquire,
    Release,
}

/// One mutex op: `known` when it returned ok, not when its result is unknown (`info`, or
/// never completed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MutexOp {
    pub f: LockOp,
    pub known: bool,
}

/// The mutex; its state is whether it is held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mutex;

impl SeqModel for Mutex {
    /// `true` when held.
    type State = bool;
    type Op = MutexOp;

    fn init(&self) -> bool {
        false
    }

    fn step(&self, held: &bool, op: &MutexOp) -> Option<bool> {
        let after = match op.f {
            LockOp::Acquire => true,
            LockOp::Release => false,
        };
        match (*held != after, op.known) {
            (true, _) => Some(after),
            (false, true) => None,
            // It cannot take effect here: it did not happen.
            (false, false) => Some(*held),
        }
    }

    fn state_json(&self, held: &bool) -> serde_json::Value {
        json!(if *held { "held" } else { "free" })
    }

    fn describe(&self, op: &MutexOp) -> String {
        let f = match op.f {
            LockOp::Acquire => "acquire",
            LockOp::Release => "release",
        };
        let result = if op.known { "ok" } else { "unknown" };
        format!("{f}() -> {result}")
    }
}

/// The mutex calls of a history: `acquire` and `release`, values ignored; failed ops dropped.
pub fn mutex_calls(history: &History) -> Result<Vec<Call<MutexOp>>, HistoryError> {
    let mut calls = Vec::new();
    for (id, op) in history.ops.iter().enumerate() {
        if op.outcome == Outcome::Fail {
            continue;
        }
        let f = match &*op.f {
            "acquire" => LockOp::Acquire,
            "release" => LockOp::Release,
            f => {
                let reason = format!("unknown operation {f:?}: the model has acquire, release");
                return Err(shape_error("mutex", op, reason));
            }
        };
        let known = op.outcome == Outcome::Ok;
        calls.push(call(MutexOp { f, known }, id, op, known));
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn op(f: LockOp, known: bool) -> MutexOp {
        MutexOp { f, known }
    }

    #[test]
    fn acquiring_a_held_lock_is_impossible() {
        assert_eq!(Mutex.step(&false, &op(LockOp::Acquire, true)), Some(true));
        assert_eq!(Mutex.step(&true, &op(LockOp::Acquire, true)), None);
    }

    #[test]
    fn releasing_a_free_lock_is_impossible() {
        assert_eq!(Mutex.step(&true, &op(LockOp::Release, true)), Some(false));
        assert_eq!(Mutex.step(&false, &op(LockOp::Release, true)), None);
    }

    #[test]
    fn an_unknown_op_takes_effect_when_it_can_and_is_a_no_op_otherwise() {
        assert_eq!(Mutex.step(&false, &op(LockOp::Acquire, false)), Some(true));
        assert_eq!(Mutex.step(&true, &op(LockOp::Acquire, false)), Some(true));
        assert_eq!(Mutex.step(&true, &op(LockOp::Release, false)), Some(false));
        assert_eq!(Mutex.step(&false, &op(LockOp::Release, false)), Some(false));
    }

    #[test]
    fn ops_are_described_with_their_result() {
        assert_eq!(
            Mutex.describe(&op(LockOp::Acquire, true)),
            "acquire() -> ok"
        );
        assert_eq!(
            Mutex.describe(&op(LockOp::Release, false)),
            "release() -> unknown"
        );
    }
}

//! Transactions as Elle sees them: a history op `txn` (Jepsen writes `:f :txn`; Elle's own
//! files leave `:f` out) whose value is a list of micro-ops `[f key value]`: `append k v` and
//! `r k list` for list-append, `w k v` and `r k v` for rw-register. Keys are interned to small
//! numbers; values stay [`Value`]s, borrowed from the history (a million transactions' reads
//! would otherwise be copied once more).

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

use crate::checker::witness::model_error;
use crate::history::{History, HistoryError, Op, Outcome, Value};

/// A key, interned: its position in [`Txns::keys`].
pub type Key = u32;

/// One micro-op of a transaction, its values borrowed from the history (`'h`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Micro<'h> {
    /// `append k v` (list-append).
    Append(Key, &'h Value),
    /// `w k v` (rw-register).
    Write(Key, &'h Value),
    /// `r k v`: what the read returned; `None` when the op's result is unknown (an `info` or
    /// never-completed transaction, or a read Jepsen left nil in the invocation).
    Read(Key, Option<&'h Value>),
}

/// One transaction: the history op it came from and its micro-ops.
#[derive(Clone, Debug)]
pub struct Txn<'h> {
    /// Position of the op in [`History::ops`].
    pub op: usize,
    pub outcome: Outcome,
    pub micros: Vec<Micro<'h>>,
}

/// Every transaction of a history, with the keys they name.
#[derive(Debug, Default)]
pub struct Txns<'h> {
    pub txns: Vec<Txn<'h>>,
    /// Each interned key's value, for explanations.
    pub keys: Vec<&'h Value>,
}

/// What a list-append read of nil returned: the empty list (the key was never written).
static EMPTY_LIST: LazyLock<Value> = LazyLock::new(|| Value::list([]));

impl Txns<'_> {
    /// A key as people write it: `x` for the keyword `:x` or the string "x", `9` for 9.
    pub fn key_name(&self, key: Key) -> String {
        match self.keys[key as usize] {
            Value::Str(s) => s.to_string(),
            other => other.to_string(),
        }
    }
}

/// Which micro-op names a workload allows: list-append's `append`/`r`, or rw-register's
/// `w`/`r`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    ListAppend,
    RwRegister,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::ListAppend => "list-append",
            Shape::RwRegister => "rw-register",
        }
    }
}

/// Reads the history's ops as transactions. Ops whose `f` is neither `txn` nor empty are an
/// error naming the op, as is a micro-op that is not `[f key value]` with an `f` of `shape`.
pub fn parse(history: &History, shape: Shape) -> Result<Txns<'_>, HistoryError> {
    let mut keys: FxHashMap<&Value, Key> = FxHashMap::default();
    let mut out = Txns::default();
    for (n, op) in history.ops.iter().enumerate() {
        if !matches!(&*op.f, "txn" | "") {
            let reason = format!("expected the operation txn, found {:?}", &*op.f);
            return Err(model_error(shape.name(), op.invoke, reason));
        }
        let micros = micros(op, shape, &mut keys, &mut out.keys)?;
        out.txns.push(Txn {
            op: n,
            outcome: op.outcome,
            micros,
        });
    }
    Ok(out)
}

fn micros<'h>(
    op: &'h Op,
    shape: Shape,
    keys: &mut FxHashMap<&'h Value, Key>,
    names: &mut Vec<&'h Value>,
) -> Result<Vec<Micro<'h>>, HistoryError> {
    let bad = |reason: String| model_error(shape.name(), op.invoke, reason);
    let items = op.value.as_list().ok_or_else(|| {
        bad(format!(
            "expected a transaction, a list of micro-ops [f key value], found {}",
            op.value
        ))
    })?;
    // An ok transaction's completion carries what it read; otherwise nothing is known.
    let known = op.outcome == Outcome::Ok;
    let mut micros = Vec::with_capacity(items.len());
    for item in items {
        let Some([f, key, value]) = item.as_list() else {
            return Err(bad(format!(
                "expected a micro-op [f key value], found {item}"
            )));
        };
        let next = names.len() as Key;
        let key = *keys.entry(key).or_insert_with(|| {
            names.push(key);
            next
        });
        let micro = match (f.as_str(), shape) {
            // list-append: an ok read of nil is the empty list (the key was never written).
            (Some("r"), _) => Micro::Read(
                key,
                known.then(|| match (shape, value) {
                    (Shape::ListAppend, Value::Nil) => &*EMPTY_LIST,
                    _ => value,
                }),
            ),
            (Some("append"), Shape::ListAppend) => Micro::Append(key, value),
            (Some("w"), Shape::RwRegister) => Micro::Write(key, value),
            _ => {
                let allowed = match shape {
                    Shape::ListAppend => "append or r",
                    Shape::RwRegister => "w or r",
                };
                return Err(bad(format!(
                    "expected a micro-op {allowed} for {}, found {f}",
                    shape.name()
                )));
            }
        };
        micros.push(micro);
    }
    Ok(micros)
}

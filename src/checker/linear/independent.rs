//! Jepsen's independent keys (`jepsen.independent`) for registers: when every op's value is a
//! tuple `[key value]` (a read `[k v]`, a write `[k v]`, a cas `[k [from to]]`), each key is a
//! register of its own and is checked on its own (Horn & Kroening's P-compositionality), as
//! kv's keys are. A history is either all tuples or all plain values; a mix is malformed, as
//! it cannot say which register a plain op is on.

use std::collections::BTreeMap;

use super::model::RegisterOp;
use super::prepare::{self, Semantics};
use super::search::Call;
use crate::history::{History, HistoryError, Op, Outcome, Value};

/// What an op's value says about the keys.
enum Shape<'a> {
    /// `[key value]`: on `key`, with `value` as the register op's own.
    Tuple(&'a Value, &'a Value),
    /// A plain register value: the history is one register.
    Plain,
    /// A read that returned nothing (failed, timed out, never completed) with no key: it
    /// constrains no register, so it fits either kind of history.
    Neither,
}

fn shape(op: &Op) -> Shape<'_> {
    let pair = op.value.as_list().filter(|items| items.len() == 2);
    match (&*op.f, pair) {
        // A plain cas is `[from to]` too: only `[k [from to]]` is a tuple.
        ("cas", Some([key, value])) if value.as_list().is_some() => Shape::Tuple(key, value),
        ("cas", _) => Shape::Plain,
        (_, Some([key, value])) => Shape::Tuple(key, value),
        ("read", None) if op.value == Value::Nil && op.outcome != Outcome::Ok => Shape::Neither,
        _ => Shape::Plain,
    }
}

/// A key's name in results: a string or keyword as itself, anything else as printed.
fn key_name(key: &Value) -> String {
    match key {
        Value::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// Each key's name and calls.
pub type Keys<Op> = Vec<(String, Vec<Call<Op>>)>;

/// The register calls per key: one unnamed key (`""`) for a history of plain values, else one
/// per tuple key. Each call's `id` is its op's position in `history.ops`.
pub fn register_keys(
    history: &History,
    semantics: Semantics,
    cas: bool,
) -> Result<Keys<RegisterOp>, HistoryError> {
    let model = if cas { "cas-register" } else { "register" };
    let mut first: Option<(&Op, bool)> = None;
    // Per key: the ops with their inner value, and where each sits in `history.ops`.
    let mut keys: BTreeMap<String, (Vec<Op>, Vec<usize>)> = BTreeMap::new();
    for (id, op) in history.ops.iter().enumerate() {
        let tuple = match shape(op) {
            Shape::Neither => continue,
            Shape::Tuple(key, value) => {
                let (ops, ids) = keys.entry(key_name(key)).or_default();
                ops.push(Op {
                    value: value.clone(),
                    ..op.clone()
                });
                ids.push(id);
                true
            }
            Shape::Plain => false,
        };
        match first {
            None => first = Some((op, tuple)),
            Some((earlier, was_tuple)) if was_tuple != tuple => {
                return Err(mixed(model, op, earlier, tuple));
            }
            Some(_) => {}
        }
    }
    if !matches!(first, Some((_, true))) {
        let calls = prepare::register_calls(history, semantics, cas)?;
        return Ok(vec![(String::new(), calls)]);
    }
    let mut out = Vec::with_capacity(keys.len());
    for (key, (ops, ids)) in keys {
        let one = History {
            header: None,
            ops,
            nemesis: Vec::new(),
            event_count: 0,
        };
        let mut calls = prepare::register_calls(&one, semantics, cas)?;
        for call in &mut calls {
            call.id = ids[call.id];
        }
        out.push((key, calls));
    }
    Ok(out)
}

fn mixed(model: &str, op: &Op, earlier: &Op, tuple: bool) -> HistoryError {
    let (this, that) = match tuple {
        true => ("a [key value] tuple", "a plain value"),
        false => ("a plain value", "a [key value] tuple"),
    };
    HistoryError::Model {
        model: model.to_owned(),
        index: op.invoke,
        reason: format!(
            "its value {} is {this}, but the op invoked at index {} has {that} ({}): expected \
             every op on its own key ([k v], a cas [k [from to]]) or none",
            op.value, earlier.invoke, earlier.value
        ),
    }
}

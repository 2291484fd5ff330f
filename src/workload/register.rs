//! A register's or cas-register's parts of `[model]`: `keys`, `values`, `time_limit_per_key`,
//! the read's `missing` statuses, and the placeholders each op must (or must not) use (kv's
//! ops too: `kv.rs` holds the rest of kv's parts).
//!
//! A register workload writes small integers so that reads and cases collide: with values
//! drawn from a handful, a cas often finds what it compares against, and a stale read shows.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::cx::Cx;
use super::error::WorkloadError;
use super::plan::{HttpOp, ValueSpec};
use super::raw::RawModel;
use super::template::Placeholder;
use crate::checker::Model;
use crate::checker::linear::Bounds;

/// Values 0..=4 unless `values` says otherwise: five values, so reads and cases collide.
const DEFAULT_VALUES: (i64, i64) = (0, 4);
/// The most keys a keyed workload (register, kv, list-append, rw-register) may name.
pub(super) const MAX_KEYS: i64 = 100_000;

/// The first register-only option given, with its span (for "applies only to" errors).
pub(super) fn register_option(model: &RawModel) -> Option<(&'static str, Range<usize>)> {
    [
        ("keys", model.keys.as_ref().map(Spanned::span)),
        (
            "time_limit_per_key",
            model.time_limit_per_key.as_ref().map(Spanned::span),
        ),
    ]
    .into_iter()
    .find_map(|(name, span)| Some((name, span?)))
}

/// A linear model's search bounds, with `time_limit_per_key` when given.
pub(super) fn check_bounds(cx: &Cx, raw: &RawModel) -> Result<Bounds, WorkloadError> {
    let mut bounds = Bounds::default();
    if let Some(limit) = &raw.time_limit_per_key {
        bounds.time_per_key = Some(cx.duration(limit, "model.time_limit_per_key", false)?);
    }
    Ok(bounds)
}

/// `keys` (1 to 100 000, default 1) and `values` (min <= max, default 0..=4).
pub(super) fn check_register_values(cx: &Cx, raw: &RawModel) -> Result<ValueSpec, WorkloadError> {
    let (min, max) = match &raw.values {
        Some(values) => super::validate::value_range(cx, values)?,
        None => DEFAULT_VALUES,
    };
    Ok(ValueSpec::Register {
        keys: check_keys(cx, raw)?,
        min,
        max,
    })
}

/// `keys`: 1 to 100 000, default 1.
pub(super) fn check_keys(cx: &Cx, raw: &RawModel) -> Result<u32, WorkloadError> {
    let keys = match &raw.keys {
        Some(keys) => cx.int_in(keys, "model.keys", 1, MAX_KEYS)?,
        None => 1,
    };
    Ok(u32::try_from(keys).expect("checked to be in 1..=100000"))
}

/// What each register or kv op's request must carry: a write, put or append its
/// `{{value}}`, a cas its `{{from}}` and `{{to}}`, and with more than one key, every op its
/// `{{key}}` (else every key would be one object, and the checker would see impossible
/// histories).
pub(super) fn check_register_ops(
    cx: &Cx,
    raw: &RawModel,
    model: &Model,
    values: &ValueSpec,
    ops: &BTreeMap<String, HttpOp>,
) -> Result<(), WorkloadError> {
    let (keys, object) = match values {
        ValueSpec::Register { keys, .. } => (keys, "register"),
        ValueSpec::Kv { keys, .. } => (keys, "key"),
        _ => return Ok(()),
    };
    for (name, op) in ops {
        let used: Vec<Placeholder> = op
            .path
            .placeholders()
            .chain(op.body.iter().flat_map(|b| b.placeholders()))
            .collect();
        let uses = |p: Placeholder| used.contains(&p);
        let missing = match name.as_str() {
            _ if *keys > 1 && !uses(Placeholder::Key) => Some(format!(
                "keys = {keys}: the request must name its key with {{{{key}}}} in its path or \
                 body, or every key would land on one {object}"
            )),
            "write" | "put" | "append" if !uses(Placeholder::Value) => Some(format!(
                "a {name} must send its value: use {{{{value}}}} in its path or body"
            )),
            "cas" if !uses(Placeholder::From) || !uses(Placeholder::To) => Some(
                "a cas must send what it compares against and what it sets: use {{from}} and \
                 {{to}} in its path or body"
                    .to_owned(),
            ),
            _ => None,
        };
        if let Some(message) = missing {
            let section = raw
                .ops
                .iter()
                .find(|(n, _)| n.get_ref() == name)
                .map(|(_, s)| s.span());
            return Err(cx.span(
                section,
                &format!("model.ops.{name}"),
                format!("{message} ({} model)", model.name()),
            ));
        }
    }
    Ok(())
}

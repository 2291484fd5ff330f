//! kv's parts of `[model]` (Porcupine's key-value store: `get`, `put` and `append` on keys
//! whose values are strings): `values`, which op sections a mix lets a workload leave out, and
//! a mix that observes the store. `keys`, `time_limit_per_key` and the placeholders each op
//! must use are shared with the registers (`register.rs`).
//!
//! Porcupine's kv tests write `"x CLIENT SEQ y"`: every put and append a string no other write
//! sends, delimited by `x` and `y`, so a key's string says which appends it holds and in which
//! order. splitbrain writes `"x N y"` with `N` fresh for each write, or drawn from `values`.

use toml::Spanned;

use super::cx::Cx;
use super::error::WorkloadError;
use super::plan::ValueSpec;
use super::raw::RawModel;
use super::register::check_keys;
use crate::checker::Model;
use crate::checker::linear::LinearModel;
use crate::history::Name;

/// The operation that observes the store: a mix without it checks nothing.
const GET: &str = "get";

/// Whether the model is Porcupine's kv store.
pub(super) fn is_kv(model: &Model) -> bool {
    matches!(
        model,
        Model::Linear {
            model: LinearModel::Kv,
            ..
        }
    )
}

/// `keys` and `values`: without `values` each write's `N` is fresh (the default, which tells
/// every write apart); with `values = { min, max }` it is drawn from `min..=max`.
pub(super) fn check_kv_values(cx: &Cx, raw: &RawModel) -> Result<ValueSpec, WorkloadError> {
    let tokens = match &raw.values {
        Some(values) => Some(super::validate::value_range(cx, values)?),
        None => None,
    };
    Ok(ValueSpec::Kv {
        keys: check_keys(cx, raw)?,
        tokens,
    })
}

/// Whether `[model.ops.OP]` must be in the file. A kv store without append (etcd, Redis'
/// `SET`/`GET`) runs with a mix that leaves `append` out, and then needs no section for it;
/// every other model needs one section per operation, as does a kv get.
pub(super) fn section_needed(model: &Model, raw: &RawModel, op: &str) -> bool {
    if !is_kv(model) || op == GET {
        return true;
    }
    match &raw.mix {
        None => true,
        Some(mix) => {
            (mix.get_ref().iter()).any(|(name, w)| name.get_ref() == op && *w.get_ref() > 0.0)
        }
    }
}

/// What ends "missing section [model.ops.OP]": for a kv put or append, that a mix that leaves
/// it out needs none.
pub(super) fn unless_left_out(model: &Model, op: &str) -> String {
    match is_kv(model) && op != GET {
        true => format!(" in its mix (leave {op} out of mix to run without it)"),
        false => String::new(),
    }
}

/// A kv mix (its weights above 0) must have gets: they are the only ops that observe the
/// store, so without them every history is linearizable and the run proves nothing.
pub(super) fn check_mix(
    cx: &Cx,
    raw: &RawModel,
    model: &Model,
    mix: &[(Name, f64)],
) -> Result<(), WorkloadError> {
    if !is_kv(model) || mix.iter().any(|(f, _)| &**f == GET) {
        return Ok(());
    }
    Err(cx.span(
        raw.mix.as_ref().map(Spanned::span),
        "model.mix",
        "expected get with a weight above 0: gets are the only kv ops that observe the store, \
         so without them any history is linearizable; like mix = { get = 0.5, put = 0.25, \
         append = 0.25 }"
            .to_owned(),
    ))
}

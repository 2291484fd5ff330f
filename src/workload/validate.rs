//! Validation: a [`RawWorkload`] becomes a [`Plan`], or one [`WorkloadError`] naming the file,
//! the field's dotted path, its line and column, what was found and what was expected.
//!
//! Every check lives here so nothing downstream re-checks: the runner and the HTTP client
//! trust a `Plan`. The one thing left for run time is `${VAR}` in header values, which is
//! only syntax-checked here and resolved from the environment at run time (`env.rs`).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use toml::Spanned;

use super::bank::{NOT_A_BANK_READ, bank_option, check_balances, check_transfers};
use super::cx::Cx;
use super::env::parse_env_refs;
use super::error::WorkloadError;
use super::plan::{
    Extract, HeaderSpec, HttpOp, Phases, Plan, Source, StatusSet, Target, ValueSpec,
};
use super::raw::{RawModel, RawOp, RawPhases, RawTarget, RawValues, RawWorkload};
use super::register::{check_bounds, check_register_values, register_option};
use super::template::{Placeholder, Template};
use crate::checker::Model;
use crate::checker::linear::LinearModel;
use crate::checker::relations::view_f;
use crate::client::Invocation;
use crate::history::{Name, Value};

const MAX_CONCURRENCY: i64 = 10_000;
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_QUIET: Duration = Duration::from_secs(5);
const DEFAULT_FINAL_READS: u32 = 3;
const DEFAULT_DRAIN_LIMIT: u64 = 100_000;
const DEFAULT_CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(500);

impl Plan {
    /// Reads and validates a workload file.
    pub fn from_file(path: &Path) -> Result<Plan, WorkloadError> {
        let text = std::fs::read_to_string(path).map_err(|source| WorkloadError::Io {
            path: path.to_owned(),
            source,
        })?;
        Plan::from_toml(&text, path)
    }

    /// Validates a workload's text; `path` is only used to name the file in errors and in
    /// [`Plan::source`]. Without a `seed`, one is derived from the clock (the runner records
    /// it in the history header, so the run can still be repeated).
    pub fn from_toml(text: &str, path: &Path) -> Result<Plan, WorkloadError> {
        let cx = Cx::new(path, text);
        let raw: RawWorkload = toml::from_str(text).map_err(|e| cx.syntax(&e))?;
        let source = Source {
            path: path.to_owned(),
            text: text.to_owned(),
        };
        build(&cx, raw, source)
    }
}

fn build(cx: &Cx, raw: RawWorkload, source: Source) -> Result<Plan, WorkloadError> {
    let name = check_name(cx, &raw.name)?;
    let seed = raw.seed.map_or_else(clock_seed, Spanned::into_inner);
    let time_limit = cx.duration(&raw.time_limit, "time_limit", false)?;
    let concurrency = cx.int_in(&raw.concurrency, "concurrency", 1, MAX_CONCURRENCY)?;
    let rate = check_rate(cx, raw.rate.as_ref())?;
    let target = check_target(cx, raw.target)?;
    let model_span = raw.model.span();
    let raw_model = raw.model.into_inner();
    let model = check_kind(cx, &raw_model, model_span.clone())?;
    let values = check_values(cx, &raw_model, &model, model_span.clone())?;
    super::txn::check_pairing(cx, &model, &target, &raw_model, model_span.clone())?;
    let ops = match target.postgres {
        Some(_) => BTreeMap::new(),
        None => check_ops(cx, &raw_model, &model, model_span.clone())?,
    };
    super::register::check_register_ops(cx, &raw_model, &model, &values, &ops)?;
    super::txn::check_txn_request(cx, &raw_model, &ops)?;
    let views = super::views::check_views(cx, &raw.views)?;
    let mix = check_mix(cx, &raw_model, &model, &model_span)?;
    super::kv::check_mix(cx, &raw_model, &model, &mix)?;
    let mix = normalise(mix, &views);
    let relations = super::views::check_relations(cx, &raw.relations, &views, &model)?;
    if matches!(model, Model::Custom { .. }) && relations.is_empty() {
        return Err(cx.span(
            Some(model_span),
            "relations",
            "kind = \"custom\" has no checker of its own: declare at least one [[relations]] \
             (over [views.NAME]) to say what must hold"
                .to_owned(),
        ));
    }
    let phases = check_phases(cx, raw.phases.as_ref().map(Spanned::get_ref))?;
    let mut deploy = super::deploy::check(cx, raw.deploy, &name)?;
    if let Some(deploy) = &mut deploy {
        let urls = std::iter::once(target.base_url.as_str())
            .chain(ops.values().filter_map(|op| op.base_url.as_deref()))
            .chain(views.values().filter_map(|view| view.base_url.as_deref()));
        super::deploy::publish_ports(deploy, urls);
    }
    let nodes = match (&deploy, raw.nodes) {
        // Deployed containers are the nodes, by their names, unless [[nodes]] say otherwise.
        (Some(deploy), None) if raw.nemesis.is_some() => Some(super::deploy::nodes(deploy)),
        (_, nodes) => nodes,
    };
    let mut nemesis = super::nemesis::check(cx, nodes, raw.nemesis, time_limit)?;
    if let (Some(deploy), Some(nemesis)) = (&deploy, &mut nemesis) {
        super::deploy::name_containers(deploy, nemesis);
    }
    Ok(Plan {
        name,
        seed,
        time_limit,
        concurrency: usize::try_from(concurrency).expect("checked to be in 1..=10000"),
        rate,
        target,
        model,
        mix,
        values,
        ops,
        views,
        relations,
        phases,
        nemesis,
        deploy,
        source,
    })
}

/// A seed for a run whose workload names none: the clock's nanoseconds.
fn clock_seed() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    now.as_secs()
        .wrapping_mul(1_000_000_007)
        .wrapping_add(u64::from(now.subsec_nanos()))
}

fn check_name(cx: &Cx, name: &Spanned<String>) -> Result<String, WorkloadError> {
    let text = name.get_ref();
    let fine = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if text.is_empty() || !text.chars().all(fine) {
        return Err(cx.at(
            name,
            "name",
            format!(
                "expected letters, digits, '-' and '_' only (it names the run's folder), \
                 found {text:?}"
            ),
        ));
    }
    Ok(text.clone())
}

fn check_rate(cx: &Cx, rate: Option<&Spanned<f64>>) -> Result<Option<f64>, WorkloadError> {
    let Some(rate) = rate else { return Ok(None) };
    let value = *rate.get_ref();
    if !value.is_finite() || value < 0.0 {
        return Err(cx.at(
            rate,
            "rate",
            format!(
                "expected ops per second, 0 or more (0 = as fast as the workers go), found {value}"
            ),
        ));
    }
    Ok((value > 0.0).then_some(value))
}

fn check_target(cx: &Cx, target: Spanned<RawTarget>) -> Result<Target, WorkloadError> {
    let span = target.span();
    let target = target.into_inner();
    if let Some(postgres) = super::txn::postgres_target(cx, &target, span.clone())? {
        return Ok(Target {
            base_url: String::new(),
            headers: Vec::new(),
            preflight: String::new(),
            postgres: Some(postgres),
        });
    }
    let Some(base_url) = &target.base_url else {
        let message = "missing base_url: expected an http:// or https:// URL".to_owned();
        return Err(cx.span(Some(span), "target.base_url", message));
    };
    let base_url = check_base_url(cx, base_url, "target.base_url")?;
    let mut headers = Vec::new();
    for (name, value) in &target.headers {
        let field = format!("target.headers.{}", name.get_ref());
        if reqwest::header::HeaderName::from_bytes(name.get_ref().as_bytes()).is_err() {
            return Err(cx.at(
                name,
                &field,
                "expected a header name (letters, digits and !#$%&'*+-.^_`|~ only)",
            ));
        }
        parse_env_refs(value.get_ref()).map_err(|message| cx.at(value, &field, message))?;
        headers.push(HeaderSpec {
            name: name.get_ref().clone(),
            value: value.get_ref().clone(),
        });
    }
    let preflight = match &target.preflight {
        Some(path) => check_path_text(cx, path, "target.preflight")?,
        None => "/".to_owned(),
    };
    Ok(Target {
        base_url,
        headers,
        preflight,
        postgres: None,
    })
}

pub(super) fn check_base_url(
    cx: &Cx,
    url: &Spanned<String>,
    field: &str,
) -> Result<String, WorkloadError> {
    let text = url.get_ref().trim_end_matches('/');
    let expected =
        "expected an http:// or https:// URL with a host, like \"http://127.0.0.1:8080\"";
    let rest = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"))
        .ok_or_else(|| cx.at(url, field, format!("{expected}, found {text:?}")))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let parsed = reqwest::Url::parse(text);
    if host.is_empty() || parsed.is_err() || text.contains(['?', '#']) {
        return Err(cx.at(
            url,
            field,
            format!("{expected} (and no query or fragment), found {text:?}"),
        ));
    }
    Ok(text.to_owned())
}

pub(super) fn check_path_text(
    cx: &Cx,
    path: &Spanned<String>,
    field: &str,
) -> Result<String, WorkloadError> {
    if !path.get_ref().starts_with('/') {
        return Err(cx.at(
            path,
            field,
            format!(
                "expected a path starting with '/', found {:?}",
                path.get_ref()
            ),
        ));
    }
    Ok(path.get_ref().clone())
}

fn check_kind(cx: &Cx, model: &RawModel, span: Range<usize>) -> Result<Model, WorkloadError> {
    let kind = &model.kind;
    let found = Model::from_name(kind.get_ref()).ok_or_else(|| {
        cx.at(
            kind,
            "model.kind",
            format!(
                "expected one of {}, found {:?}",
                quoted_list(Model::NAMES),
                kind.get_ref()
            ),
        )
    })?;
    if let Model::Linear {
        model: LinearModel::Mutex | LinearModel::MultiRegister { .. },
        ..
    } = found
    {
        return Err(cx.at(
            kind,
            "model.kind",
            format!(
                "{:?} can be checked on a recorded history (`splitbrain check --model {0}`) \
                 but not yet run from a workload file; \"register\", \"cas-register\" and \"kv\" \
                 can",
                found.name()
            ),
        ));
    }
    super::txn::refuse_txn_options(cx, model, &found)?;
    let flag = |f: &Option<Spanned<bool>>| f.as_ref().is_some_and(|f| *f.get_ref());
    let misplaced = |option: &Spanned<bool>, name: &str, owner: &str| {
        cx.at(
            option,
            &format!("model.{name}"),
            format!(
                "{name} applies only to kind = \"{owner}\", not {:?}",
                found.name()
            ),
        )
    };
    if !matches!(found, Model::Bank { .. })
        && let Some((name, span)) = bank_option(model)
    {
        return Err(cx.span(
            Some(span),
            &format!("model.{name}"),
            format!(
                "{name} applies only to kind = \"bank\", not {:?}",
                found.name()
            ),
        ));
    }
    if !matches!(found, Model::Linear { .. })
        && let Some((name, span)) = register_option(model)
        && !(name == "keys" && matches!(found, Model::Elle(_)))
    {
        return Err(cx.span(
            Some(span),
            &format!("model.{name}"),
            format!(
                "{name} applies only to kind = \"register\", \"cas-register\" or \"kv\", not {:?}",
                found.name()
            ),
        ));
    }
    match (&found, &model.fifo, &model.linearizable) {
        (_, Some(fifo), _) if !matches!(found, Model::Queue { .. }) => {
            Err(misplaced(fifo, "fifo", "queue"))
        }
        (_, _, Some(lin)) if !matches!(found, Model::Set { .. }) => {
            Err(misplaced(lin, "linearizable", "set"))
        }
        (Model::Queue { .. }, fifo, _) => Ok(Model::Queue { fifo: flag(fifo) }),
        (Model::Set { .. }, _, lin) => Ok(Model::Set {
            linearizable: flag(lin),
        }),
        (Model::Custom { .. }, _, _) => check_custom_ops(cx, model, span),
        (Model::Linear { model: linear, .. }, _, _) => Ok(Model::Linear {
            model: *linear,
            bounds: check_bounds(cx, model)?,
        }),
        (Model::Elle(options), _, _) => super::txn::check_txn_model(cx, model, options.clone()),
        (Model::Bank { .. }, _, _) => Ok(Model::Bank {
            total: model.total.as_ref().map(|t| *t.get_ref()),
            negative_allowed: flag(&model.negative_allowed),
        }),
        _ => Ok(found),
    }
}

/// `kind = "custom"`: the op names are the `[model.ops.NAME]` sections, each a write.
fn check_custom_ops(cx: &Cx, model: &RawModel, span: Range<usize>) -> Result<Model, WorkloadError> {
    if model.ops.is_empty() {
        return Err(cx.span(
            Some(span),
            "model.ops",
            "kind = \"custom\" needs at least one [model.ops.NAME] section: each is a write \
             whose {{value}} is a fresh unique integer"
                .to_owned(),
        ));
    }
    let fine = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let mut ops = Vec::new();
    for name in model.ops.keys() {
        let text = name.get_ref();
        if text.is_empty() || !text.chars().all(fine) {
            return Err(cx.at(
                name,
                &format!("model.ops.{text}"),
                format!("expected letters, digits, '-' and '_' only in an op name, found {text:?}"),
            ));
        }
        ops.push(text.clone());
    }
    Ok(Model::Custom { ops })
}

fn check_values(
    cx: &Cx,
    raw: &RawModel,
    model: &Model,
    span: Range<usize>,
) -> Result<ValueSpec, WorkloadError> {
    match (model, &raw.values) {
        (Model::Counter, None) => Ok(ValueSpec::Range { min: 1, max: 1 }),
        (Model::Counter, Some(values)) => {
            let (min, max) = value_range(cx, values)?;
            Ok(ValueSpec::Range { min, max })
        }
        (Model::Linear { .. }, _) if super::kv::is_kv(model) => super::kv::check_kv_values(cx, raw),
        (Model::Linear { .. }, _) => check_register_values(cx, raw),
        (_, Some(values)) => Err(cx.at(
            values,
            "model.values",
            format!(
                "values applies only to kind = \"counter\", \"register\", \"cas-register\" or \
                 \"kv\", not {:?}",
                model.name()
            ),
        )),
        (Model::Set { .. } | Model::Queue { .. } | Model::Custom { .. }, None) => {
            Ok(ValueSpec::Unique)
        }
        (Model::Elle(options), None) => super::txn::check_txn_values(cx, raw, options),
        (Model::UniqueIds, None) => Ok(ValueSpec::None),
        (Model::Bank { .. }, None) => check_transfers(cx, raw, span),
    }
}

/// `values = { min, max }`, with `min <= max`.
pub(super) fn value_range(
    cx: &Cx,
    values: &Spanned<RawValues>,
) -> Result<(i64, i64), WorkloadError> {
    let (min, max) = (
        *values.get_ref().min.get_ref(),
        *values.get_ref().max.get_ref(),
    );
    if min > max {
        return Err(cx.at(
            values,
            "model.values",
            format!("expected min <= max, found min = {min}, max = {max}"),
        ));
    }
    Ok((min, max))
}

fn check_mix(
    cx: &Cx,
    raw: &RawModel,
    model: &Model,
    span: &Range<usize>,
) -> Result<Vec<(Name, f64)>, WorkloadError> {
    let Some(mix) = &raw.mix else {
        if let Model::Custom { ops } = model {
            return Err(cx.span(
                Some(span.clone()),
                "model.mix",
                format!(
                    "missing mix: kind = \"custom\" has no default mix; give each of {} a \
                     weight, like mix = {{ {} = 1 }}",
                    quoted_list(&model.operations()),
                    ops[0]
                ),
            ));
        }
        return Ok(default_mix(model));
    };
    let valid = model.operations();
    let mut weights = Vec::new();
    for (op, weight) in mix.get_ref() {
        let field = format!("model.mix.{}", op.get_ref());
        if !valid.contains(&op.get_ref().as_str()) {
            return Err(cx.at(op, &field, not_in_model(model, op.get_ref())));
        }
        let w = *weight.get_ref();
        if !w.is_finite() || w < 0.0 {
            return Err(cx.at(weight, &field, format!("expected a weight >= 0, found {w}")));
        }
        weights.push((op.get_ref().as_str(), w));
    }
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return Err(cx.at(mix, "model.mix", "expected at least one weight above 0"));
    }
    // In the model's own order, so the same file always gives the same generator.
    Ok(valid
        .iter()
        .filter_map(|op| weights.iter().find(|(name, _)| name == op))
        .filter(|(_, w)| *w > 0.0)
        .map(|(name, w)| (Name::from(*name), *w))
        .collect())
}

/// The model's weights (as written, or the default shares) with each weighted view's
/// `view:NAME` added in the same units, normalised so the whole mix sums to 1.
fn normalise(
    mut mix: Vec<(Name, f64)>,
    views: &BTreeMap<String, super::plan::HttpView>,
) -> Vec<(Name, f64)> {
    mix.extend(
        views
            .iter()
            .filter(|(_, view)| view.weight > 0.0)
            .map(|(name, view)| (Name::from(view_f(name).as_str()), view.weight)),
    );
    let total: f64 = mix.iter().map(|(_, w)| w).sum();
    mix.into_iter().map(|(f, w)| (f, w / total)).collect()
}

fn default_mix(model: &Model) -> Vec<(Name, f64)> {
    let shares: &[(&str, f64)] = match model {
        Model::Set { .. } | Model::Counter => &[("add", 0.9), ("read", 0.1)],
        Model::Queue { .. } => &[("enqueue", 0.5), ("dequeue", 0.5)],
        Model::UniqueIds => &[("generate", 1.0)],
        Model::Bank { .. } => &[("transfer", 0.5), ("read", 0.5)],
        Model::Linear {
            model: LinearModel::CasRegister(_),
            ..
        } => &[("read", 0.5), ("write", 0.25), ("cas", 0.25)],
        Model::Linear {
            model: LinearModel::Kv,
            ..
        } => &[("get", 0.5), ("put", 0.25), ("append", 0.25)],
        Model::Linear { .. } => &[("read", 0.5), ("write", 0.5)],
        Model::Custom { .. } => &[],
        Model::Elle(_) => &[("txn", 1.0)],
    };
    shares.iter().map(|(op, w)| (Name::from(*op), *w)).collect()
}

fn not_in_model(model: &Model, op: &str) -> String {
    format!(
        "the {} model has no operation {op:?}; its operations are {}",
        model.name(),
        quoted_list(&model.operations())
    )
}

fn check_ops(
    cx: &Cx,
    raw: &RawModel,
    model: &Model,
    model_span: Range<usize>,
) -> Result<BTreeMap<String, HttpOp>, WorkloadError> {
    for name in raw.ops.keys() {
        if !model.operations().contains(&name.get_ref().as_str()) {
            let field = format!("model.ops.{}", name.get_ref());
            return Err(cx.at(name, &field, not_in_model(model, name.get_ref())));
        }
    }
    let mut ops = BTreeMap::new();
    for op in model.operations() {
        let section = raw.ops.iter().find(|(name, _)| name.get_ref() == op);
        let Some((_, section)) = section else {
            if !super::kv::section_needed(model, raw, op) {
                continue;
            }
            return Err(cx.span(
                Some(model_span),
                &format!("model.ops.{op}"),
                format!(
                    "missing section [model.ops.{op}]: the {} model needs one for each of {}{}",
                    model.name(),
                    quoted_list(&model.operations()),
                    super::kv::unless_left_out(model, op)
                ),
            ));
        };
        let field = format!("model.ops.{op}");
        ops.insert(
            op.to_owned(),
            check_op(cx, section, &field, needs(model, op))?,
        );
    }
    Ok(ops)
}

/// What an operation's response must yield, and whether its request carries a value.
#[derive(Clone, Copy)]
struct Needs {
    extract: ExtractKind,
    has_value: bool,
    /// A bank transfer: `{{from}}`, `{{to}}` and `{{amount}}` have values.
    transfer: bool,
    /// A register's cas: `{{from}}` and `{{to}}` have values, `{{value}}` none.
    cas: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExtractKind {
    Nothing,
    Value,
    Records,
    Balances,
    /// A register read: one integer, or nil when the key is missing.
    Register,
    /// A kv get: one string, or the empty string when the key is missing.
    Kv,
    /// A txn: the micro-ops sent, each read filled in.
    Txn(crate::checker::elle::txn::Shape),
}

fn needs(model: &Model, op: &str) -> Needs {
    let (extract, has_value) = match (model, op) {
        (Model::Set { .. }, "read") => (ExtractKind::Records, false),
        (Model::Counter, "read") => (ExtractKind::Value, false),
        (Model::Queue { .. }, "dequeue") => (ExtractKind::Value, false),
        (Model::UniqueIds, _) => (ExtractKind::Value, false),
        (Model::Bank { .. }, "read") => (ExtractKind::Balances, false),
        (Model::Linear { .. }, "read") => (ExtractKind::Register, false),
        (Model::Linear { .. }, "get") => (ExtractKind::Kv, false),
        (Model::Linear { .. }, "cas") => (ExtractKind::Nothing, false),
        (Model::Elle(options), _) => (ExtractKind::Txn(options.shape), true),
        _ => (ExtractKind::Nothing, true),
    };
    let transfer = matches!((model, op), (Model::Bank { .. }, "transfer"));
    let cas = matches!((model, op), (Model::Linear { .. }, "cas"));
    Needs {
        extract,
        has_value,
        transfer,
        cas,
    }
}

fn check_op(
    cx: &Cx,
    op: &Spanned<RawOp>,
    field: &str,
    needs: Needs,
) -> Result<HttpOp, WorkloadError> {
    let raw = op.get_ref();
    let base_url = match &raw.base_url {
        Some(url) => Some(check_base_url(cx, url, &format!("{field}.base_url"))?),
        None => None,
    };
    let method = check_method(cx, &raw.method, &format!("{field}.method"))?;
    let path = check_path_template(cx, &raw.path, &format!("{field}.path"), needs)?;
    let body = match &raw.body {
        Some(body) => Some(check_body(cx, body, &format!("{field}.body"), needs)?),
        None => None,
    };
    let ok = match &raw.ok {
        Some(codes) => check_statuses(cx, codes, &format!("{field}.ok"))?,
        None => StatusSet((200..=299).collect()),
    };
    let fail = match &raw.fail {
        Some(codes) => check_statuses(cx, codes, &format!("{field}.fail"))?,
        None => StatusSet(Vec::new()),
    };
    if let Some(both) = ok.0.iter().find(|code| fail.contains(**code)) {
        let at = raw.fail.as_ref().map(Spanned::span).unwrap_or(op.span());
        return Err(cx.span(
            Some(at),
            &format!("{field}.fail"),
            format!("status {both} is in both ok and fail; a status must mean one thing"),
        ));
    }
    let missing = check_missing(cx, raw, field, needs, &ok, &fail)?;
    let timeout = match &raw.timeout {
        Some(t) => cx.duration(t, &format!("{field}.timeout"), false)?,
        None => DEFAULT_TIMEOUT,
    };
    let extract = check_extract(cx, op, field, needs.extract)?;
    Ok(HttpOp {
        base_url,
        method,
        path,
        body,
        ok,
        fail,
        missing,
        fail_means_ran: needs.cas,
        timeout,
        extract,
    })
}

/// `missing = [404]`: statuses that mean "ok, the key is missing", on a register read only,
/// and none of them also in `ok` or `fail`.
fn check_missing(
    cx: &Cx,
    raw: &RawOp,
    field: &str,
    needs: Needs,
    ok: &StatusSet,
    fail: &StatusSet,
) -> Result<StatusSet, WorkloadError> {
    let Some(codes) = &raw.missing else {
        return Ok(StatusSet(Vec::new()));
    };
    let name = format!("{field}.missing");
    if !matches!(needs.extract, ExtractKind::Register | ExtractKind::Kv) {
        return Err(cx.at(
            codes,
            &name,
            "missing applies only to a register's or cas-register's read or a kv get (the \
             statuses that mean the key is not there, so the read is ok with nil, the get \
             with the empty string)",
        ));
    }
    let missing = check_statuses(cx, codes, &name)?;
    if let Some(both) = (missing.0.iter()).find(|c| ok.contains(**c) || fail.contains(**c)) {
        return Err(cx.at(
            codes,
            &name,
            format!("status {both} is in missing and in ok or fail; a status must mean one thing"),
        ));
    }
    Ok(missing)
}

pub(super) fn check_method(
    cx: &Cx,
    method: &Spanned<String>,
    field: &str,
) -> Result<String, WorkloadError> {
    let upper = method.get_ref().to_ascii_uppercase();
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if upper.is_empty() || !upper.chars().all(token) {
        return Err(cx.at(
            method,
            field,
            format!(
                "expected an HTTP method like \"GET\", \"PUT\" or \"POST\", found {:?}",
                method.get_ref()
            ),
        ));
    }
    Ok(upper)
}

fn check_path_template(
    cx: &Cx,
    path: &Spanned<String>,
    field: &str,
    needs: Needs,
) -> Result<Template, WorkloadError> {
    check_path_text(cx, path, field)?;
    let template = Template::parse(path.get_ref()).map_err(|m| cx.at(path, field, m))?;
    check_value_use(cx, path, field, &template, needs)?;
    Ok(template)
}

fn check_body(
    cx: &Cx,
    body: &Spanned<String>,
    field: &str,
    needs: Needs,
) -> Result<Template, WorkloadError> {
    let template = Template::parse(body.get_ref()).map_err(|m| cx.at(body, field, m))?;
    check_value_use(cx, body, field, &template, needs)?;
    let value = if needs.transfer {
        // String accounts: a quoted "{{from}}" renders as ""a"", not valid JSON, as it must.
        let entry = |k: &str, v: Value| (Value::from(k), v);
        let (from, to) = (Value::from("a"), Value::from("b"));
        Value::Map(
            vec![
                entry("from", from),
                entry("to", to),
                entry("amount", Value::Int(1)),
            ]
            .into(),
        )
    } else {
        Value::Int(0)
    };
    let sample = Invocation {
        f: Name::from("sample"),
        value,
        process: 0,
        key: Value::from("k"),
    };
    let rendered = template.render_json(&sample);
    if let Err(e) = serde_json::from_str::<serde_json::Value>(&rendered) {
        return Err(cx.at(
            body,
            field,
            format!(
                "expected JSON once placeholders are filled (placeholders become JSON values, \
                 so do not quote them), but {rendered:?} is not: {e}"
            ),
        ));
    }
    Ok(template)
}

/// `{{value}}` or `{{value % N}}` in an operation that carries no value (a read, a dequeue, a
/// generate) would always be empty: almost certainly a mistake. So would `{{value % N}}` in a
/// bank's transfer (its value is a map, not an integer), and `{{from}}`, `{{to}}` or
/// `{{amount}}` anywhere but in a bank's transfer.
fn check_value_use(
    cx: &Cx,
    text: &Spanned<String>,
    field: &str,
    template: &Template,
    needs: Needs,
) -> Result<(), WorkloadError> {
    let uses_value =
        |p: &Placeholder| matches!(p, Placeholder::Value | Placeholder::ValueModulo(_));
    if needs.cas && template.placeholders().any(|p| uses_value(&p)) {
        return Err(cx.at(
            text,
            field,
            "a cas carries the value it compares against and the one it sets: use {{from}} \
             and {{to}}, not {{value}}",
        ));
    }
    if !needs.has_value && template.placeholders().any(|p| uses_value(&p)) {
        return Err(cx.at(
            text,
            field,
            "this operation carries no value, so {{value}} would always be empty; \
             use {{process}} or a literal",
        ));
    }
    if needs.transfer
        && let Some(Placeholder::ValueModulo(n)) = template
            .placeholders()
            .find(|p| matches!(p, Placeholder::ValueModulo(_)))
    {
        return Err(cx.at(
            text,
            field,
            format!(
                "{{{{value % {n}}}}} needs an integer value, but a transfer's value is a map of \
                 from, to and amount; use {{{{from}}}}, {{{{to}}}} or {{{{amount}}}}"
            ),
        ));
    }
    let allowed = |p: &Placeholder| {
        needs.transfer || (needs.cas && matches!(p, Placeholder::From | Placeholder::To))
    };
    if let Some(p) = (template.placeholders()).find(|p| p.is_transfer_field() && !allowed(p)) {
        return Err(cx.at(
            text,
            field,
            format!(
                "{{{{{}}}}} is a bank transfer's field: only kind = \"bank\"'s transfer \
                 operation can use {{{{from}}}}, {{{{to}}}} and {{{{amount}}}} (and a \
                 register's cas {{{{from}}}} and {{{{to}}}})",
                p.name()
            ),
        ));
    }
    Ok(())
}

fn check_statuses(
    cx: &Cx,
    codes: &Spanned<Vec<Spanned<i64>>>,
    field: &str,
) -> Result<StatusSet, WorkloadError> {
    let mut set = Vec::new();
    for code in codes.get_ref() {
        let c = *code.get_ref();
        if !(100..=599).contains(&c) {
            return Err(cx.at(
                code,
                field,
                format!("expected HTTP status codes from 100 to 599, found {c}"),
            ));
        }
        set.push(u16::try_from(c).expect("checked to be in 100..=599"));
    }
    set.sort_unstable();
    set.dedup();
    Ok(StatusSet(set))
}

fn check_extract(
    cx: &Cx,
    op: &Spanned<RawOp>,
    field: &str,
    kind: ExtractKind,
) -> Result<Extract, WorkloadError> {
    let raw = op.get_ref();
    for (name, pointer) in [
        ("records", &raw.records),
        ("element", &raw.element),
        ("value", &raw.value),
        ("account", &raw.account),
        ("balance", &raw.balance),
    ] {
        if let Some(p) = pointer {
            check_pointer(cx, p, &format!("{field}.{name}"))?;
        }
    }
    let forbid = |name: &str, s: &Spanned<String>, why: &str| {
        Err(cx.at(s, &format!("{field}.{name}"), why.to_owned()))
    };
    if kind != ExtractKind::Balances {
        for (name, pointer) in [("account", &raw.account), ("balance", &raw.balance)] {
            if let Some(s) = pointer {
                return forbid(name, s, NOT_A_BANK_READ);
            }
        }
    }
    match kind {
        ExtractKind::Nothing => match (&raw.records, &raw.element, &raw.value) {
            (Some(s), _, _) => forbid("records", s, WRITE_EXTRACTS),
            (_, Some(s), _) => forbid("element", s, WRITE_EXTRACTS),
            (_, _, Some(s)) => forbid("value", s, WRITE_EXTRACTS),
            (None, None, None) => Ok(Extract::None),
        },
        ExtractKind::Txn(shape) => match (&raw.records, &raw.element, &raw.value) {
            (Some(s), _, _) => forbid("records", s, VALUE_NOT_RECORDS),
            (_, Some(s), _) => forbid("element", s, VALUE_NOT_RECORDS),
            (None, None, Some(v)) => Ok(Extract::Txn {
                pointer: v.get_ref().clone(),
                shape,
            }),
            (None, None, None) => Err(cx.at(op, field, super::txn::MISSING_OPS.to_owned())),
        },
        ExtractKind::Value | ExtractKind::Register | ExtractKind::Kv => {
            match (&raw.records, &raw.element, &raw.value) {
                (Some(s), _, _) => forbid("records", s, VALUE_NOT_RECORDS),
                (_, Some(s), _) => forbid("element", s, VALUE_NOT_RECORDS),
                (None, None, Some(v)) if kind == ExtractKind::Register => {
                    Ok(Extract::Register(v.get_ref().clone()))
                }
                (None, None, Some(v)) if kind == ExtractKind::Kv => {
                    Ok(Extract::Kv(v.get_ref().clone()))
                }
                (None, None, Some(v)) => Ok(Extract::Value(v.get_ref().clone())),
                (None, None, None) => Err(cx.at(op, field, MISSING_VALUE.to_owned())),
            }
        }
        ExtractKind::Records => match (&raw.records, &raw.value) {
            (_, Some(s)) => forbid("value", s, RECORDS_NOT_VALUE),
            (Some(r), None) => Ok(Extract::Records {
                records: r.get_ref().clone(),
                element: raw.element.as_ref().map(|e| e.get_ref().clone()),
            }),
            (None, None) => Err(cx.at(op, field, MISSING_RECORDS.to_owned())),
        },
        ExtractKind::Balances => check_balances(cx, op, field),
    }
}

const WRITE_EXTRACTS: &str =
    "this operation's value is what was sent, so it takes no records, element or value pointer";
const VALUE_NOT_RECORDS: &str =
    "this operation reads one value: use value = \"/pointer\", not records or element";
const RECORDS_NOT_VALUE: &str =
    "a set read returns a list: use records = \"/pointer\" (and element = \"/pointer\"), not value";
const MISSING_VALUE: &str = "missing value = \"/pointer\": the JSON pointer to this operation's result in the response \
     (\"\" for the whole body)";
pub(super) const MISSING_RECORDS: &str = "missing records = \"/pointer\": the JSON pointer to the list of \
     records in the response (\"\" when the body is the list)";

pub(super) fn check_pointer(
    cx: &Cx,
    pointer: &Spanned<String>,
    field: &str,
) -> Result<(), WorkloadError> {
    let p = pointer.get_ref();
    if !p.is_empty() && !p.starts_with('/') {
        return Err(cx.at(
            pointer,
            field,
            format!(
                "expected a JSON pointer: empty (the whole body) or starting with '/', \
                 like \"/data\", found {p:?}"
            ),
        ));
    }
    Ok(())
}

fn check_phases(cx: &Cx, phases: Option<&RawPhases>) -> Result<Phases, WorkloadError> {
    let Some(raw) = phases else {
        return Ok(Phases {
            quiet: DEFAULT_QUIET,
            final_reads: DEFAULT_FINAL_READS,
            drain_limit: DEFAULT_DRAIN_LIMIT,
            converge_timeout: DEFAULT_CONVERGE_TIMEOUT,
            poll_interval: DEFAULT_POLL_INTERVAL,
        });
    };
    let quiet = match &raw.quiet {
        Some(q) => cx.duration(q, "phases.quiet", true)?,
        None => DEFAULT_QUIET,
    };
    let final_reads = match &raw.final_reads {
        Some(n) => cx.int_in(n, "phases.final_reads", 0, 1_000)?,
        None => i64::from(DEFAULT_FINAL_READS),
    };
    let drain_limit = match &raw.drain_limit {
        Some(n) => cx.int_in(n, "phases.drain_limit", 1, i64::MAX)?,
        None => i64::try_from(DEFAULT_DRAIN_LIMIT).expect("a small constant"),
    };
    let converge_timeout = match &raw.converge_timeout {
        Some(t) => cx.duration(t, "phases.converge_timeout", false)?,
        None => DEFAULT_CONVERGE_TIMEOUT,
    };
    let poll_interval = match &raw.poll_interval {
        Some(t) => cx.duration(t, "phases.poll_interval", true)?,
        None => DEFAULT_POLL_INTERVAL,
    };
    Ok(Phases {
        quiet,
        final_reads: u32::try_from(final_reads).expect("checked to be in 0..=1000"),
        drain_limit: u64::try_from(drain_limit).expect("checked to be positive"),
        converge_timeout,
        poll_interval,
    })
}

pub(super) fn quoted_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    quoted.join(", ")
}

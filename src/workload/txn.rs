//! A transactional workload's parts of the file (list-append, rw-register: Elle's): `[model]`'s
//! `keys`, `max_txn_length`, `max_writes_per_key`, `consistency_models` and
//! `time_limit_per_component`; and where the txns go: `[target] kind = "postgres"` (url,
//! password, isolation), which runs them as SQL, or an HTTP service that takes a txn's micro-ops
//! in one request (`[model.ops.txn]`, its body carrying `{{value}}`, its `value` pointer giving
//! the completed micro-ops back).

use std::ops::Range;
use std::str::FromStr;

use toml::Spanned;

use super::cx::Cx;
use super::env::parse_env_refs;
use super::error::WorkloadError;
use super::plan::{HttpOp, Isolation, PostgresTarget, ValueSpec};
use super::raw::{RawModel, RawTarget};
use super::register::MAX_KEYS;
use super::template::Placeholder;
use super::validate::quoted_list;
use crate::checker::Model;
use crate::checker::elle::{self, options::parse_models};
use crate::generator::TxnSpec;

/// A txn op without `value = "/pointer"`.
pub(super) const MISSING_OPS: &str = "missing value = \"/pointer\": the JSON pointer to the \
     completed micro-ops in the response, each read filled in; like value = \"/ops\" for \
     {\"ops\": [[\"append\", 1, 3], [\"r\", 2, [1, 2]]]}";

/// The first list-append/rw-register-only option given, with its span.
pub(super) fn txn_option(model: &RawModel) -> Option<(&'static str, Range<usize>)> {
    [
        (
            "max_txn_length",
            model.max_txn_length.as_ref().map(Spanned::span),
        ),
        (
            "max_writes_per_key",
            model.max_writes_per_key.as_ref().map(Spanned::span),
        ),
        (
            "consistency_models",
            model.consistency_models.as_ref().map(Spanned::span),
        ),
        (
            "time_limit_per_component",
            model.time_limit_per_component.as_ref().map(Spanned::span),
        ),
    ]
    .into_iter()
    .find_map(|(name, span)| Some((name, span?)))
}

/// The checker's options (consistency models, time limit) from `[model]`.
pub(super) fn check_txn_model(
    cx: &Cx,
    raw: &RawModel,
    mut options: elle::Options,
) -> Result<Model, WorkloadError> {
    if let Some(models) = &raw.consistency_models {
        let names: Vec<&str> = models
            .get_ref()
            .iter()
            .map(|n| n.get_ref().as_str())
            .collect();
        options.models = parse_models(&names.join(","))
            .map_err(|e| cx.at(models, "model.consistency_models", e))?;
    }
    if let Some(limit) = &raw.time_limit_per_component {
        let limit = cx.duration(limit, "model.time_limit_per_component", false)?;
        options.time_per_component = Some(limit);
    }
    Ok(Model::Elle(options))
}

/// What the generator draws txns from: `keys` (default 3), `max_txn_length` (default 4),
/// `max_writes_per_key` (default 32).
pub(super) fn check_txn_values(
    cx: &Cx,
    raw: &RawModel,
    options: &elle::Options,
) -> Result<ValueSpec, WorkloadError> {
    let int = |n: &Option<Spanned<i64>>, field: &str, default: i64, max: i64| match n {
        Some(n) => cx.int_in(n, field, 1, max),
        None => Ok(default),
    };
    let as_u32 = |n: i64| u32::try_from(n).expect("checked to be at most 100 000");
    Ok(ValueSpec::Txn(TxnSpec {
        shape: options.shape,
        keys: as_u32(int(&raw.keys, "model.keys", 3, MAX_KEYS)?),
        max_txn_length: as_u32(int(&raw.max_txn_length, "model.max_txn_length", 4, 1000)?),
        max_writes_per_key: as_u32(int(
            &raw.max_writes_per_key,
            "model.max_writes_per_key",
            32,
            MAX_KEYS,
        )?),
    }))
}

/// `[target] kind = "postgres"`: a URL without a password, the password as `${VAR}`
/// references, an isolation level (default serializable); no HTTP fields.
pub(super) fn check_postgres_target(
    cx: &Cx,
    target: &RawTarget,
    span: Range<usize>,
) -> Result<PostgresTarget, WorkloadError> {
    if let Some(base_url) = &target.base_url {
        let message = "base_url applies only to kind = \"http\"; a postgres target takes url";
        return Err(cx.at(base_url, "target.base_url", message));
    }
    if let Some(preflight) = &target.preflight {
        return Err(cx.at(
            preflight,
            "target.preflight",
            "applies only to kind = \"http\"",
        ));
    }
    if let Some((name, _)) = target.headers.iter().next() {
        return Err(cx.at(name, "target.headers", "applies only to kind = \"http\""));
    }
    let Some(url) = &target.url else {
        let message = "missing url: expected postgres://USER@HOST:PORT/DATABASE".to_owned();
        return Err(cx.span(Some(span), "target.url", message));
    };
    check_url(cx, url)?;
    if let Some(password) = &target.password {
        parse_env_refs(password.get_ref()).map_err(|m| cx.at(password, "target.password", m))?;
    }
    Ok(PostgresTarget {
        url: url.get_ref().clone(),
        password: target.password.as_ref().map(|p| p.get_ref().clone()),
        isolation: check_isolation(cx, target.isolation.as_ref())?,
    })
}

fn check_url(cx: &Cx, url: &Spanned<String>) -> Result<(), WorkloadError> {
    let text = url.get_ref();
    let expected = "expected postgres://USER@HOST:PORT/DATABASE";
    if !text.starts_with("postgres://") && !text.starts_with("postgresql://") {
        return Err(cx.at(url, "target.url", format!("{expected}, found {text:?}")));
    }
    let config = tokio_postgres::Config::from_str(text).map_err(|e| {
        cx.at(
            url,
            "target.url",
            format!("{expected}, found {text:?} ({e})"),
        )
    })?;
    if config.get_password().is_some() {
        let message = "a password in the URL would be recorded in the history: give it as \
                       password = \"${PGPASSWORD}\" instead";
        return Err(cx.at(url, "target.url", message));
    }
    Ok(())
}

fn check_isolation(cx: &Cx, level: Option<&Spanned<String>>) -> Result<Isolation, WorkloadError> {
    let Some(level) = level else {
        return Ok(Isolation::Serializable);
    };
    match level.get_ref().as_str() {
        "serializable" => Ok(Isolation::Serializable),
        "repeatable-read" => Ok(Isolation::RepeatableRead),
        "read-committed" => Ok(Isolation::ReadCommitted),
        other => Err(cx.at(
            level,
            "target.isolation",
            format!(
                "expected one of {}, found {other:?}",
                quoted_list(Isolation::NAMES)
            ),
        )),
    }
}

/// `[target] kind`: `None` for HTTP (the default), the database for `"postgres"`.
pub(super) fn postgres_target(
    cx: &Cx,
    target: &RawTarget,
    span: Range<usize>,
) -> Result<Option<PostgresTarget>, WorkloadError> {
    let pg_only = [
        ("url", &target.url),
        ("password", &target.password),
        ("isolation", &target.isolation),
    ];
    match target.kind.as_ref().map(|k| k.get_ref().as_str()) {
        Some("postgres") => check_postgres_target(cx, target, span).map(Some),
        None | Some("http") => match pg_only.into_iter().find(|(_, v)| v.is_some()) {
            Some((name, Some(value))) => Err(cx.at(
                value,
                &format!("target.{name}"),
                format!("{name} applies only to kind = \"postgres\""),
            )),
            _ => Ok(None),
        },
        Some(other) => Err(cx.at(
            target.kind.as_ref().expect("matched Some"),
            "target.kind",
            format!("expected \"http\" or \"postgres\", found {other:?}"),
        )),
    }
}

/// Options that only a transactional model takes, refused for the others; and
/// `time_limit_per_key` (a register's) refused for a transactional one.
pub(super) fn refuse_txn_options(
    cx: &Cx,
    raw: &RawModel,
    model: &Model,
) -> Result<(), WorkloadError> {
    if let (Model::Elle(_), Some(limit)) = (model, &raw.time_limit_per_key) {
        let message = "time_limit_per_key applies only to kind = \"register\" or \
                       \"cas-register\"; a transactional model takes time_limit_per_component";
        return Err(cx.at(limit, "model.time_limit_per_key", message));
    }
    match txn_option(raw) {
        Some((name, span)) if !matches!(model, Model::Elle(_)) => Err(cx.span(
            Some(span),
            &format!("model.{name}"),
            format!(
                "{name} applies only to kind = \"list-append\" or \"rw-register\", not {:?}",
                model.name()
            ),
        )),
        _ => Ok(()),
    }
}

/// A transactional model runs against PostgreSQL (as SQL, so without op sections) or over
/// HTTP (its `[model.ops.txn]`, checked with the other ops); PostgreSQL runs only those.
pub(super) fn check_pairing(
    cx: &Cx,
    model: &Model,
    target: &super::Target,
    raw: &RawModel,
    model_span: Range<usize>,
) -> Result<(), WorkloadError> {
    match (model, &target.postgres) {
        (Model::Elle(_), Some(_)) => match raw.ops.keys().next() {
            Some(name) => Err(cx.at(
                name,
                &format!("model.ops.{}", name.get_ref()),
                "a postgres target runs txns as SQL: it takes no [model.ops.NAME] sections",
            )),
            None => Ok(()),
        },
        (_, Some(_)) => Err(cx.span(
            Some(model_span),
            "model.kind",
            format!(
                "a postgres target runs kind = \"list-append\" or \"rw-register\", not {:?}",
                model.name()
            ),
        )),
        (_, None) => Ok(()),
    }
}

/// An HTTP txn's request must carry its micro-ops: `{{value}}` in the body (a path would
/// have to hold a whole txn).
pub(super) fn check_txn_request(
    cx: &Cx,
    raw: &RawModel,
    ops: &std::collections::BTreeMap<String, HttpOp>,
) -> Result<(), WorkloadError> {
    let Some(op) = ops.get("txn") else {
        return Ok(());
    };
    let carries = (op.body.iter()).any(|b| b.placeholders().any(|p| p == Placeholder::Value));
    if carries {
        return Ok(());
    }
    let section = raw.ops.iter().find(|(name, _)| name.get_ref() == "txn");
    let span = section.map(|(_, op)| match &op.get_ref().body {
        Some(body) => body.span(),
        None => op.span(),
    });
    Err(cx.span(
        span,
        "model.ops.txn.body",
        "a txn's request must carry its micro-ops: put {{value}} in the body, like \
         body = '{\"ops\": {{value}}}' (it fills in as [[\"append\", 1, 3], [\"r\", 2, null]])"
            .to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::workload::{Isolation, Plan, ValueSpec, WorkloadError};

    const WORKLOAD: &str = include_str!("../../workloads/postgres-repeatable-read.toml");

    fn plan(text: &str) -> Result<Plan, WorkloadError> {
        Plan::from_toml(text, Path::new("pg.toml"))
    }

    /// The error's field and message, for a workload with `from` replaced by `to`.
    fn error(from: &str, to: &str) -> (String, String) {
        assert!(WORKLOAD.contains(from), "{from}");
        match plan(&WORKLOAD.replacen(from, to, 1)) {
            Err(WorkloadError::Invalid { field, message, .. }) => (field, message),
            other => panic!("expected an invalid workload, found {other:?}"),
        }
    }

    #[test]
    fn a_postgres_list_append_workload_gives_its_txn_spec_isolation_and_models() {
        let plan = plan(WORKLOAD).expect("valid");
        let ValueSpec::Txn(spec) = plan.values else {
            panic!("txn values, found {:?}", plan.values)
        };
        assert_eq!(
            (spec.keys, spec.max_txn_length, spec.max_writes_per_key),
            (4, 4, 32)
        );
        let target = plan.target.postgres.expect("a postgres target");
        assert_eq!(target.isolation, Isolation::RepeatableRead);
        assert_eq!(target.password.as_deref(), Some("${PGPASSWORD}"));
        let crate::checker::Model::Elle(options) = plan.model else {
            panic!("an Elle model")
        };
        assert_eq!(options.models, ["serializable"]);
    }

    #[test]
    fn an_unknown_consistency_model_is_refused_naming_the_field() {
        let (field, message) = error("[\"serializable\"]", "[\"serialisable\"]");
        assert_eq!(field, "model.consistency_models");
        assert!(message.contains("\"serialisable\"") && message.contains("snapshot-isolation"));
    }

    #[test]
    fn a_password_in_the_url_is_refused() {
        let (field, message) = error("splitbrain@127", "splitbrain:hunter2@127");
        assert_eq!(field, "target.url");
        assert!(message.contains("${PGPASSWORD}"), "{message}");
    }

    #[test]
    fn bad_isolation_and_zero_length_txns_are_refused() {
        let (field, message) = error("\"repeatable-read\"", "\"snapshot\"");
        assert_eq!(field, "target.isolation");
        assert!(message.contains("\"read-committed\""), "{message}");
        let (field, _) = error("max_txn_length = 4", "max_txn_length = 0");
        assert_eq!(field, "model.max_txn_length");
    }

    #[test]
    fn txn_options_belong_to_txn_models() {
        let (field, message) = error("kind = \"list-append\"", "kind = \"set\"");
        assert!(field.starts_with("model."), "{field}: {message}");
    }

    /// The shipped HTTP list-append workload with `from` replaced by `to`: its error's field
    /// and message.
    fn http_error(from: &str, to: &str) -> (String, String) {
        const HTTP: &str = include_str!("../../workloads/toyset-list-append.toml");
        assert!(HTTP.contains(from), "{from}");
        match plan(&HTTP.replacen(from, to, 1)) {
            Err(WorkloadError::Invalid { field, message, .. }) => (field, message),
            other => panic!("expected an invalid workload, found {other:?}"),
        }
    }

    #[test]
    fn an_http_txn_reads_its_completed_micro_ops_at_the_value_pointer() {
        const HTTP: &str = include_str!("../../workloads/toyset-list-append.toml");
        let plan = plan(HTTP).expect("valid");
        let op = &plan.ops["txn"];
        assert_eq!(
            op.extract,
            crate::workload::Extract::Txn {
                pointer: "/ops".into(),
                shape: crate::checker::elle::txn::Shape::ListAppend
            }
        );
        assert!(plan.target.postgres.is_none());
    }

    #[test]
    fn an_http_txn_without_its_section_micro_ops_or_pointer_is_refused() {
        let start = "[model.ops.txn]";
        let (field, message) = http_error(start, "[model.ops.read]");
        assert_eq!(field, "model.ops.read", "{message}");
        let (field, message) = http_error("body = '{\"ops\": {{value}}}'", "body = '{}'");
        assert_eq!(field, "model.ops.txn.body");
        assert!(message.contains("{{value}}"), "{message}");
        let (field, message) = http_error("value = \"/ops\"", "");
        assert_eq!(field, "model.ops.txn");
        assert!(message.contains("completed micro-ops"), "{message}");
    }
}

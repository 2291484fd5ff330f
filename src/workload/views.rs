//! Validation of `[views.NAME]` and `[[relations]]`: each view becomes an [`HttpView`], each
//! relation a [`Relation`] whose view and field names are known to exist, so the runner and
//! the relations checker never meet a dangling name.
//!
//! A relation is one flat table whose keys depend on its `kind`; a key that belongs to
//! another kind, or a missing one, is an error naming the keys the kind takes.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::cx::Cx;
use super::error::WorkloadError;
use super::plan::HttpView;
use super::raw::{RawFilter, RawRelation, RawView};
use super::validate::{
    DEFAULT_TIMEOUT, check_base_url, check_method, check_path_text, check_pointer, quoted_list,
};
use crate::checker::Model;
use crate::checker::relations::{Compare, Expect, Filter, Relation, When};
use crate::history::Value;

/// The keys each relation kind takes, besides `kind`.
const KINDS: &[(&str, &[&str])] = &[
    ("agree", &["views", "compare"]),
    ("covers", &["view", "op", "filter"]),
    ("unique", &["view", "key"]),
    (
        "matches",
        &["view", "filter", "other", "other_filter", "key", "expect"],
    ),
    ("conserved", &["view", "fields", "total", "floor", "when"]),
];

/// Checks every `[views.NAME]`.
pub(super) fn check_views(
    cx: &Cx,
    raw: &BTreeMap<Spanned<String>, Spanned<RawView>>,
) -> Result<BTreeMap<String, HttpView>, WorkloadError> {
    let mut views = BTreeMap::new();
    for (name, view) in raw {
        let field = format!("views.{}", name.get_ref());
        check_name(cx, name, &field, "a view name")?;
        views.insert(
            name.get_ref().clone(),
            check_view(cx, view.get_ref(), &field)?,
        );
    }
    Ok(views)
}

fn check_view(cx: &Cx, raw: &RawView, field: &str) -> Result<HttpView, WorkloadError> {
    let base_url = match &raw.base_url {
        Some(url) => Some(check_base_url(cx, url, &format!("{field}.base_url"))?),
        None => None,
    };
    let method = match &raw.method {
        Some(method) => check_method(cx, method, &format!("{field}.method"))?,
        None => "GET".to_owned(),
    };
    let path = check_path_text(cx, &raw.path, &format!("{field}.path"))?;
    if super::find_open(&path).is_some() {
        return Err(cx.at(
            &raw.path,
            &format!("{field}.path"),
            format!(
                "a view takes no {{{{...}}}} placeholders: it reads the whole list with the \
                 same request every time, found {path:?}"
            ),
        ));
    }
    check_pointer(cx, &raw.records, &format!("{field}.records"))?;
    check_pointer(cx, &raw.id, &format!("{field}.id"))?;
    let mut fields = Vec::new();
    if let Some(declared) = &raw.fields {
        for (name, pointer) in declared.get_ref() {
            let at = format!("{field}.fields.{}", name.get_ref());
            check_name(cx, name, &at, "a field name")?;
            if name.get_ref() == "id" {
                return Err(cx.at(
                    name,
                    &at,
                    "\"id\" is the record's id (set by id = \"/pointer\"); name the field otherwise",
                ));
            }
            check_pointer(cx, pointer, &at)?;
            fields.push((name.get_ref().clone(), pointer.get_ref().clone()));
        }
    }
    let timeout = match &raw.timeout {
        Some(t) => cx.duration(t, &format!("{field}.timeout"), false)?,
        None => DEFAULT_TIMEOUT,
    };
    let weight = match &raw.weight {
        Some(w) if !w.get_ref().is_finite() || *w.get_ref() < 0.0 => {
            return Err(cx.at(
                w,
                &format!("{field}.weight"),
                format!(
                    "expected a weight >= 0 (0 = read only in the convergence phase), found {}",
                    w.get_ref()
                ),
            ));
        }
        Some(w) => *w.get_ref(),
        None => 0.0,
    };
    Ok(HttpView {
        base_url,
        method,
        path,
        records: raw.records.get_ref().clone(),
        id: raw.id.get_ref().clone(),
        fields,
        timeout,
        weight,
    })
}

fn check_name(
    cx: &Cx,
    name: &Spanned<String>,
    field: &str,
    what: &str,
) -> Result<(), WorkloadError> {
    let text = name.get_ref();
    let fine = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if text.is_empty() || !text.chars().all(fine) {
        return Err(cx.at(
            name,
            field,
            format!("expected letters, digits, '-' and '_' only in {what}, found {text:?}"),
        ));
    }
    Ok(())
}

/// Checks every `[[relations]]` against the views and the model's ops.
pub(super) fn check_relations(
    cx: &Cx,
    raw: &[Spanned<RawRelation>],
    views: &BTreeMap<String, HttpView>,
    model: &Model,
) -> Result<Vec<Relation>, WorkloadError> {
    raw.iter()
        .enumerate()
        .map(|(i, relation)| {
            let at = Rel {
                cx,
                field: format!("relations[{i}]"),
                span: relation.span(),
                views,
            };
            at.check(relation.get_ref(), model)
        })
        .collect()
}

/// One relation being checked: where it is, and the views it may name.
struct Rel<'a> {
    cx: &'a Cx<'a>,
    field: String,
    span: Range<usize>,
    views: &'a BTreeMap<String, HttpView>,
}

impl Rel<'_> {
    fn check(&self, raw: &RawRelation, model: &Model) -> Result<Relation, WorkloadError> {
        let kind = raw.kind.get_ref().as_str();
        let Some((_, keys)) = KINDS.iter().find(|(name, _)| *name == kind) else {
            let names: Vec<&str> = KINDS.iter().map(|(name, _)| *name).collect();
            return Err(self.cx.at(
                &raw.kind,
                &self.key("kind"),
                format!("expected one of {}, found {kind:?}", quoted_list(&names)),
            ));
        };
        for (key, span) in present(raw) {
            if !keys.contains(&key) {
                return Err(self.cx.span(
                    Some(span),
                    &self.key(key),
                    format!(
                        "{key} does not apply to kind = \"{kind}\", which takes {}",
                        quoted_list(keys)
                    ),
                ));
            }
        }
        match kind {
            "agree" => self.agree(raw),
            "covers" => self.covers(raw, model),
            "unique" => self.unique(raw),
            "matches" => self.matches(raw),
            _ => self.conserved(raw),
        }
    }

    fn agree(&self, raw: &RawRelation) -> Result<Relation, WorkloadError> {
        let named = self.required(&raw.views, "views", "agree")?;
        if named.get_ref().len() < 2 {
            return Err(self.cx.at(
                named,
                &self.key("views"),
                format!(
                    "agree compares two or more views, found {}",
                    named.get_ref().len()
                ),
            ));
        }
        let views = named
            .get_ref()
            .iter()
            .map(|v| self.view(v, "views"))
            .collect::<Result<Vec<_>, _>>()?;
        let without_fields = views.iter().find(|v| self.views[**v].fields.is_empty());
        let compare = match (&raw.compare, without_fields) {
            (None, Some(_)) => Compare::Ids,
            (None, None) => Compare::Records,
            (Some(c), _) if c.get_ref() == "ids" => Compare::Ids,
            (Some(c), Some(view)) if c.get_ref() == "records" => {
                return Err(self.cx.at(
                    c,
                    &self.key("compare"),
                    format!(
                        "compare = \"records\" compares declared fields, but view {view:?} \
                         declares none: add fields = {{ ... }} to [views.{view}] or use \
                         compare = \"ids\""
                    ),
                ));
            }
            (Some(c), None) if c.get_ref() == "records" => Compare::Records,
            (Some(c), _) => {
                return Err(self.cx.at(
                    c,
                    &self.key("compare"),
                    format!("expected \"ids\" or \"records\", found {:?}", c.get_ref()),
                ));
            }
        };
        let views = views.into_iter().map(str::to_owned).collect();
        Ok(Relation::Agree { views, compare })
    }

    fn covers(&self, raw: &RawRelation, model: &Model) -> Result<Relation, WorkloadError> {
        let view = self.view(self.required(&raw.view, "view", "covers")?, "view")?;
        let op = self.required(&raw.op, "op", "covers")?;
        let ops = model.operations();
        if !ops.contains(&op.get_ref().as_str()) {
            return Err(self.cx.at(
                op,
                &self.key("op"),
                format!(
                    "the {} model has no operation {:?}; its operations are {}",
                    model.name(),
                    op.get_ref(),
                    quoted_list(&ops)
                ),
            ));
        }
        let filter = self.filter(view, raw.filter.as_ref(), "filter")?;
        Ok(Relation::Covers {
            view: view.to_owned(),
            op: op.get_ref().clone(),
            filter,
        })
    }

    fn unique(&self, raw: &RawRelation) -> Result<Relation, WorkloadError> {
        let view = self.view(self.required(&raw.view, "view", "unique")?, "view")?;
        let key = match &raw.key {
            Some(key) => Some(self.field(view, key, "key")?),
            None => None,
        };
        Ok(Relation::Unique {
            view: view.to_owned(),
            key,
        })
    }

    fn matches(&self, raw: &RawRelation) -> Result<Relation, WorkloadError> {
        let view = self.view(self.required(&raw.view, "view", "matches")?, "view")?;
        let other = self.view(self.required(&raw.other, "other", "matches")?, "other")?;
        let key = self.field(other, self.required(&raw.key, "key", "matches")?, "key")?;
        let filter = self.filter(view, raw.filter.as_ref(), "filter")?;
        let other_filter = self.filter(other, raw.other_filter.as_ref(), "other_filter")?;
        let expect = match &raw.expect {
            None => Expect::One,
            Some(e) if e.get_ref() == "one" => Expect::One,
            Some(e) if e.get_ref() == "none" => Expect::None,
            Some(e) => {
                return Err(self.cx.at(
                    e,
                    &self.key("expect"),
                    format!("expected \"one\" or \"none\", found {:?}", e.get_ref()),
                ));
            }
        };
        Ok(Relation::Matches {
            view: view.to_owned(),
            filter,
            other: other.to_owned(),
            other_filter,
            key,
            expect,
        })
    }

    fn conserved(&self, raw: &RawRelation) -> Result<Relation, WorkloadError> {
        let view = self.view(self.required(&raw.view, "view", "conserved")?, "view")?;
        let named = self.required(&raw.fields, "fields", "conserved")?;
        if named.get_ref().is_empty() {
            return Err(self.cx.at(
                named,
                &self.key("fields"),
                "expected one or more field names whose sum is conserved",
            ));
        }
        let fields = named
            .get_ref()
            .iter()
            .map(|f| self.field(view, f, "fields"))
            .collect::<Result<Vec<_>, _>>()?;
        let total = *self.required(&raw.total, "total", "conserved")?.get_ref();
        let when = match &raw.when {
            None => When::Always,
            Some(w) if w.get_ref() == "always" => When::Always,
            Some(w) if w.get_ref() == "settled" => When::Settled,
            Some(w) => {
                return Err(self.cx.at(
                    w,
                    &self.key("when"),
                    format!(
                        "expected \"always\" (every read) or \"settled\" (the convergence \
                         phase's last round), found {:?}",
                        w.get_ref()
                    ),
                ));
            }
        };
        Ok(Relation::Conserved {
            view: view.to_owned(),
            fields,
            total,
            floor: raw.floor.as_ref().map(|f| *f.get_ref()),
            when,
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}.{key}", self.field)
    }

    fn required<'v, T>(
        &self,
        value: &'v Option<Spanned<T>>,
        key: &str,
        kind: &str,
    ) -> Result<&'v Spanned<T>, WorkloadError> {
        value.as_ref().ok_or_else(|| {
            let keys = KINDS
                .iter()
                .find(|(name, _)| *name == kind)
                .map_or(&[][..], |(_, keys)| keys);
            self.cx.span(
                Some(self.span.clone()),
                &self.key(key),
                format!(
                    "missing {key}: kind = \"{kind}\" needs it (it takes {})",
                    quoted_list(keys)
                ),
            )
        })
    }

    /// A declared view's name, or an error listing the declared ones.
    fn view<'n>(&self, name: &'n Spanned<String>, key: &str) -> Result<&'n str, WorkloadError> {
        if self.views.contains_key(name.get_ref()) {
            return Ok(name.get_ref());
        }
        let known: Vec<&str> = self.views.keys().map(String::as_str).collect();
        let message = if known.is_empty() {
            format!(
                "no view named {:?}: no views are declared; add a [views.{}] section",
                name.get_ref(),
                name.get_ref()
            )
        } else {
            format!(
                "no view named {:?}; the views are {}",
                name.get_ref(),
                quoted_list(&known)
            )
        };
        Err(self.cx.at(name, &self.key(key), message))
    }

    /// A field `view` declares, or an error listing the ones it does.
    fn field(
        &self,
        view: &str,
        name: &Spanned<String>,
        key: &str,
    ) -> Result<String, WorkloadError> {
        let declared = &self.views[view].fields;
        if declared.iter().any(|(f, _)| f == name.get_ref()) {
            return Ok(name.get_ref().clone());
        }
        let known: Vec<&str> = declared.iter().map(|(f, _)| f.as_str()).collect();
        let message = if known.is_empty() {
            format!(
                "view {view:?} declares no field {:?}; it declares no fields at all: add \
                 fields = {{ {} = \"/pointer\" }} to [views.{view}]",
                name.get_ref(),
                name.get_ref()
            )
        } else {
            format!(
                "view {view:?} declares no field {:?}; its fields are {}",
                name.get_ref(),
                quoted_list(&known)
            )
        };
        Err(self.cx.at(name, &self.key(key), message))
    }

    fn filter(
        &self,
        view: &str,
        raw: Option<&Spanned<RawFilter>>,
        key: &str,
    ) -> Result<Filter, WorkloadError> {
        let mut conditions = Vec::new();
        for (name, value) in raw.map(Spanned::get_ref).into_iter().flatten() {
            let field = self.field(view, name, key)?;
            let at = format!("{}.{}", self.key(key), name.get_ref());
            let values = match value.get_ref() {
                toml::Value::Array(items) if items.is_empty() => {
                    return Err(self.cx.at(
                        value,
                        &at,
                        "expected one or more values to compare with, found an empty list",
                    ));
                }
                toml::Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        scalar(item).map_err(|found| {
                            let m = format!(
                                "expected a list of strings, numbers or booleans (any of \
                                 which the field may equal), found {found} as item {}",
                                i + 1
                            );
                            self.cx.at(value, &at, m)
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                item => vec![scalar(item).map_err(|found| {
                    let m = format!(
                        "expected a string, number or boolean to compare with, or a list of \
                         them, found {found}"
                    );
                    self.cx.at(value, &at, m)
                })?],
            };
            conditions.push((field, values));
        }
        Ok(Filter(conditions))
    }
}

/// A filter's scalar as a history value, or what it is instead (`a table`).
fn scalar(value: &toml::Value) -> Result<Value, &'static str> {
    match value {
        toml::Value::String(s) => Ok(Value::from(s.as_str())),
        toml::Value::Integer(i) => Ok(Value::Int(*i)),
        toml::Value::Float(f) => Ok(Value::Float(*f)),
        toml::Value::Boolean(b) => Ok(Value::Bool(*b)),
        toml::Value::Array(_) => Err("an array"),
        toml::Value::Table(_) => Err("a table"),
        toml::Value::Datetime(_) => Err("a datetime"),
    }
}

/// The keys given in a relation, with their spans.
fn present(raw: &RawRelation) -> Vec<(&'static str, Range<usize>)> {
    fn at<T>(key: &'static str, v: &Option<Spanned<T>>) -> Option<(&'static str, Range<usize>)> {
        v.as_ref().map(|v| (key, v.span()))
    }
    [
        at("views", &raw.views),
        at("compare", &raw.compare),
        at("view", &raw.view),
        at("op", &raw.op),
        at("key", &raw.key),
        at("filter", &raw.filter),
        at("other", &raw.other),
        at("other_filter", &raw.other_filter),
        at("expect", &raw.expect),
        at("fields", &raw.fields),
        at("total", &raw.total),
        at("floor", &raw.floor),
        at("when", &raw.when),
    ]
    .into_iter()
    .flatten()
    .collect()
}

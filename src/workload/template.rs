//! Request templates: a path or body with `{{value}}`, `{{value % N}}`, `{{key}}` and
//! `{{process}}` placeholders (and a bank transfer's `{{from}}`, `{{to}}` and `{{amount}}`, a
//! register cas's `{{from}}` and `{{to}}`),
//! parsed once when the workload is validated and filled for every request. Which op may use
//! which placeholder is the validation's call, not the parser's.
//!
//! A path fills placeholders URL-encoded (integers as digits, strings percent-encoded), a
//! body fills them as JSON (`3`, `"a"`, `null`), so a body template is written as the JSON
//! the system expects with the placeholder where a JSON value goes, unquoted.

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::client::Invocation;
use crate::history::Value;

/// Characters kept as they are in a path placeholder: RFC 3986's unreserved set.
const PATH_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The placeholder names a template may use, for error messages.
pub const PLACEHOLDERS: &[&str] = &[
    "value",
    "key",
    "process",
    "from",
    "to",
    "amount",
    "value % N",
];

/// A parsed template.
#[derive(Clone, Debug)]
pub struct Template {
    text: String,
    pieces: Vec<Piece>,
}

/// One run of literal text or one placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Placeholder(Placeholder),
}

/// What a placeholder stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// The invocation's value (`{{value}}`).
    Value,
    /// The invocation's integer value modulo N ≥ 2 (`{{value % N}}`), in 0..N: a fresh
    /// integer spread over N customers, amounts, shards. A value that is not an integer
    /// fills nothing (validation keeps it to ops whose value is an integer).
    ValueModulo(i64),
    /// The invocation's key (`{{key}}`), for keyed models.
    Key,
    /// The worker's process id (`{{process}}`).
    Process,
    /// A bank transfer's source account (`{{from}}`): the value's `from`; a register cas's
    /// expected value: the first of its `[from to]`.
    From,
    /// A bank transfer's destination account (`{{to}}`): the value's `to`; a register cas's
    /// new value: the second of its `[from to]`.
    To,
    /// A bank transfer's amount (`{{amount}}`): the value's `amount`.
    Amount,
}

impl Placeholder {
    /// The name written between the braces (without a modulus).
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Value | Placeholder::ValueModulo(_) => "value",
            Placeholder::Key => "key",
            Placeholder::Process => "process",
            Placeholder::From => "from",
            Placeholder::To => "to",
            Placeholder::Amount => "amount",
        }
    }

    /// A bank transfer's fields, which only its `transfer` op carries.
    pub fn is_transfer_field(self) -> bool {
        matches!(
            self,
            Placeholder::From | Placeholder::To | Placeholder::Amount
        )
    }

    fn from_name(name: &str) -> Option<Placeholder> {
        match name {
            "value" => Some(Placeholder::Value),
            "key" => Some(Placeholder::Key),
            "process" => Some(Placeholder::Process),
            "from" => Some(Placeholder::From),
            "to" => Some(Placeholder::To),
            "amount" => Some(Placeholder::Amount),
            _ => None,
        }
    }

    fn fill(self, inv: &Invocation) -> Value {
        match self {
            Placeholder::Value => inv.value.clone(),
            Placeholder::ValueModulo(n) => match inv.value {
                Value::Int(i) => Value::Int(i.rem_euclid(n)),
                _ => Value::Nil,
            },
            Placeholder::Key => inv.key.clone(),
            Placeholder::Process => Value::Int(i64::try_from(inv.process).unwrap_or(i64::MAX)),
            Placeholder::From | Placeholder::To => match inv.value.as_list() {
                // A cas's `[from to]`.
                Some([from, to]) => (if self == Placeholder::From { from } else { to }).clone(),
                _ => entry(&inv.value, self.name()),
            },
            Placeholder::Amount => entry(&inv.value, self.name()),
        }
    }
}

impl Template {
    /// Parses `text`. `{{name}}` (spaces inside the braces allowed) is a placeholder; any other
    /// brace is literal text, so JSON bodies need no escaping. An unknown name or an unclosed
    /// `{{` is an error message naming it and the valid placeholders.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = find_open(rest) {
            push_literal(&mut pieces, &rest[..open]);
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(format!(
                    "unclosed placeholder \"{{{{{}\": expected {}",
                    after.chars().take(20).collect::<String>(),
                    valid_list()
                ));
            };
            let placeholder = placeholder(after[..close].trim())?;
            pieces.push(Piece::Placeholder(placeholder));
            rest = &after[close + 2..];
        }
        push_literal(&mut pieces, rest);
        Ok(Template {
            text: text.to_owned(),
            pieces,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The placeholders used, in order of appearance (repeats included).
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Placeholder(p) => Some(*p),
            Piece::Literal(_) => None,
        })
    }

    /// Fills the template for a URL path: integers as digits, strings percent-encoded, `nil`
    /// as nothing, anything else as its JSON text percent-encoded.
    pub fn render_path(&self, inv: &Invocation) -> String {
        self.render(inv, |out, value| match value {
            Value::Nil => {}
            Value::Int(i) => write!(out, "{i}").expect("writing to a String cannot fail"),
            Value::Str(s) => out.extend(utf8_percent_encode(s, PATH_KEEP)),
            other => out.extend(utf8_percent_encode(&to_json(other), PATH_KEEP)),
        })
    }

    /// Fills the template for a JSON body: every placeholder becomes a JSON value.
    pub fn render_json(&self, inv: &Invocation) -> String {
        self.render(inv, |out, value| out.push_str(&to_json(value)))
    }

    fn render(&self, inv: &Invocation, mut put: impl FnMut(&mut String, &Value)) -> String {
        let mut out = String::with_capacity(self.text.len() + 16);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Placeholder(p) => put(&mut out, &p.fill(inv)),
            }
        }
        out
    }
}

/// The entry `name` of a map value (a transfer's `{"from", "to", "amount"}`), or nil.
fn entry(value: &Value, name: &str) -> Value {
    let Value::Map(entries) = value else {
        return Value::Nil;
    };
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map_or(Value::Nil, |(_, v)| v.clone())
}

/// Where the next placeholder's `{{` starts; in `{{{`, the first brace is literal. Shared
/// with the nemesis' command templates, which use the same syntax.
pub(crate) fn find_open(text: &str) -> Option<usize> {
    let mut at = text.find("{{")?;
    while text[at + 2..].starts_with('{') {
        at += 1;
    }
    Some(at)
}

/// The placeholder between the braces: a name, or `value % N`.
fn placeholder(inside: &str) -> Result<Placeholder, String> {
    let Some((name, modulus)) = inside.split_once('%') else {
        return Placeholder::from_name(inside).ok_or_else(|| {
            format!(
                "unknown placeholder \"{{{{{inside}}}}}\": expected {}",
                valid_list()
            )
        });
    };
    if name.trim() != "value" {
        return Err(format!(
            "only {{{{value}}}} takes a modulus (\"{{{{value % N}}}}\"), found \"{{{{{inside}}}}}\""
        ));
    }
    match modulus.trim().parse::<i64>() {
        Ok(n) if n >= 2 => Ok(Placeholder::ValueModulo(n)),
        _ => Err(format!(
            "the modulus in \"{{{{{inside}}}}}\" must be an integer >= 2, found {:?}",
            modulus.trim()
        )),
    }
}

fn push_literal(pieces: &mut Vec<Piece>, text: &str) {
    if !text.is_empty() {
        pieces.push(Piece::Literal(text.to_owned()));
    }
}

fn valid_list() -> String {
    placeholder_list(PLACEHOLDERS)
}

/// `one of {{value}}, {{key}}`: the placeholders an error message offers.
pub(crate) fn placeholder_list(names: &[&str]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("{{{{{n}}}}}")).collect();
    format!("one of {}", names.join(", "))
}

fn to_json(value: &Value) -> String {
    serde_json::to_string(value).expect("a Value always serializes to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(value: Value) -> Invocation {
        Invocation {
            f: "add".into(),
            value,
            process: 7,
            key: Value::Nil,
        }
    }

    #[test]
    fn json_braces_around_a_placeholder_stay_literal() {
        let t = Template::parse(r#"{"data": {"n": {{value}}}}"#).unwrap();
        assert_eq!(t.render_json(&inv(Value::Int(3))), r#"{"data": {"n": 3}}"#);
        let t = Template::parse(r#"{"n":{{{value}}}}"#).unwrap();
        assert_eq!(t.render_json(&inv(Value::Int(3))), r#"{"n":{3}}"#);
    }

    #[test]
    fn spaces_inside_braces_are_allowed() {
        let t = Template::parse("/p/{{ process }}/{{value}}").unwrap();
        assert_eq!(t.render_path(&inv(Value::Int(1))), "/p/7/1");
        assert_eq!(
            t.placeholders().collect::<Vec<_>>(),
            [Placeholder::Process, Placeholder::Value]
        );
    }

    #[test]
    fn unknown_placeholder_is_named_with_the_valid_ones() {
        let err = Template::parse("/v/{{vlaue}}").unwrap_err();
        assert!(err.contains("{{vlaue}}"), "{err}");
        assert!(err.contains("{{value}}, {{key}}, {{process}}"), "{err}");
    }

    #[test]
    fn transfer_fields_fill_from_the_value_as_json_or_url_encoded() {
        let transfer = Value::Map(
            vec![
                (Value::from("from"), Value::from("a b")),
                (Value::from("to"), Value::Int(1)),
                (Value::from("amount"), Value::Int(5)),
            ]
            .into(),
        );
        let t =
            Template::parse(r#"{"from": {{from}}, "to": {{to}}, "amount": {{amount}}}"#).unwrap();
        assert_eq!(
            t.render_json(&inv(transfer.clone())),
            r#"{"from": "a b", "to": 1, "amount": 5}"#
        );
        let t = Template::parse("/t/{{from}}/{{to}}?n={{amount}}").unwrap();
        assert_eq!(t.render_path(&inv(transfer)), "/t/a%20b/1?n=5");
        assert_eq!(t.render_path(&inv(Value::Int(3))), "/t//?n=");
    }

    #[test]
    fn value_modulo_n_fills_the_integer_value_mod_n_in_paths_and_bodies() {
        let t = Template::parse(r#"{"id": {{value}}, "c": "c{{value % 7}}", "a": {{value%150}}}"#)
            .unwrap();
        assert_eq!(
            t.render_json(&inv(Value::Int(303))),
            r#"{"id": 303, "c": "c2", "a": 3}"#
        );
        assert_eq!(
            t.placeholders().collect::<Vec<_>>(),
            [
                Placeholder::Value,
                Placeholder::ValueModulo(7),
                Placeholder::ValueModulo(150)
            ]
        );
        let t = Template::parse("/c/{{ value % 3 }}").unwrap();
        assert_eq!(t.render_path(&inv(Value::Int(-1))), "/c/2");
        assert_eq!(t.render_path(&inv("a".into())), "/c/");
    }

    #[test]
    fn a_modulus_below_2_or_not_an_integer_or_on_another_name_is_an_error() {
        for (text, says) in [
            ("{{value % 1}}", "must be an integer >= 2, found \"1\""),
            ("{{value % 0}}", "must be an integer >= 2, found \"0\""),
            ("{{value % -3}}", "must be an integer >= 2, found \"-3\""),
            ("{{value % x}}", "must be an integer >= 2, found \"x\""),
            ("{{value %}}", "must be an integer >= 2, found \"\""),
            ("{{value % 2.5}}", "must be an integer >= 2, found \"2.5\""),
            ("{{process % 3}}", "only {{value}} takes a modulus"),
        ] {
            let err = Template::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn unclosed_placeholder_is_an_error() {
        let err = Template::parse("/v/{{value").unwrap_err();
        assert!(err.starts_with("unclosed placeholder"), "{err}");
    }

    #[test]
    fn path_strings_are_percent_encoded_and_json_strings_quoted() {
        let t = Template::parse("/k/{{value}}").unwrap();
        assert_eq!(t.render_path(&inv("a b/c".into())), "/k/a%20b%2Fc");
        assert_eq!(t.render_json(&inv("a".into())), "/k/\"a\"");
        assert_eq!(t.render_json(&inv(Value::Nil)), "/k/null");
    }
}

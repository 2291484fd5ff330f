//! Exporting a history as Jepsen EDN, one op map a line, so Jepsen, Knossos and Elle
//! (elle-cli) can check what splitbrain recorded.
//!
//! [`Value`] does not know which strings were keywords, so names Jepsen writes as keywords
//! (`:type`, `:f`, the nemesis process) are keywords, and so is the function of an Elle
//! micro-op (`[:append "x" 3]`, `[:r "x" [1 2]]`, `[:w "x" 3]`); every other string is a
//! string. Reading the export back gives the same history, since keywords read as strings.

use std::io::{self, Write};

use super::{Event, Process, Value};

/// Writes `events` to `out` as Jepsen EDN, one op map a line.
pub fn write_edn<'a, W: Write>(
    mut out: W,
    events: impl IntoIterator<Item = &'a Event>,
) -> io::Result<()> {
    let mut line = String::with_capacity(256);
    for event in events {
        line.clear();
        edn_event(&mut line, event);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

fn edn_event(out: &mut String, event: &Event) {
    use std::fmt::Write as _;
    let process = match event.process {
        Process::Client(p) => p.to_string(),
        Process::Nemesis => ":nemesis".to_string(),
    };
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{{:index {}, :time {}, :process {process}, :type :{}, :f ",
        event.index,
        event.time,
        event.kind.as_str()
    );
    keyword_or_string(out, &event.f);
    out.push_str(", :value ");
    edn_value(out, &event.value);
    if let Some(node) = &event.node {
        out.push_str(", :node ");
        edn_string(out, node);
    }
    if let Some(error) = &event.error {
        out.push_str(", :error ");
        edn_string(out, error);
    }
    out.push('}');
}

fn edn_value(out: &mut String, value: &Value) {
    match value {
        Value::Nil => out.push_str("nil"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(x) if x.is_nan() => out.push_str("##NaN"),
        Value::Float(x) if x.is_infinite() => {
            out.push_str(if *x > 0.0 { "##Inf" } else { "##-Inf" })
        }
        // Debug keeps a `.0` on integral floats, so they read back as floats.
        Value::Float(x) => out.push_str(&format!("{x:?}")),
        Value::Str(s) => edn_string(out, s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                match (i, item) {
                    (0, Value::Str(_)) if is_micro_op(items) => edn_value_keyword(out, item),
                    _ => edn_value(out, item),
                }
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                edn_value(out, k);
                out.push(' ');
                edn_value(out, v);
            }
            out.push('}');
        }
    }
}

/// An Elle micro-op: `[f key value]` with `f` one of Elle's functions.
fn is_micro_op(items: &[Value]) -> bool {
    items.len() == 3 && matches!(items[0].as_str(), Some("append" | "r" | "w"))
}

fn edn_value_keyword(out: &mut String, value: &Value) {
    match value.as_str() {
        Some(s) => keyword_or_string(out, s),
        None => edn_value(out, value),
    }
}

/// `:name` when `name` can be a keyword, else a string.
fn keyword_or_string(out: &mut String, name: &str) {
    let keyword = name.chars().next().is_some_and(|c| c.is_alphabetic())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "*+!-_?<>=/.".contains(c));
    if keyword {
        out.push(':');
        out.push_str(name);
    } else {
        edn_string(out, name);
    }
}

fn edn_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

//! Jepsen, Knossos and Elle `history.edn` files into a [`History`]. Two shapes occur: one op
//! map per form (Jepsen's `history.edn`, Elle's tests; maps may span lines), or a single
//! vector or list of op maps (Knossos). Each op map gives `:process` (an integer, or anything
//! else for the nemesis), `:type`, `:f`, `:value`, and sometimes `:time`, `:index`, `:node`,
//! `:error`; the many other keys Jepsen writes are ignored.

use std::path::Path;

use super::edn::{EdnError, EdnReader, Entry, Pos};
use super::jepsen::{JepsenOp, OpSink};
use super::read::{HistoryFormat, ReadReport, io_error, parse_error};
use super::{EventKind, History, HistoryError, Name, Process, Value};

/// Reads a Jepsen EDN history file.
pub fn read_edn(path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let src = std::fs::read(path).map_err(|source| io_error(path, source))?;
    parse_edn_history(&src, path)
}

/// Parses Jepsen EDN history text; `path` names it in errors.
pub fn parse_edn_history(src: &[u8], path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let mut reader = EdnReader::new(src);
    let mut sink = OpSink::default();
    let syntax = |e: EdnError| parse_error(path, e.line, e.column, e.message);
    let close = match reader.skip_ws().map_err(syntax)? {
        Some(open @ (b'[' | b'(')) => {
            reader.expect_byte(open);
            Some((if open == b'[' { b']' } else { b')' }, reader.here()))
        }
        _ => None,
    };
    loop {
        let next = reader.skip_ws().map_err(syntax)?;
        match (next, close) {
            (None, None) => break,
            (None, Some((close, open))) => {
                let message = format!(
                    "the history opened here is never closed: expected `{}`",
                    close as char
                );
                return Err(syntax(reader.error_at(open, message)));
            }
            (Some(b), Some((close, _))) if b == close => {
                reader.expect_byte(close);
                return expect_end(&mut reader, path, sink);
            }
            (Some(b'{'), _) => {
                let start = reader.here();
                let entries = reader.read_map_entries().map_err(syntax)?;
                let (op, f) =
                    op_from_entries(&reader, &mut sink, entries, start).map_err(syntax)?;
                sink.push(op, f)?;
            }
            (Some(_), _) => {
                let start = reader.here();
                reader.read_value().map_err(syntax)?;
                let message = format!(
                    "expected an op map such as {{:process 0, :type :invoke, :f :read, :value nil}}, found `{}`",
                    reader.quote(start, reader.here().offset)
                );
                return Err(syntax(reader.error_at(start, message)));
            }
        }
    }
    Ok(sink.finish(HistoryFormat::Edn))
}

/// After the closing bracket of a history vector only whitespace and comments may follow.
fn expect_end(
    reader: &mut EdnReader<'_>,
    path: &Path,
    sink: OpSink,
) -> Result<(History, ReadReport), HistoryError> {
    let syntax = |e: EdnError| parse_error(path, e.line, e.column, e.message);
    if reader.skip_ws().map_err(syntax)?.is_some() {
        let here = reader.here();
        return Err(syntax(reader.error_at(
            here,
            "expected the end of the file after the vector of ops",
        )));
    }
    Ok(sink.finish(HistoryFormat::Edn))
}

/// An op map's fields, checked; the op's `f` (given or inferred) comes separately.
fn op_from_entries(
    reader: &EdnReader<'_>,
    sink: &mut OpSink,
    entries: Vec<Entry>,
    start: Pos,
) -> Result<(JepsenOp, Name), EdnError> {
    let mut op = JepsenOp {
        process: None,
        kind: EventKind::Info,
        f: None,
        value: Value::Nil,
        time: None,
        index: None,
        node: None,
        error: None,
    };
    let mut has_kind = false;
    for entry in entries {
        has_kind |= entry.key.as_str() == Some("type");
        set_field(&mut op, entry, reader, sink)?;
    }
    if !has_kind {
        let message = "expected the op map to have :type (one of :invoke :ok :fail :info)";
        return Err(reader.error_at(start, message));
    }
    match op.f.clone().or_else(|| sink.default_f(&op.value)) {
        Some(f) => Ok((op, f)),
        None => Err(reader.error_at(
            start,
            "expected the op map to have :f (the operation, e.g. :read)",
        )),
    }
}

/// Sets the field `entry` names, if it is one the history uses.
fn set_field(
    op: &mut JepsenOp,
    entry: Entry,
    reader: &EdnReader<'_>,
    sink: &mut OpSink,
) -> Result<(), EdnError> {
    let Value::Str(key) = &entry.key else {
        return Ok(());
    };
    let bad = |expected: &str| {
        let found = reader.quote(entry.value_start, entry.value_end);
        let message = format!("expected :{key} to be {expected}, found {found}");
        reader.error_at(entry.value_start, message)
    };
    let non_negative = |value: &Value| value.as_int().and_then(|i| u64::try_from(i).ok());
    match &**key {
        "process" => {
            let process = process(&entry.value);
            op.process = Some(process.ok_or_else(|| bad("a non-negative integer, or :nemesis"))?);
        }
        "type" => {
            op.kind = kind(&entry.value).ok_or_else(|| bad("one of :invoke :ok :fail :info"))?;
        }
        "time" => {
            let time = non_negative(&entry.value);
            op.time = Some(time.ok_or_else(|| bad("a non-negative integer (nanoseconds)"))?);
        }
        "index" => {
            let index = non_negative(&entry.value);
            op.index = Some(index.ok_or_else(|| bad("a non-negative integer"))?);
        }
        "f" => op.f = name(sink, &entry.value),
        "node" => op.node = name(sink, &entry.value),
        "error" => op.error = error_text(&entry.value),
        "value" => op.value = entry.value,
        _ => {}
    }
    Ok(())
}

/// Any integer is a client process; the nemesis may be `:nemesis` or anything non-integer.
fn process(value: &Value) -> Option<Process> {
    match value {
        Value::Int(p) => u64::try_from(*p).ok().map(Process::Client),
        _ => Some(Process::Nemesis),
    }
}

pub(crate) fn kind(value: &Value) -> Option<EventKind> {
    match value.as_str()? {
        "invoke" => Some(EventKind::Invoke),
        "ok" => Some(EventKind::Ok),
        "fail" => Some(EventKind::Fail),
        "info" => Some(EventKind::Info),
        _ => None,
    }
}

/// A name from a keyword or string; anything else by its printed form, `nil` as absent.
pub(crate) fn name(sink: &mut OpSink, value: &Value) -> Option<Name> {
    match value {
        Value::Nil => None,
        Value::Str(s) => Some(sink.interner.intern(s)),
        other => Some(sink.interner.intern(&other.to_string())),
    }
}

/// `:error` may be anything (a keyword, a string, a vector, a map); keep its printed form.
pub(crate) fn error_text(value: &Value) -> Option<String> {
    match value {
        Value::Nil => None,
        Value::Str(s) => Some(s.to_string()),
        other => Some(other.to_string()),
    }
}

//! Readers for the linearizability peers' own history formats, into a [`History`] whose
//! index and time are the event's position (file order is real-time order; there are no
//! timestamps):
//!
//! - Jepsen's console log lines (`INFO  jepsen.util - 3\t:ok\t:cas\t[3 0]`), as in the etcd
//!   logs Porcupine and Horn & Kroening test with. Other lines (and `:nemesis` ones) are
//!   skipped, so a raw Jepsen console log reads the same. A completion whose value is a
//!   keyword (`:timed-out`) returned nothing: the keyword becomes the op's error.
//! - Porcupine's kv logs: one EDN map per line with `:key` beside `:value`; the op's value
//!   becomes the pair `[key value]`, as Jepsen's independent checker writes it.
//!
//! These belong in `history/` once the CLI reads them; they live here while only the
//! linearizability checker's tests and benchmark do.

use std::path::Path;

use crate::history::{
    Event, EventKind, History, HistoryError, Interner, Process, Value, parse_edn_value,
};

fn parse_error(path: &Path, line: usize, message: String) -> HistoryError {
    HistoryError::Parse {
        path: path.to_path_buf(),
        line: line as u64 + 1,
        column: 1,
        message,
    }
}

fn kind(word: &str) -> Option<EventKind> {
    match word {
        ":invoke" => Some(EventKind::Invoke),
        ":ok" => Some(EventKind::Ok),
        ":fail" => Some(EventKind::Fail),
        ":info" => Some(EventKind::Info),
        _ => None,
    }
}

/// Reads a Jepsen console log (`jepsen.util` op lines).
pub fn read_jepsen_log(path: &Path) -> Result<History, HistoryError> {
    let src = std::fs::read_to_string(path).map_err(|source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_jepsen_log(&src, path)
}

/// Parses Jepsen console log text; `path` names it in errors.
pub fn parse_jepsen_log(src: &str, path: &Path) -> Result<History, HistoryError> {
    let mut interner = Interner::default();
    let mut events = Vec::new();
    for (n, line) in src.lines().enumerate() {
        let Some((_, op)) = line.split_once("jepsen.util - ") else {
            continue;
        };
        let mut words = op.split_whitespace();
        let (Some(process), Some(kind_word), Some(f)) = (words.next(), words.next(), words.next())
        else {
            continue;
        };
        if process == ":nemesis" {
            continue;
        }
        let bad = |what: &str| parse_error(path, n, format!("expected {what} in {line:?}"));
        let process: u64 = process.parse().map_err(|_| bad("a process number"))?;
        let kind = kind(kind_word).ok_or_else(|| bad("one of :invoke :ok :fail :info"))?;
        let f = f
            .strip_prefix(':')
            .ok_or_else(|| bad("an operation keyword"))?;
        let rest = words.collect::<Vec<_>>().join(" ");
        let value = parse_edn_value(rest.as_bytes())
            .map_err(|e| parse_error(path, n, format!("bad value {rest:?}: {}", e.message)))?;
        // A keyword where a value goes (`:timed-out`) is why the op ended, not what it returned.
        let (value, error) = match value {
            Value::Str(reason) if rest.starts_with(':') => (Value::Nil, Some(reason.to_string())),
            value => (value, None),
        };
        let index = events.len() as u64;
        events.push(Event {
            index,
            time: index,
            process: Process::Client(process),
            kind,
            f: interner.intern(f),
            value,
            node: None,
            error,
        });
    }
    History::from_events(None, events)
}

/// Reads a Porcupine kv log (one EDN map per line with `:process :type :f :key :value`).
pub fn read_kv_log(path: &Path) -> Result<History, HistoryError> {
    let src = std::fs::read_to_string(path).map_err(|source| HistoryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_kv_log(&src, path)
}

/// Parses Porcupine kv log text; `path` names it in errors.
pub fn parse_kv_log(src: &str, path: &Path) -> Result<History, HistoryError> {
    let mut interner = Interner::default();
    let mut events = Vec::new();
    for (n, line) in src.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let map = parse_edn_value(line.as_bytes())
            .map_err(|e| parse_error(path, n, e.message.clone()))?;
        let Value::Map(entries) = map else {
            return Err(parse_error(path, n, "expected an op map".into()));
        };
        let field = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(_, v)| v)
        };
        let bad = |what: &str| parse_error(path, n, format!("expected {what}"));
        let process = field("process").and_then(Value::as_int);
        let process = process.and_then(|p| u64::try_from(p).ok());
        let process = process.ok_or_else(|| bad(":process, a non-negative integer"))?;
        let kind_name = field("type").and_then(Value::as_str).unwrap_or("");
        let kind = kind(&format!(":{kind_name}")).ok_or_else(|| bad(":type"))?;
        let f = field("f")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(":f"))?;
        let key = field("key").ok_or_else(|| bad(":key"))?.clone();
        let value = field("value").cloned().unwrap_or_default();
        let index = events.len() as u64;
        events.push(Event {
            index,
            time: index,
            process: Process::Client(process),
            kind,
            f: interner.intern(f),
            value: Value::list([key, value]),
            node: None,
            error: None,
        });
    }
    History::from_events(None, events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    #[test]
    fn a_timed_out_completion_keeps_the_invoked_value_and_names_the_error() {
        let log = "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\n\
                   INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\
                   INFO  jepsen.util - 2   :info   :cas   :timed-out\n\
                   INFO  jepsen.util - 7\t:invoke\t:write\t4\n";
        let h = parse_jepsen_log(log, Path::new("t.log")).unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!(h.ops[0].value, Value::list([3.into(), 0.into()]));
        assert_eq!(h.ops[0].outcome, Outcome::Info);
        assert_eq!(h.ops[0].error(), Some("timed-out"));
        assert_eq!(h.ops[1].complete, None);
    }

    #[test]
    fn a_kv_line_becomes_a_key_value_pair() {
        let log = "{:process 0, :type :invoke, :f :get, :key \"5\", :value nil}\n\
                   {:process 0, :type :ok, :f :get, :key \"5\", :value \"x 0 0 y\"}\n";
        let h = parse_kv_log(log, Path::new("kv.txt")).unwrap();
        assert_eq!(h.ops[0].value, Value::list(["5".into(), "x 0 0 y".into()]));
    }
}

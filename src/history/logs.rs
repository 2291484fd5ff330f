//! The linearizability peers' line-oriented logs, into a [`History`] whose index and time are
//! the event's position (file order is real-time order; there are no timestamps):
//!
//! - Jepsen's console log lines (`INFO  jepsen.util - 3\t:ok\t:cas\t[3 0]`), as in the etcd
//!   logs Porcupine and Horn & Kroening test with. Other lines (and `:nemesis` ones) are
//!   skipped, so a raw Jepsen console log reads the same. A completion whose value is a
//!   keyword (`:timed-out`) returned nothing: the keyword becomes the op's error.
//! - Porcupine's kv logs: one EDN map per line with `:key` beside `:value`; the op's value
//!   becomes the pair `[key value]`, as Jepsen's independent checker writes it.
//!
//! Errors name the file's line, including a malformed history's (a process with two ops in
//! flight), which [`History::from_events`] could only name by event index.

use std::path::Path;

use super::read::{HistoryFormat, ReadReport, io_error, parse_error};
use super::{
    Event, EventKind, History, HistoryError, Interner, Pairer, Process, Value, parse_edn_value,
};

/// What a Jepsen console log's op line looks like, for error messages.
const LOG_LINE: &str = "INFO  jepsen.util - PROCESS :invoke|:ok|:fail|:info :F VALUE";

fn kind(word: &str) -> Option<EventKind> {
    match word {
        ":invoke" => Some(EventKind::Invoke),
        ":ok" => Some(EventKind::Ok),
        ":fail" => Some(EventKind::Fail),
        ":info" => Some(EventKind::Info),
        _ => None,
    }
}

/// The op part of a Jepsen console log line (after `jepsen.util - `), if the line has one.
pub(crate) fn log_op(line: &str) -> Option<&str> {
    line.split_once("jepsen.util - ").map(|(_, op)| op)
}

/// Whether a console log line is an op line: a process (a number or `:nemesis`) and a type.
pub(crate) fn is_log_op_line(line: &str) -> bool {
    let Some(op) = log_op(line) else {
        return false;
    };
    let mut words = op.split_whitespace();
    let process = words.next().unwrap_or("");
    let is_process = process == ":nemesis"
        || (!process.is_empty() && process.bytes().all(|b| b.is_ascii_digit()));
    is_process && words.next().and_then(kind).is_some()
}

/// Pairs events as they come, so a malformed history's error names the file's line.
struct LineSink<'a> {
    path: &'a Path,
    interner: Interner,
    pairer: Pairer,
    position: u64,
}

impl LineSink<'_> {
    fn new(path: &Path) -> LineSink<'_> {
        LineSink {
            path,
            interner: Interner::default(),
            pairer: Pairer::default(),
            position: 0,
        }
    }

    /// Adds the event read from line `n` (from 0).
    fn push(
        &mut self,
        n: usize,
        process: u64,
        kind: EventKind,
        f: &str,
        value: Value,
        error: Option<String>,
    ) -> Result<(), HistoryError> {
        let index = self.position;
        self.position += 1;
        let event = Event {
            index,
            time: index,
            process: Process::Client(process),
            kind,
            f: self.interner.intern(f),
            value,
            node: None,
            error,
        };
        self.pairer.push(event).map_err(|e| match e {
            HistoryError::Malformed { reason, .. } => {
                parse_error(self.path, n as u64 + 1, 1, reason)
            }
            e => e,
        })
    }

    fn finish(self, format: HistoryFormat) -> (History, ReadReport) {
        (self.pairer.finish(None), ReadReport::new(format))
    }
}

/// Reads a Jepsen console log (`jepsen.util` op lines).
pub fn read_jepsen_log(path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let src = std::fs::read_to_string(path).map_err(|source| io_error(path, source))?;
    parse_jepsen_log(&src, path)
}

/// Parses Jepsen console log text; `path` names it in errors.
pub fn parse_jepsen_log(src: &str, path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let mut sink = LineSink::new(path);
    for (n, line) in src.lines().enumerate() {
        let Some(op) = log_op(line) else {
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
        let bad = |what: &str| {
            let message = format!("expected {what} in {line:?} (an op line is {LOG_LINE})");
            parse_error(path, n as u64 + 1, 1, message)
        };
        let process: u64 = process.parse().map_err(|_| bad("a process number"))?;
        let kind = kind(kind_word).ok_or_else(|| bad("one of :invoke :ok :fail :info"))?;
        let f = f
            .strip_prefix(':')
            .ok_or_else(|| bad("an operation keyword such as :read"))?;
        let rest = words.collect::<Vec<_>>().join(" ");
        let value = parse_edn_value(rest.as_bytes()).map_err(|e| {
            let message = format!("expected an EDN value, found {rest:?}: {}", e.message);
            parse_error(path, n as u64 + 1, 1, message)
        })?;
        // A keyword where a value goes (`:timed-out`) is why the op ended, not what it returned.
        let (value, error) = match value {
            Value::Str(reason) if rest.starts_with(':') => (Value::Nil, Some(reason.to_string())),
            value => (value, None),
        };
        sink.push(n, process, kind, f, value, error)?;
    }
    Ok(sink.finish(HistoryFormat::JepsenLog))
}

/// Reads a Porcupine kv log (one EDN map per line with `:process :type :f :key :value`).
pub fn read_kv_log(path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let src = std::fs::read_to_string(path).map_err(|source| io_error(path, source))?;
    parse_kv_log(&src, path)
}

/// Parses Porcupine kv log text; `path` names it in errors.
pub fn parse_kv_log(src: &str, path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let mut sink = LineSink::new(path);
    for (n, line) in src.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |message: String| parse_error(path, n as u64 + 1, 1, message);
        let map = parse_edn_value(line.as_bytes()).map_err(|e| {
            let message = format!("{} (a kv log has one op map a line)", e.message);
            parse_error(path, n as u64 + 1, e.column, message)
        })?;
        let Value::Map(entries) = map else {
            return Err(at(format!(
                "expected an op map such as {{:process 0, :type :invoke, :f :get, :key \"5\", \
                 :value nil}}, found {line:?}"
            )));
        };
        let field = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(_, v)| v)
        };
        let bad = |what: &str| at(format!("expected {what}"));
        let process = field("process").and_then(Value::as_int);
        let process = process.and_then(|p| u64::try_from(p).ok());
        let process = process.ok_or_else(|| bad(":process, a non-negative integer"))?;
        let kind_name = field("type").and_then(Value::as_str).unwrap_or("");
        let kind = kind(&format!(":{kind_name}"))
            .ok_or_else(|| bad(":type, one of :invoke :ok :fail :info"))?;
        let f = field("f")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(":f, the operation (:get, :put or :append)"))?;
        let key = field("key")
            .ok_or_else(|| bad(":key, the key the op is on"))?
            .clone();
        let value = field("value").cloned().unwrap_or_default();
        sink.push(n, process, kind, f, Value::list([key, value]), None)?;
    }
    Ok(sink.finish(HistoryFormat::PorcupineKv))
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
        let (h, report) = parse_jepsen_log(log, Path::new("t.log")).unwrap();
        assert_eq!(report.format, HistoryFormat::JepsenLog);
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
        let (h, report) = parse_kv_log(log, Path::new("kv.txt")).unwrap();
        assert_eq!(report.format, HistoryFormat::PorcupineKv);
        assert_eq!(h.ops[0].value, Value::list(["5".into(), "x 0 0 y".into()]));
    }

    fn parse_message(err: HistoryError) -> (u64, String) {
        match err {
            HistoryError::Parse { line, message, .. } => (line, message),
            other => panic!("expected a parse error, got {other}"),
        }
    }

    #[test]
    fn a_log_line_with_a_bad_type_names_its_line_and_what_was_expected() {
        let log = "lein test\nINFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
                   INFO  jepsen.util - 2\t:done\t:read\t3\n";
        let err = parse_jepsen_log(log, Path::new("t.log")).unwrap_err();
        assert!(
            err.to_string().starts_with("failed to parse t.log: line 3"),
            "{err}"
        );
        let (_, message) = parse_message(err);
        assert!(
            message.contains("one of :invoke :ok :fail :info"),
            "{message}"
        );
    }

    #[test]
    fn a_process_invoking_twice_is_named_by_its_log_line() {
        let log = "INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
                   INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
                   INFO  jepsen.util - 2\t:invoke\t:write\t1\n";
        let (line, message) = parse_message(parse_jepsen_log(log, Path::new("t.log")).unwrap_err());
        assert_eq!(line, 3, "{message}");
    }

    #[test]
    fn a_kv_line_without_a_key_says_so() {
        let log = "{:process 0, :type :invoke, :f :get, :key \"5\", :value nil}\n\
                   {:process 1, :type :invoke, :f :put, :value \"x\"}\n";
        let (line, message) = parse_message(parse_kv_log(log, Path::new("kv.txt")).unwrap_err());
        assert_eq!(line, 2);
        assert!(message.contains(":key"), "{message}");
    }
}

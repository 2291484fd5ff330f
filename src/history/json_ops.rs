//! elle-cli's JSON histories: an array of op objects with Jepsen's keys and keywords as bare
//! strings (`{"process": 0, "type": "invoke", "f": "add", "value": 1}`), or the same objects
//! one after another. `"process"` is an integer or, for the nemesis, anything else. Object
//! keys are strings in JSON, so a map value such as a bank read has string keys (`"0"`) where
//! the EDN original has integers.

use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::edn_history::{error_text, name};
use super::jepsen::{JepsenOp, OpSink};
use super::read::{HistoryFormat, ReadReport, io_error, json_error, parse_error};
use super::{EventKind, History, HistoryError, Process, Value};

/// One op object as the file has it; unknown keys are ignored (Jepsen writes many).
#[derive(Deserialize)]
struct JsonOp {
    #[serde(default, deserialize_with = "process")]
    process: Option<Process>,
    #[serde(rename = "type", deserialize_with = "kind")]
    kind: EventKind,
    #[serde(default)]
    f: Option<Value>,
    #[serde(default)]
    value: Value,
    #[serde(default)]
    time: Option<u64>,
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    node: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

/// Reads an elle-cli JSON history file.
pub fn read_json(path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let src = std::fs::read(path).map_err(|source| io_error(path, source))?;
    parse_json_history(&src, path)
}

/// Parses elle-cli JSON history text; `path` names it in errors.
pub fn parse_json_history(src: &[u8], path: &Path) -> Result<(History, ReadReport), HistoryError> {
    let first = src.iter().find(|b| !b.is_ascii_whitespace());
    let ops: Vec<JsonOp> = if first == Some(&b'[') {
        serde_json::from_slice(src).map_err(|e| json_error(path, 1, &e))?
    } else {
        serde_json::Deserializer::from_slice(src)
            .into_iter::<JsonOp>()
            .collect::<Result<_, _>>()
            .map_err(|e| json_error(path, 1, &e))?
    };
    let mut sink = OpSink::default();
    for (position, op) in ops.into_iter().enumerate() {
        let f = op.f.as_ref().and_then(|f| name(&mut sink, f));
        let op = JepsenOp {
            process: op.process,
            kind: op.kind,
            f,
            value: op.value,
            time: op.time,
            index: op.index,
            node: op.node.as_ref().and_then(|n| name(&mut sink, n)),
            error: op.error.as_ref().and_then(error_text),
        };
        let Some(f) = op.f.clone().or_else(|| sink.default_f(&op.value)) else {
            let message = format!(
                "op {position} (from 0) has no \"f\"; expected the operation's name, e.g. \"read\""
            );
            return Err(parse_error(path, 1, 1, message));
        };
        sink.push(op, f)?;
    }
    let mut result = sink.finish(HistoryFormat::Json);
    if first != Some(&b'[') {
        result
            .1
            .warnings
            .push("no splitbrain header: read as Jepsen-style JSON op objects".into());
    }
    Ok(result)
}

/// An integer is a client process; anything else (`"nemesis"`, `null`, ...) is the nemesis.
fn process<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Process>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    match value.as_number() {
        Some(n) => match n.as_u64() {
            Some(p) => Ok(Some(Process::Client(p))),
            None if n.is_f64() => Ok(Some(Process::Nemesis)),
            None => Err(de::Error::custom(format!(
                "expected \"process\" to be a non-negative integer or \"nemesis\", found {n}"
            ))),
        },
        None => Ok(Some(Process::Nemesis)),
    }
}

fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<EventKind, D::Error> {
    struct KindVisitor;
    impl de::Visitor<'_> for KindVisitor {
        type Value = EventKind;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("\"type\" to be one of \"invoke\" \"ok\" \"fail\" \"info\"")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<EventKind, E> {
            super::edn_history::kind(&Value::Str(s.into())).ok_or_else(|| {
                E::custom(format!(
                    "expected \"type\" to be one of \"invoke\" \"ok\" \"fail\" \"info\", found \"{s}\""
                ))
            })
        }
    }
    d.deserialize_str(KindVisitor)
}

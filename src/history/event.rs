//! One line of `history.jsonl`: an invocation, a completion, or a nemesis event, and the header
//! that opens the file. These types are the on-disk contract in DESIGN.md ("Operations and the
//! history"); change them only with the format version.

use std::fmt;
use std::sync::Arc;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Value;

/// An interned name (`f`, node). Readers intern, so a million events share a handful of strings.
pub type Name = Arc<str>;

/// The version written in every header; readers refuse versions they do not know.
pub const FORMAT_VERSION: u32 = 1;

/// Who performed an event: a client process (a worker's current identity) or the nemesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Process {
    Client(u64),
    Nemesis,
}

impl fmt::Display for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Process::Client(p) => write!(f, "{p}"),
            Process::Nemesis => f.write_str("nemesis"),
        }
    }
}

impl Serialize for Process {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Process::Client(p) => serializer.serialize_u64(*p),
            Process::Nemesis => serializer.serialize_str("nemesis"),
        }
    }
}

impl<'de> Deserialize<'de> for Process {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Process, D::Error> {
        struct ProcessVisitor;
        impl Visitor<'_> for ProcessVisitor {
            type Value = Process;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative process number or \"nemesis\"")
            }
            fn visit_u64<E: de::Error>(self, p: u64) -> Result<Process, E> {
                Ok(Process::Client(p))
            }
            fn visit_i64<E: de::Error>(self, p: i64) -> Result<Process, E> {
                u64::try_from(p)
                    .map(Process::Client)
                    .map_err(|_| E::custom(format!("process {p} is negative")))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Process, E> {
                match s {
                    "nemesis" => Ok(Process::Nemesis),
                    _ => Err(E::custom(format!(
                        "process \"{s}\" is neither a number nor \"nemesis\""
                    ))),
                }
            }
        }
        deserializer.deserialize_any(ProcessVisitor)
    }
}

/// What an event says about its operation (Jepsen's `:type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The operation was sent.
    Invoke,
    /// It definitely happened.
    Ok,
    /// It definitely did not happen.
    Fail,
    /// Unknown: it may or may not have happened, at any time after its invocation.
    Info,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        }
    }
}

/// One line of the history after the header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Position in the history, from 0, without gaps.
    pub index: u64,
    /// Nanoseconds since the run started, monotonic.
    pub time: u64,
    pub process: Process,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub f: Name,
    #[serde(default)]
    pub value: Value,
    /// The node the operation was sent to, where the client knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Name>,
    /// Why a completion is `fail` or `info` (status code, timeout, connection reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The first line of `history.jsonl`: what produced the history, so it can be re-checked
/// and re-run without anything else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The format version; its presence marks the line as a header.
    pub splitbrain_history: u32,
    /// The splitbrain version that wrote the history.
    pub version: String,
    pub name: String,
    /// The model the workload checks (`set`, `counter`, `queue`, `unique-ids`, ...).
    pub model: String,
    /// Model options the checker needs (e.g. `{"fifo": true}` for a queue).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub model_options: serde_json::Map<String, serde_json::Value>,
    pub seed: u64,
    /// Wall-clock start, RFC 3339, for people; event times are relative to it.
    pub started_at: String,
    /// The workload file's text exactly as the user wrote it (environment references such as
    /// `${TOKEN}` unexpanded: secrets never reach the history).
    pub workload: String,
}

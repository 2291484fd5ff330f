//! Operations, events and the history file: the contract between the runner, which writes
//! histories, and the checkers, which read them. Nothing here depends on the runner, tokio,
//! Docker or the network.

mod edn;
mod edn_history;
mod edn_write;
mod error;
mod event;
mod intern;
mod jepsen;
mod json_ops;
mod jsonl;
mod jsonl_read;
mod logs;
mod op;
mod read;
mod value;

pub use edn::{EdnError, parse_edn_value};
pub use edn_history::{parse_edn_history, read_edn};
pub use edn_write::write_edn;
pub use error::HistoryError;
pub use event::{Event, EventKind, FORMAT_VERSION, Header, Name, Process};
pub use intern::Interner;
pub use json_ops::{parse_json_history, read_json};
pub use jsonl::HistoryWriter;
pub use jsonl_read::{read_jsonl, read_jsonl_from};
pub use logs::{parse_jepsen_log, parse_kv_log, read_jepsen_log, read_kv_log};
pub use op::{History, Op, OpExtra, Outcome, Pairer};
pub use read::{HistoryFormat, ReadReport, detect_format, read_history};
pub use value::Value;

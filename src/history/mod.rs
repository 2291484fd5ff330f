//! Operations, events and the history file: the contract between the runner, which writes
//! histories, and the checkers, which read them. Nothing here depends on the runner, tokio,
//! Docker or the network.

mod error;
mod event;
mod op;
mod value;

pub use error::HistoryError;
pub use event::{Event, EventKind, FORMAT_VERSION, Header, Name, Process};
pub use op::{History, Op, Outcome, Pairer};
pub use value::Value;

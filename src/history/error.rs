//! What can be wrong with a history file: it cannot be read, it is not the format, or it is
//! well-formed but describes something impossible. None of these is an anomaly of the system
//! under test (stateright's distinction: a malformed history is not an inconsistent one).

use std::path::PathBuf;

/// A history that cannot be checked. The CLI maps every variant to exit code 3 (bad input).
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("failed to read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not the expected syntax, or a field of the wrong type; line and column from 1.
    #[error("failed to parse {}: line {line}, column {column}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
    /// Syntactically fine, but not a possible history (e.g. a completion with no invocation).
    #[error("malformed history: event at index {index}: {reason}")]
    Malformed { index: u64, reason: String },
    /// The history lacks what a model needs (e.g. a set read whose value is not a list).
    #[error("history does not fit the {model} model: event at index {index}: {reason}")]
    Model {
        model: String,
        index: u64,
        reason: String,
    },
}

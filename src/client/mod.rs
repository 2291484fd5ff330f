//! How an operation reaches the system under test. A client turns an invocation into a
//! completion; it never writes history events itself (the runner does).

mod http;
mod kv;

pub use http::{ClientError, HttpClient};

use crate::history::{Name, Value};

/// What a worker asks a client to do.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    pub f: Name,
    pub value: Value,
    /// The worker's current process id (`{{process}}`).
    pub process: u64,
    /// The key, for keyed models (`{{key}}`); `Nil` otherwise.
    pub key: Value,
}

/// How an operation ended, as the client saw it. When in doubt, `Info`.
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// Definitely happened; `Some` carries a value read from the response (a read's result),
    /// `None` keeps the invoked value.
    Ok(Option<Value>),
    /// Definitely did not happen; why.
    Fail(String),
    /// May or may not have happened; why (timeout, reset, unexpected status).
    Info(String),
}

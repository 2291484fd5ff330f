//! How an operation reaches the system under test. A client turns an invocation into a
//! completion; it never writes history events itself (the runner does).

mod http;
mod kv;
mod postgres;
mod txn;

use std::sync::Arc;

pub use http::{ClientError, HttpClient};
pub use postgres::PgClient;

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

/// The client a workload's `[target] kind` names.
#[derive(Clone)]
pub enum AnyClient {
    Http(HttpClient),
    Postgres(Arc<PgClient>),
}

impl AnyClient {
    /// The plan's client; `env` resolves `${VAR}` in headers and the password.
    pub fn new(
        plan: &crate::workload::Plan,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<AnyClient, ClientError> {
        match plan.target.postgres {
            Some(_) => Ok(AnyClient::Postgres(Arc::new(PgClient::new(plan, env)?))),
            None => Ok(AnyClient::Http(HttpClient::new(plan, env)?)),
        }
    }

    /// Proves the target reachable (and, for a database, makes its tables ready).
    pub async fn preflight(&self) -> Result<(), ClientError> {
        match self {
            AnyClient::Http(c) => c.preflight().await,
            AnyClient::Postgres(c) => c.preflight().await,
        }
    }

    pub async fn invoke(&self, inv: &Invocation) -> Completion {
        match self {
            AnyClient::Http(c) => c.invoke(inv).await,
            AnyClient::Postgres(c) => c.invoke(inv).await,
        }
    }
}

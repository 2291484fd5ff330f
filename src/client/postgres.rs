//! Transactions against PostgreSQL (tokio-postgres, no TLS): one connection per worker, each
//! txn `BEGIN ISOLATION LEVEL ...`, its micro-ops in order, `COMMIT`, as Jepsen's and
//! Hermitage's tests do. Outcomes: any error before COMMIT is sent (a serialization failure,
//! 40001; a deadlock, 40P01; a lost connection) is `fail`, the txn rolled back; an error
//! PostgreSQL reports for the COMMIT itself is `fail` too (it aborted); a connection lost or a
//! timeout once COMMIT was sent is `info` (it may have committed). A lost connection is
//! reopened by the worker's next txn. Each connection prepares its read and write once.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_postgres::{Client, Config, NoTls, Statement};

use super::{ClientError, Completion, Invocation};
use crate::checker::elle::txn::Shape;
use crate::history::Value;
use crate::workload::{Isolation, Plan, ValueSpec, resolve_env_refs};

/// How long one txn may take, from BEGIN to COMMIT's answer.
const TXN_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection and the task that drives it (aborted to drop the socket).
struct Conn {
    client: Client,
    driver: JoinHandle<()>,
}

/// A worker's connection with its micro-ops' statements, prepared once: each micro-op is
/// then one round trip, not a parse and an execute.
struct Session {
    conn: Conn,
    read: Statement,
    write: Statement,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Runs a plan's txns on PostgreSQL. The password lives only in `config`, never in a
/// message: errors name the URL as written, which has none.
pub struct PgClient {
    config: Config,
    url: String,
    isolation: Isolation,
    shape: Shape,
    table: String,
    /// One slot per worker (process id modulo the concurrency).
    conns: Vec<Mutex<Option<Session>>>,
}

/// How far a txn got when it stopped.
struct Stopped {
    commit_sent: bool,
    error: tokio_postgres::Error,
}

impl PgClient {
    /// A client for the plan's `[target] kind = "postgres"`, the password resolved from `env`.
    pub fn new(plan: &Plan, env: impl Fn(&str) -> Option<String>) -> Result<PgClient, ClientError> {
        let target = plan
            .target
            .postgres
            .as_ref()
            .ok_or_else(|| ClientError::Build {
                reason: "the plan's target is not postgres".to_owned(),
            })?;
        let ValueSpec::Txn(spec) = plan.values else {
            return Err(ClientError::Build {
                reason: "a postgres target runs txns only".to_owned(),
            });
        };
        let mut config = Config::from_str(&target.url).map_err(|e| ClientError::Build {
            reason: format!("failed to parse {}: {e}", target.url),
        })?;
        if let Some(password) = &target.password {
            let password = resolve_env_refs(password, env)
                .map_err(|var| ClientError::MissingPassword { var })?;
            config.password(password);
        }
        config.connect_timeout(Duration::from_secs(5));
        Ok(PgClient {
            config,
            url: target.url.clone(),
            isolation: target.isolation,
            shape: spec.shape,
            table: table_name(&plan.name, spec.shape),
            conns: (0..plan.concurrency).map(|_| Mutex::new(None)).collect(),
        })
    }

    /// Connects, creates the table when missing and empties it, so runs do not mix.
    pub async fn preflight(&self) -> Result<(), ClientError> {
        let unreachable = |e: tokio_postgres::Error| ClientError::Database {
            url: self.url.clone(),
            reason: e.to_string(),
        };
        let conn = self.connect().await.map_err(unreachable)?;
        let column = match self.shape {
            Shape::ListAppend => "text",
            Shape::RwRegister => "bigint",
        };
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {t} (k bigint PRIMARY KEY, v {column} NOT NULL); \
             TRUNCATE {t}",
            t = self.table
        );
        conn.client.batch_execute(&sql).await.map_err(unreachable)
    }

    async fn connect(&self) -> Result<Conn, tokio_postgres::Error> {
        let (client, connection) = self.config.connect(NoTls).await?;
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Conn { client, driver })
    }

    /// A worker's session: a connection with the read and write statements prepared (the
    /// table exists by then: preflight made it).
    async fn open(&self) -> Result<Session, tokio_postgres::Error> {
        let conn = self.connect().await?;
        let t = &self.table;
        let write = match self.shape {
            Shape::ListAppend => format!(
                "INSERT INTO {t} AS t (k, v) VALUES ($1, $2) \
                 ON CONFLICT (k) DO UPDATE SET v = t.v || ',' || excluded.v"
            ),
            Shape::RwRegister => format!(
                "INSERT INTO {t} (k, v) VALUES ($1, $2) \
                 ON CONFLICT (k) DO UPDATE SET v = excluded.v"
            ),
        };
        let read = conn
            .client
            .prepare(&format!("SELECT v FROM {t} WHERE k = $1"))
            .await?;
        let write = conn.client.prepare(&write).await?;
        Ok(Session { conn, read, write })
    }

    /// Runs one txn on the worker's connection, opening it first when needed.
    pub async fn invoke(&self, inv: &Invocation) -> Completion {
        let slot = &self.conns[inv.process as usize % self.conns.len()];
        let mut session = slot.lock().await;
        if session.is_none() {
            match self.open().await {
                Ok(s) => *session = Some(s),
                Err(e) => return Completion::Fail(format!("failed to connect: {e}")),
            }
        }
        let open = session.as_ref().expect("connected just above");
        let commit_sent = AtomicBool::new(false);
        let ran = tokio::time::timeout(TXN_TIMEOUT, self.txn(open, &inv.value, &commit_sent));
        let client = &open.conn.client;
        // Whether the connection must go: a timed-out txn, or an answer-less COMMIT.
        let (completion, broken) = match ran.await {
            Ok(Ok(value)) => return Completion::Ok(Some(value)),
            Ok(Err(stopped)) => {
                let completion = self.stopped(client, stopped).await;
                let broken = matches!(completion, Completion::Info(_));
                (completion, broken)
            }
            Err(_) if commit_sent.load(Ordering::SeqCst) => (
                Completion::Info(format!("no answer to COMMIT within {TXN_TIMEOUT:?}")),
                true,
            ),
            Err(_) => (
                Completion::Fail(format!("timed out after {TXN_TIMEOUT:?} before COMMIT")),
                true,
            ),
        };
        // A broken or timed-out connection is dropped (aborted: the server rolls back what
        // did not commit) and reopened by the next txn.
        if broken || client.is_closed() {
            *session = None;
        }
        completion
    }

    /// The completion of a txn that stopped on an error, rolled back when still open.
    async fn stopped(&self, client: &Client, stopped: Stopped) -> Completion {
        let why = describe(&stopped.error);
        match (stopped.commit_sent, stopped.error.as_db_error()) {
            // PostgreSQL answered the COMMIT with an error: it aborted.
            (true, Some(_)) => Completion::Fail(why),
            (true, None) => Completion::Info(why),
            (false, _) => {
                let _ = client.batch_execute("ROLLBACK").await;
                Completion::Fail(why)
            }
        }
    }

    /// BEGIN, the micro-ops, COMMIT; the txn's value with its reads filled in.
    async fn txn(
        &self,
        session: &Session,
        txn: &Value,
        commit_sent: &AtomicBool,
    ) -> Result<Value, Stopped> {
        let before = |error| Stopped {
            commit_sent: false,
            error,
        };
        let client = &session.conn.client;
        let begin = format!("BEGIN ISOLATION LEVEL {}", self.isolation.sql());
        client.batch_execute(&begin).await.map_err(before)?;
        let mut done = Vec::new();
        for micro in txn.as_list().unwrap_or_default() {
            done.push(self.micro(session, micro).await.map_err(before)?);
        }
        commit_sent.store(true, Ordering::SeqCst);
        client
            .batch_execute("COMMIT")
            .await
            .map_err(|error| Stopped {
                commit_sent: true,
                error,
            })?;
        Ok(Value::list(done))
    }

    /// One micro-op `[f, k, v]`; a read comes back with what it read.
    async fn micro(
        &self,
        session: &Session,
        micro: &Value,
    ) -> Result<Value, tokio_postgres::Error> {
        let parts = micro.as_list().unwrap_or_default();
        let part = |i: usize| parts.get(i).cloned().unwrap_or_default();
        let (f, key) = (part(0), part(1).as_int().unwrap_or_default());
        let (client, written) = (&session.conn.client, part(2));
        match (f.as_str(), self.shape) {
            (Some("r"), Shape::ListAppend) => {
                let row = client.query_opt(&session.read, &[&key]).await?;
                let list = row.map_or_else(String::new, |r| r.get::<_, String>(0));
                let read = list.split(',').filter_map(|n| n.parse::<i64>().ok());
                Ok(Value::list([f, part(1), Value::list(read.map(Value::Int))]))
            }
            (Some("r"), Shape::RwRegister) => {
                let row = client.query_opt(&session.read, &[&key]).await?;
                let read = row.map_or(Value::Nil, |r| Value::Int(r.get::<_, i64>(0)));
                Ok(Value::list([f, part(1), read]))
            }
            (_, Shape::ListAppend) => {
                let v = written.as_int().unwrap_or_default().to_string();
                client.execute(&session.write, &[&key, &v]).await?;
                Ok(micro.clone())
            }
            (_, Shape::RwRegister) => {
                let v = written.as_int().unwrap_or_default();
                client.execute(&session.write, &[&key, &v]).await?;
                Ok(micro.clone())
            }
        }
    }
}

/// `SQLSTATE 40001: could not serialize access ...`, or the client's own words.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("SQLSTATE {}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// `sb_<workload name>_<shape>`, lower-case letters, digits and `_` only.
fn table_name(workload: &str, shape: Shape) -> String {
    let name: String = format!("sb_{workload}_{}", shape.name())
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '_',
        })
        .collect();
    name.chars().take(63).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_sql_identifiers_per_workload_and_shape() {
        assert_eq!(
            table_name("postgres-Serializable", Shape::ListAppend),
            "sb_postgres_serializable_list_append"
        );
        assert_eq!(table_name(&"x".repeat(100), Shape::RwRegister).len(), 63);
    }
}

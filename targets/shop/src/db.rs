//! Each service's own SQLite file (WAL, synchronous=FULL) with the two tables every service
//! has: the outbox (events written in the transaction of the change that caused them) and the
//! inbox (ids of the events already applied). `Db::effect` is the one way a change is made:
//! inbox check, change, outbox, one transaction.

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, params};

use crate::bugs::Bugs;
use crate::event::Event;

const COMMON: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    payload BLOB NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent, seq);
CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY);
";

/// A failure of the database or of the task that ran it.
#[derive(Debug)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError(e.to_string())
    }
}

/// One connection, used by one blocking task at a time: SQLite serialises writers anyway,
/// and a single connection makes every transaction see the last one's commit.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

/// An unsent outbox row.
pub struct Pending {
    pub seq: i64,
    pub event: Event,
}

impl Db {
    /// Opens (creating) `path` in WAL mode with synchronous=FULL and makes the common tables
    /// and `schema`.
    pub fn open(path: &str, schema: &str) -> Result<Db, DbError> {
        let conn = Connection::open(path)
            .map_err(|e| DbError(format!("failed to open the database {path}: {e}")))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DbError(format!(
                "failed to put {path} in WAL mode: journal_mode is {mode}"
            )));
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA busy_timeout=2000;")?;
        conn.execute_batch(COMMON)?;
        conn.execute_batch(schema)?;
        Ok(Db {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection in a blocking task.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn).map_err(DbError::from)
        })
        .await
        .map_err(|e| DbError(format!("the database task failed: {e}")))?
    }

    /// One transaction: unless `inbox` is `None` (the write path) or the `no-inbox` bug is on,
    /// skip the change if the event id is in the inbox (returns `None`) and record it
    /// otherwise; apply `change`; put its events in the outbox (unless `no-outbox`, which
    /// returns them to be published after the commit).
    pub async fn effect<T, F>(
        &self,
        inbox: Option<String>,
        bugs: Bugs,
        change: F,
    ) -> Result<Option<(T, Vec<Event>)>, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> rusqlite::Result<(T, Vec<Event>)> + Send + 'static,
    {
        self.run(move |conn| {
            let tx = conn.transaction()?;
            if let Some(id) = inbox.filter(|_| !bugs.no_inbox) {
                let fresh = tx.execute("INSERT OR IGNORE INTO inbox (id) VALUES (?1)", [&id])?;
                if fresh == 0 {
                    return Ok(None);
                }
            }
            let (value, events) = change(&tx)?;
            if !bugs.no_outbox {
                for e in &events {
                    tx.execute(
                        "INSERT OR IGNORE INTO outbox (id, subject, payload) VALUES (?1, ?2, ?3)",
                        params![e.id, e.subject, e.payload],
                    )?;
                }
            }
            tx.commit()?;
            Ok(Some((value, events)))
        })
        .await
    }

    /// The oldest unsent outbox rows, at most `limit`, in the order they were written.
    pub async fn unsent(&self, limit: i64) -> Result<Vec<Pending>, DbError> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(
                "SELECT seq, id, subject, payload FROM outbox WHERE sent = 0 ORDER BY seq LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit], |r| {
                Ok(Pending {
                    seq: r.get(0)?,
                    event: Event {
                        id: r.get(1)?,
                        subject: r.get(2)?,
                        payload: r.get(3)?,
                    },
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Marks one outbox row sent, after JetStream acknowledged it.
    pub async fn mark_sent(&self, seq: i64) -> Result<(), DbError> {
        self.run(move |conn| {
            conn.execute("UPDATE outbox SET sent = 1 WHERE seq = ?1", [seq])
                .map(|_| ())
        })
        .await
    }
}

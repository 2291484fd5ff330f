//! What the three roles share: the database, the bug switches, the hand-off to the outbox
//! relay (or, with `no-outbox`, the direct publish), readiness, and the dispatch of incoming
//! events and HTTP routes to the role's module.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use async_nats::jetstream;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::Transaction;
use serde_json::json;
use tokio::sync::Notify;

use crate::args::{Command, Role};
use crate::bus;
use crate::db::{Db, DbError};
use crate::event::{Event, Incoming};
use crate::{inventory, orders, payments};

/// One service's state, shared by its HTTP handlers, its consumer and its relay.
pub struct Shared {
    pub cmd: Command,
    pub db: Db,
    /// Wakes the outbox relay after a commit that wrote events.
    pub relay: Notify,
    /// Set once NATS, the stream and the consumer are there.
    pub js: OnceLock<jetstream::Context>,
    ready: AtomicBool,
}

impl Shared {
    /// Opens the role's database (creating its tables; inventory adds missing skus).
    pub async fn open(cmd: Command) -> Result<Arc<Shared>, DbError> {
        let schema = match cmd.role {
            Role::Orders => orders::SCHEMA,
            Role::Inventory => inventory::SCHEMA,
            Role::Payments => payments::SCHEMA,
        };
        let db = Db::open(&cmd.db, schema)?;
        if cmd.role == Role::Inventory {
            inventory::seed(&db, cmd.stock.clone()).await?;
        }
        Ok(Arc::new(Shared {
            cmd,
            db,
            relay: Notify::new(),
            js: OnceLock::new(),
            ready: AtomicBool::new(false),
        }))
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Makes one change through `Db::effect` and hands its events on: to the relay, or with
    /// `no-outbox` straight to JetStream (an event that fails to publish then is lost).
    /// `None`: the event `inbox` names was applied before.
    pub async fn commit<T, F>(&self, inbox: Option<String>, change: F) -> Result<Option<T>, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> rusqlite::Result<(T, Vec<Event>)> + Send + 'static,
    {
        let Some((value, events)) = self.db.effect(inbox, self.cmd.bugs, change).await? else {
            return Ok(None);
        };
        if !self.cmd.bugs.no_outbox {
            if !events.is_empty() {
                self.relay.notify_one();
            }
            return Ok(Some(value));
        }
        for e in events {
            let sent = match self.js.get() {
                Some(js) => bus::publish(js, &e).await,
                None => Err("NATS is not connected yet".to_owned()),
            };
            if let Err(err) = sent {
                eprintln!(
                    "shop {}: event {} LOST (no-outbox): {err}",
                    self.cmd.role, e.id
                );
            }
        }
        Ok(Some(value))
    }

    /// Applies one incoming event with the role's handler.
    pub async fn handle(self: &Arc<Self>, event: Incoming) -> Result<(), DbError> {
        match self.cmd.role {
            Role::Orders => orders::handle(self, event).await,
            Role::Inventory => inventory::handle(self, event).await,
            Role::Payments => payments::handle(self, event).await,
        }
    }
}

/// The role's routes plus `GET /health`.
pub fn app(shared: Arc<Shared>) -> Router {
    let routes = match shared.cmd.role {
        Role::Orders => orders::routes(),
        Role::Inventory => inventory::routes(),
        Role::Payments => payments::routes(),
    };
    routes.route("/health", get(health)).with_state(shared)
}

/// 200 once the database is open and the consumer exists, 503 before.
async fn health(axum::extract::State(shared): axum::extract::State<Arc<Shared>>) -> Response {
    if shared.ready.load(Ordering::SeqCst) {
        Json(json!({"status": "ok"})).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "connecting to NATS"})),
        )
            .into_response()
    }
}

/// A 500 naming the failure.
pub fn internal(e: DbError) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({"error": e.to_string()})),
    )
        .into_response()
}

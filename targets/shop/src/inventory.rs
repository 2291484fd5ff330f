//! The inventory service: stock per sku (available, reserved, sold) and one reservation per
//! placed order that found stock. It reserves on `shop.order.placed` (answering
//! `shop.stock.reserved` or `shop.stock.rejected`), sells on `shop.order.confirmed` and
//! releases on `shop.order.cancelled` (the saga's compensation).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::Serialize;
use serde_json::json;

use crate::db::{Db, DbError};
use crate::event::{self, Event, Incoming, OrderLine};
use crate::service::{Shared, internal};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS stock (
    sku TEXT PRIMARY KEY, available INTEGER NOT NULL,
    reserved INTEGER NOT NULL DEFAULT 0, sold INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS reservations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL, sku TEXT NOT NULL,
    qty INTEGER NOT NULL, state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_order ON reservations (order_id);
";

/// How long `racy-stock` waits between reading a level and writing it back.
const RACE_WINDOW: Duration = Duration::from_millis(20);

/// Adds the skus the database does not have yet; a restart keeps the levels it has.
pub async fn seed(db: &Db, stock: Vec<(String, i64)>) -> Result<(), DbError> {
    db.run(move |conn| {
        for (sku, n) in &stock {
            conn.execute(
                "INSERT OR IGNORE INTO stock (sku, available) VALUES (?1, ?2)",
                params![sku, n],
            )?;
        }
        Ok(())
    })
    .await
}

/// One sku's levels, as `GET /stock` shows them.
#[derive(Debug, Serialize)]
struct Level {
    id: String,
    available: i64,
    reserved: i64,
    sold: i64,
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/stock", get(stock))
}

/// `GET /stock`: `{"stock":[{"id":"a","available":N,"reserved":N,"sold":N}]}` sorted by sku.
async fn stock(State(shared): State<Arc<Shared>>) -> Response {
    let levels = shared
        .db
        .run(|conn| {
            let mut stmt =
                conn.prepare("SELECT sku, available, reserved, sold FROM stock ORDER BY sku")?;
            let rows = stmt.query_map([], |r| {
                Ok(Level {
                    id: r.get(0)?,
                    available: r.get(1)?,
                    reserved: r.get(2)?,
                    sold: r.get(3)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .await;
    match levels {
        Ok(stock) => Json(json!({"stock": stock})).into_response(),
        Err(e) => internal(e),
    }
}

pub async fn handle(shared: &Arc<Shared>, incoming: Incoming) -> Result<(), DbError> {
    let bugs = shared.cmd.bugs;
    let Incoming { id, subject, body } = incoming;
    let order = body.order;
    match subject.as_str() {
        event::ORDER_PLACED => reserve(shared, id, order).await,
        event::ORDER_CONFIRMED => finish(shared, id, order.id, "SOLD").await,
        event::ORDER_CANCELLED if !bugs.no_compensation => {
            finish(shared, id, order.id, "RELEASED").await
        }
        // With no-compensation a cancellation is recorded as seen and changes nothing.
        _ => shared
            .commit(Some(id), |_| Ok(((), Vec::new())))
            .await
            .map(|_| ()),
    }
}

/// `(available, reserved)` of a sku, `None` for an unknown one.
fn level(conn: &Connection, sku: &str) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.query_row(
        "SELECT available, reserved FROM stock WHERE sku = ?1",
        [sku],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Reserves the order's qty if the sku has it available. With `racy-stock` the level is read
/// in its own statement before a pause, and written back as what was read, so concurrent
/// reservations overwrite each other.
async fn reserve(shared: &Arc<Shared>, id: String, order: OrderLine) -> Result<(), DbError> {
    let stale = if shared.cmd.bugs.racy_stock {
        let sku = order.sku.clone();
        let read = shared.db.run(move |c| level(c, &sku)).await?;
        tokio::time::sleep(RACE_WINDOW).await;
        Some(read)
    } else {
        None
    };
    shared
        .commit(Some(id), move |tx| {
            let (available, reserved) = match stale {
                Some(read) => read,
                None => level(tx, &order.sku)?,
            }
            .unwrap_or((-1, 0));
            if available < 0 {
                let e = Event::new(event::STOCK_REJECTED, &order, Some("unknown sku"));
                return Ok(((), vec![e]));
            }
            if available < order.qty {
                let e = Event::new(event::STOCK_REJECTED, &order, Some("out of stock"));
                return Ok(((), vec![e]));
            }
            tx.execute(
                "UPDATE stock SET available = ?2, reserved = ?3 WHERE sku = ?1",
                params![order.sku, available - order.qty, reserved + order.qty],
            )?;
            tx.execute(
                "INSERT INTO reservations (order_id, sku, qty, state) VALUES (?1, ?2, ?3, 'RESERVED')",
                params![order.id, order.sku, order.qty],
            )?;
            Ok(((), vec![Event::new(event::STOCK_RESERVED, &order, None)]))
        })
        .await
        .map(|_| ())
}

/// Moves the order's RESERVED reservations to `SOLD` (reserved → sold) or `RELEASED`
/// (reserved → available). An order without one (rejected, or finished before) changes
/// nothing.
async fn finish(
    shared: &Arc<Shared>,
    id: String,
    order_id: i64,
    to: &'static str,
) -> Result<(), DbError> {
    shared
        .commit(Some(id), move |tx| {
            settle(tx, order_id, to)?;
            Ok(((), Vec::new()))
        })
        .await
        .map(|_| ())
}

fn settle(tx: &Transaction, order_id: i64, to: &str) -> rusqlite::Result<()> {
    let held: Vec<(i64, String, i64)> = {
        let mut stmt = tx.prepare(
            "SELECT id, sku, qty FROM reservations WHERE order_id = ?1 AND state = 'RESERVED'",
        )?;
        let rows = stmt.query_map([order_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let moved = if to == "SOLD" {
        "UPDATE stock SET reserved = reserved - ?2, sold = sold + ?2 WHERE sku = ?1"
    } else {
        "UPDATE stock SET reserved = reserved - ?2, available = available + ?2 WHERE sku = ?1"
    };
    for (rid, sku, qty) in held {
        tx.execute(
            "UPDATE reservations SET state = ?2 WHERE id = ?1",
            params![rid, to],
        )?;
        tx.execute(moved, params![sku, qty])?;
    }
    Ok(())
}

//! The orders service: the write model (`orders`, changed by `POST /orders` and by the saga's
//! outcome events) and the read model (`history`, changed only by consuming the
//! `shop.order.*` events, CQRS). Orders starts the saga with `shop.order.placed` and ends it
//! with `shop.order.confirmed` or `shop.order.cancelled`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::json;

use crate::db::DbError;
use crate::event::{self, Event, Incoming, OrderLine};
use crate::service::{Shared, internal};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY, customer TEXT NOT NULL, sku TEXT NOT NULL,
    qty INTEGER NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY, customer TEXT NOT NULL, sku TEXT NOT NULL,
    qty INTEGER NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL,
    rank INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_customer ON history (customer, id);
";

/// An order as the endpoints show it, from either model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: i64,
    pub customer: String,
    pub sku: String,
    pub qty: i64,
    pub amount: i64,
    pub status: String,
}

impl Order {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Order> {
        Ok(Order {
            id: r.get(0)?,
            customer: r.get(1)?,
            sku: r.get(2)?,
            qty: r.get(3)?,
            amount: r.get(4)?,
            status: r.get(5)?,
        })
    }

    fn line(&self) -> OrderLine {
        OrderLine {
            id: self.id,
            customer: self.customer.clone(),
            sku: self.sku.clone(),
            qty: self.qty,
            amount: self.amount,
        }
    }
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/orders", get(list).post(place))
        .route("/orders/{id}", get(one))
        .route("/customers/{customer}/orders", get(customer_history))
        .route("/history", get(history))
}

/// `POST /orders`: PENDING plus `shop.order.placed`, in one transaction. The same id again
/// returns the order as it is now; the same id with another line is a 409.
async fn place(
    State(shared): State<Arc<Shared>>,
    body: Result<Json<OrderLine>, JsonRejection>,
) -> Response {
    let line = match body {
        Ok(Json(line)) => line,
        Err(e) => return bad_request(e.body_text()),
    };
    if line.qty < 1 || line.amount < 0 || line.customer.is_empty() || line.sku.is_empty() {
        return bad_request(
            "qty must be at least 1, amount at least 0, customer and sku not empty".into(),
        );
    }
    let asked = line.clone();
    let placed = shared
        .commit(None, move |tx| {
            if let Some(order) = find(tx, "orders", line.id)? {
                return Ok((order, Vec::new()));
            }
            tx.execute(
                "INSERT INTO orders (id, customer, sku, qty, amount, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'PENDING')",
                params![line.id, line.customer, line.sku, line.qty, line.amount],
            )?;
            let event = Event::new(event::ORDER_PLACED, &line, None);
            let order = find(tx, "orders", line.id)?.expect("inserted just now");
            Ok((order, vec![event]))
        })
        .await;
    match placed {
        Ok(Some(order)) if order.line() == asked => Json(order).into_response(),
        Ok(Some(order)) => (
            StatusCode::CONFLICT,
            Json(json!({"error": "another order has this id", "order": order})),
        )
            .into_response(),
        Ok(None) => internal(DbError("the write path has no inbox".into())),
        Err(e) => internal(e),
    }
}

fn bad_request(error: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response()
}

/// One order from `table` (`orders` or `history`).
fn find(conn: &Connection, table: &str, id: i64) -> rusqlite::Result<Option<Order>> {
    conn.query_row(
        &format!("SELECT id, customer, sku, qty, amount, status FROM {table} WHERE id = ?1"),
        [id],
        Order::from_row,
    )
    .optional()
}

/// Orders from `table` sorted by id, all or one customer's.
fn all(conn: &Connection, table: &str, customer: Option<&str>) -> rusqlite::Result<Vec<Order>> {
    let sql = format!(
        "SELECT id, customer, sku, qty, amount, status FROM {table} \
         WHERE ?1 IS NULL OR customer = ?1 ORDER BY id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([customer], Order::from_row)?;
    rows.collect()
}

async fn listed(shared: &Shared, table: &'static str, customer: Option<String>) -> Response {
    match shared
        .db
        .run(move |c| all(c, table, customer.as_deref()))
        .await
    {
        Ok(orders) => Json(json!({"orders": orders})).into_response(),
        Err(e) => internal(e),
    }
}

/// `GET /orders`: the write model.
async fn list(State(shared): State<Arc<Shared>>) -> Response {
    listed(&shared, "orders", None).await
}

/// `GET /history`: the read model, every customer.
async fn history(State(shared): State<Arc<Shared>>) -> Response {
    listed(&shared, "history", None).await
}

/// `GET /customers/{customer}/orders`: the read model, one customer.
async fn customer_history(
    State(shared): State<Arc<Shared>>,
    Path(customer): Path<String>,
) -> Response {
    listed(&shared, "history", Some(customer)).await
}

/// `GET /orders/{id}`: the write model; 404 for an unknown id.
async fn one(State(shared): State<Arc<Shared>>, Path(id): Path<i64>) -> Response {
    match shared.db.run(move |c| find(c, "orders", id)).await {
        Ok(Some(order)) => Json(order).into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no such order"})),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

/// The saga's outcomes settle a PENDING order (and announce it); the `shop.order.*` events
/// feed the read model. Anything else on `shop.>` is not for orders.
pub async fn handle(shared: &Arc<Shared>, incoming: Incoming) -> Result<(), DbError> {
    let Incoming { id, subject, body } = incoming;
    shared
        .commit(Some(id), move |tx| {
            let order = &body.order;
            let mut events = Vec::new();
            let settle = |status: &str| {
                tx.execute(
                    "UPDATE orders SET status = ?2 WHERE id = ?1 AND status = 'PENDING'",
                    params![order.id, status],
                )
                .map(|n| n == 1)
            };
            match subject.as_str() {
                event::STOCK_REJECTED if settle("CANCELLED")? => {
                    events.push(Event::new(
                        event::ORDER_CANCELLED,
                        order,
                        Some("out of stock"),
                    ));
                }
                event::PAYMENT_DECLINED if settle("CANCELLED")? => {
                    events.push(Event::new(
                        event::ORDER_CANCELLED,
                        order,
                        Some("payment declined"),
                    ));
                }
                event::PAYMENT_CAPTURED if settle("CONFIRMED")? => {
                    events.push(Event::new(event::ORDER_CONFIRMED, order, None));
                }
                event::ORDER_PLACED => project(tx, order, "PENDING", 0)?,
                event::ORDER_CONFIRMED => project(tx, order, "CONFIRMED", 1)?,
                event::ORDER_CANCELLED => project(tx, order, "CANCELLED", 1)?,
                _ => {}
            }
            Ok(((), events))
        })
        .await
        .map(|_| ())
}

/// The read model's one write: an order's status moves only forward (`rank`), so events that
/// arrive out of order (a redelivery after a later event) leave the latest status.
fn project(
    tx: &rusqlite::Transaction,
    order: &OrderLine,
    status: &str,
    rank: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO history (id, customer, sku, qty, amount, status, rank) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, rank = excluded.rank \
         WHERE excluded.rank > history.rank",
        params![
            order.id,
            order.customer,
            order.sku,
            order.qty,
            order.amount,
            status,
            rank
        ],
    )
    .map(|_| ())
}

//! The payments service: on `shop.stock.reserved` it captures the order's amount if it is
//! within the customer's limit (one rule for every customer: `--limit`), else declines, and
//! records either as a payment; `shop.payment.captured` or `shop.payment.declined` follows.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rusqlite::params;
use serde::Serialize;
use serde_json::json;

use crate::db::DbError;
use crate::event::{self, Event, Incoming};
use crate::service::{Shared, internal};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL,
    amount INTEGER NOT NULL, state TEXT NOT NULL
);
";

#[derive(Debug, Serialize)]
struct Payment {
    id: i64,
    order_id: i64,
    amount: i64,
    state: String,
}

pub fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/payments", get(list))
}

/// `GET /payments`: `{"payments":[{"id","order_id","amount","state"}]}` in payment order.
async fn list(State(shared): State<Arc<Shared>>) -> Response {
    let payments = shared
        .db
        .run(|conn| {
            let mut stmt =
                conn.prepare("SELECT id, order_id, amount, state FROM payments ORDER BY id")?;
            let rows = stmt.query_map([], |r| {
                Ok(Payment {
                    id: r.get(0)?,
                    order_id: r.get(1)?,
                    amount: r.get(2)?,
                    state: r.get(3)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .await;
    match payments {
        Ok(payments) => Json(json!({"payments": payments})).into_response(),
        Err(e) => internal(e),
    }
}

pub async fn handle(shared: &Arc<Shared>, incoming: Incoming) -> Result<(), DbError> {
    let limit = shared.cmd.limit;
    let Incoming { id, subject, body } = incoming;
    shared
        .commit(Some(id), move |tx| {
            if subject != event::STOCK_RESERVED {
                return Ok(((), Vec::new()));
            }
            let order = &body.order;
            let (state, subject) = if order.amount <= limit {
                ("CAPTURED", event::PAYMENT_CAPTURED)
            } else {
                ("DECLINED", event::PAYMENT_DECLINED)
            };
            tx.execute(
                "INSERT INTO payments (order_id, amount, state) VALUES (?1, ?2, ?3)",
                params![order.id, order.amount, state],
            )?;
            let reason = (state == "DECLINED").then_some("over the limit");
            Ok(((), vec![Event::new(subject, order, reason)]))
        })
        .await
        .map(|_| ())
}

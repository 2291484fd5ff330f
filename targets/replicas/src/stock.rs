//! The primary's stock: per sku, units available, reserved and sold, whose sum stays the
//! initial stock (nothing sells yet: `sold` stays 0). The `racy-stock` switch lives here.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// How long a racy reserve sleeps between its read and its write: the window in which other
/// reserves read the same stale level.
pub const RACE_WINDOW: Duration = Duration::from_millis(1);

#[derive(Clone, Debug, Serialize)]
struct Level {
    id: String,
    available: i64,
    reserved: i64,
    sold: i64,
}

/// The stock of every sku, and whether reserving races.
pub struct Stock {
    levels: Mutex<BTreeMap<String, Level>>,
    racy: bool,
}

impl Stock {
    /// `initial` gives each sku's available units.
    pub fn new(initial: Vec<(String, i64)>, racy: bool) -> Stock {
        let levels = initial
            .into_iter()
            .map(|(id, available)| {
                let level = Level {
                    id: id.clone(),
                    available,
                    reserved: 0,
                    sold: 0,
                };
                (id, level)
            })
            .collect();
        Stock {
            levels: Mutex::new(levels),
            racy,
        }
    }
}

type S = State<Arc<Stock>>;

/// `GET /stock` and `POST /reserve`.
pub fn routes(stock: Stock) -> Router {
    Router::new()
        .route("/stock", get(read_stock))
        .route("/reserve", post(reserve))
        .with_state(Arc::new(stock))
}

async fn read_stock(State(stock): S) -> Json<Value> {
    let levels = stock.levels.lock().await;
    let levels: Vec<&Level> = levels.values().collect();
    Json(json!({ "stock": levels }))
}

#[derive(Deserialize)]
struct Reserve {
    sku: String,
    qty: i64,
}

type Reply = (StatusCode, Json<Value>);

/// Moves `qty` units of `sku` from available to reserved: 200 with the new level, 409 if
/// fewer are available (nothing changes), 404 for an unknown sku, 400 for `qty` below 1.
async fn reserve(State(stock): S, Json(r): Json<Reserve>) -> Reply {
    if r.qty < 1 {
        return error(StatusCode::BAD_REQUEST, "qty must be at least 1");
    }
    if stock.racy {
        return reserve_racily(&stock, r).await;
    }
    let mut levels = stock.levels.lock().await;
    let Some(level) = levels.get_mut(&r.sku) else {
        return error(StatusCode::NOT_FOUND, "unknown sku");
    };
    if level.available < r.qty {
        return error(StatusCode::CONFLICT, "not enough available");
    }
    level.available -= r.qty;
    level.reserved += r.qty;
    (StatusCode::OK, Json(json!(level)))
}

/// The bug: check and compute from a snapshot read under the lock, sleep, then write. Every
/// reserve inside the window passes the check against the same stale `available` (so it can
/// go negative), and writes `reserved` as snapshot + qty, overwriting the others' reservations
/// (so available + reserved + sold no longer sums to the initial stock).
async fn reserve_racily(stock: &Stock, r: Reserve) -> Reply {
    let Some(seen) = stock.levels.lock().await.get(&r.sku).cloned() else {
        return error(StatusCode::NOT_FOUND, "unknown sku");
    };
    tokio::time::sleep(RACE_WINDOW).await;
    if seen.available < r.qty {
        return error(StatusCode::CONFLICT, "not enough available");
    }
    let mut levels = stock.levels.lock().await;
    let level = levels
        .get_mut(&r.sku)
        .expect("skus are fixed at startup, and this one was there");
    level.available -= r.qty;
    level.reserved = seen.reserved + r.qty;
    (StatusCode::OK, Json(json!(level)))
}

fn error(status: StatusCode, message: &str) -> Reply {
    (status, Json(json!({ "error": message })))
}

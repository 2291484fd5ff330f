//! The primary: the write model. It takes items (and records each new one as a change for the
//! replicas), orders with their payments, stock reservations ([`crate::stock`]) and bank
//! transfers ([`crate::bank`]). The `double-capture-every` switch lives here.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::bank::{self, Bank};
use crate::bugs::Bugs;
use crate::change::{Change, Changes, now_ms};
use crate::stock::{self, Stock};

/// Orders above this amount are CANCELLED, the others CONFIRMED and captured.
pub const MAX_CONFIRMED_AMOUNT: i64 = 100;

#[derive(Clone, Debug, Serialize)]
struct Order {
    id: i64,
    status: &'static str,
    amount: i64,
}

#[derive(Clone, Debug, Serialize)]
struct Payment {
    id: String,
    order_id: i64,
    state: &'static str,
}

#[derive(Default)]
struct Data {
    /// Every change, in seq order: `changes[k]` has seq `k + 1`.
    changes: Vec<Change>,
    /// id → seq of the items.
    items: BTreeMap<i64, u64>,
    orders: BTreeMap<i64, Order>,
    /// In the order they were captured.
    payments: Vec<Payment>,
    /// CONFIRMED orders so far, for `double-capture-every`.
    confirmed: u64,
}

struct Primary {
    bugs: Bugs,
    data: Mutex<Data>,
}

type S = State<Arc<Primary>>;

/// The primary's routes (see the README in this folder); `stock` is the initial stock per sku,
/// `bank` the number of accounts and each one's initial balance.
pub fn app(bugs: Bugs, stock: Vec<(String, i64)>, bank: (i64, i64)) -> Router {
    let stock_routes = stock::routes(Stock::new(stock, bugs.racy_stock));
    let (accounts, balance) = bank;
    let bank_routes = bank::routes(Bank::new(
        accounts,
        balance,
        bugs.racy_transfer,
        bugs.no_funds_check,
    ));
    let primary = Arc::new(Primary {
        bugs,
        data: Mutex::new(Data::default()),
    });
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/items", get(read_items).post(add_item))
        .route("/changes", get(read_changes))
        .route("/orders", get(read_orders).post(place_order))
        .route("/payments", get(read_payments))
        .with_state(primary)
        .merge(stock_routes)
        .merge(bank_routes)
}

#[derive(Deserialize)]
struct NewItem {
    id: i64,
}

async fn add_item(State(p): S, Json(item): Json<NewItem>) -> Json<Value> {
    let mut data = p.data.lock().await;
    if !data.items.contains_key(&item.id) {
        let seq = data.changes.len() as u64 + 1;
        data.items.insert(item.id, seq);
        data.changes.push(Change {
            id: item.id,
            seq,
            at_ms: now_ms(),
        });
    }
    Json(json!({ "ok": true }))
}

/// `{"items":[{"id":N,"seq":K},...]}` sorted by id: the shape replicas serve too.
pub fn items_body(items: &BTreeMap<i64, u64>) -> Value {
    let items: Vec<Value> = items
        .iter()
        .map(|(id, seq)| json!({ "id": id, "seq": seq }))
        .collect();
    json!({ "items": items })
}

async fn read_items(State(p): S) -> Json<Value> {
    Json(items_body(&p.data.lock().await.items))
}

#[derive(Deserialize)]
struct After {
    #[serde(default)]
    after: u64,
}

async fn read_changes(State(p): S, Query(q): Query<After>) -> Json<Changes> {
    let data = p.data.lock().await;
    let from = usize::try_from(q.after).unwrap_or(usize::MAX);
    let changes = data.changes.get(from..).unwrap_or_default().to_vec();
    Json(Changes { changes })
}

#[derive(Deserialize)]
struct NewOrder {
    id: i64,
    amount: i64,
}

/// Places the order, or returns the one already placed under this id unchanged.
async fn place_order(State(p): S, Json(new): Json<NewOrder>) -> Json<Order> {
    let mut data = p.data.lock().await;
    if let Some(order) = data.orders.get(&new.id) {
        return Json(order.clone());
    }
    let confirmed = new.amount <= MAX_CONFIRMED_AMOUNT;
    let order = Order {
        id: new.id,
        status: if confirmed { "CONFIRMED" } else { "CANCELLED" },
        amount: new.amount,
    };
    data.orders.insert(new.id, order.clone());
    if confirmed {
        data.confirmed += 1;
        let every = p.bugs.double_capture_every;
        let twice = every > 0 && data.confirmed.is_multiple_of(every);
        let suffixes: &[&str] = if twice { &["", "-dup"] } else { &[""] };
        for suffix in suffixes {
            data.payments.push(Payment {
                id: format!("p-{}{suffix}", new.id),
                order_id: new.id,
                state: "CAPTURED",
            });
        }
    }
    Json(order)
}

async fn read_orders(State(p): S) -> Json<Value> {
    let data = p.data.lock().await;
    let orders: Vec<&Order> = data.orders.values().collect();
    Json(json!({ "orders": orders }))
}

async fn read_payments(State(p): S) -> Json<Value> {
    Json(json!({ "payments": p.data.lock().await.payments }))
}

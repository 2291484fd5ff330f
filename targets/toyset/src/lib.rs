//! toyset: a tiny in-memory HTTP service holding a set, a counter, a queue, an id generator,
//! a key-value store of strings (`kv.rs`) and transactions of micro-ops (`txn.rs`), with
//! switches that turn on classic bugs. splitbrain's end-to-end tests run it
//! in-process; the README's first demo runs its binary. It is a test target, not an example of
//! how to build a service: all state lives in one process and is lost when it stops.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

mod kv;
mod txn;

/// Which bugs are on. Each counter-based switch fires on every Nth write of its kind (0 = off).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// Acknowledge the write but drop it: a set add, a counter delta, an enqueue. Expect `lost`
    /// (counter: `wrong-total`).
    pub lose_every: u64,
    /// Apply the write twice: a set add stored twice, a pop that leaves its item in place, an id
    /// handed out again. Expect `duplicated`.
    pub duplicate_every: u64,
    /// Apply the write, then answer only after `slow_ms`: past the client's timeout this gives
    /// `info` ops that did happen. Expect a valid verdict all the same.
    pub slow_every: u64,
    pub slow_ms: u64,
    /// Answer every Nth kv get from a snapshot taken at the stale get before it. Expect
    /// `nonlinearizable` (kv).
    pub stale_kv_every: u64,
    /// Run every Nth txn micro-op by micro-op, letting others in between. Expect G-single,
    /// G2-item and G1c (list-append, rw-register).
    pub unisolated_txn_every: u64,
}

impl Bugs {
    /// Parses `lose-every=100,duplicate-every=50,slow-every=10,slow-ms=3000,stale-kv-every=10,
    /// unisolated-txn-every=1`.
    pub fn parse(spec: &str) -> Result<Bugs, String> {
        let mut bugs = Bugs::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, n) = part
                .split_once('=')
                .ok_or_else(|| format!("bug switch {part:?}: expected NAME=N"))?;
            let n: u64 = n
                .parse()
                .map_err(|_| format!("bug switch {name}: expected a whole number, found {n:?}"))?;
            match name {
                "lose-every" => bugs.lose_every = n,
                "duplicate-every" => bugs.duplicate_every = n,
                "slow-every" => bugs.slow_every = n,
                "slow-ms" => bugs.slow_ms = n,
                "stale-kv-every" => bugs.stale_kv_every = n,
                "unisolated-txn-every" => bugs.unisolated_txn_every = n,
                _ => {
                    return Err(format!(
                        "unknown bug switch {name:?}: expected lose-every, duplicate-every, \
                         slow-every, slow-ms, stale-kv-every or unisolated-txn-every"
                    ));
                }
            }
        }
        Ok(bugs)
    }
}

#[derive(Default)]
struct Data {
    /// A list, not a set, so the duplicate bug can store an element twice.
    items: Vec<i64>,
    /// What `items` holds, for constant-time "already there?" checks.
    present: HashSet<i64>,
    counter: i64,
    queue: VecDeque<Value>,
    next_id: u64,
}

struct Shop {
    bugs: Bugs,
    data: Mutex<Data>,
    writes: AtomicU64,
}

impl Shop {
    /// Counts this write and says which bugs fire on it.
    fn roll(&self) -> (bool, bool, bool) {
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        let fires = |every: u64| every > 0 && n.is_multiple_of(every);
        (
            fires(self.bugs.lose_every),
            fires(self.bugs.duplicate_every),
            fires(self.bugs.slow_every),
        )
    }

    async fn maybe_slow(&self, slow: bool) {
        if slow {
            tokio::time::sleep(Duration::from_millis(self.bugs.slow_ms)).await;
        }
    }
}

type S = State<Arc<Shop>>;

/// The service's routes (see the README in this folder).
pub fn app(bugs: Bugs) -> Router {
    let kv = kv::routes(bugs.stale_kv_every);
    let txn = txn::routes(bugs.unisolated_txn_every);
    let shop = Arc::new(Shop {
        bugs,
        data: Mutex::new(Data::default()),
        writes: AtomicU64::new(0),
    });
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/v1/items", get(read_items))
        .route("/v1/items/{n}", put(add_item))
        .route("/v1/counter", get(read_counter).post(add_counter))
        .route("/v1/queue", post(enqueue))
        .route("/v1/queue/pop", post(dequeue))
        .route("/v1/ids", post(generate))
        .with_state(shop)
        .merge(kv)
        .merge(txn)
}

/// Serves the app on a bound listener until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, bugs: Bugs) -> std::io::Result<()> {
    axum::serve(listener, app(bugs)).await
}

async fn read_items(State(shop): S) -> Json<Value> {
    let data = shop.data.lock().await;
    let records: Vec<Value> = data.items.iter().map(|n| json!({ "n": n })).collect();
    Json(json!({ "data": records }))
}

async fn add_item(State(shop): S, Path(n): Path<i64>) -> (StatusCode, Json<Value>) {
    let (lose, duplicate, slow) = shop.roll();
    let status = {
        let mut data = shop.data.lock().await;
        if data.present.contains(&n) {
            StatusCode::OK
        } else {
            if !lose {
                data.items.push(n);
                data.present.insert(n);
            }
            if duplicate {
                data.items.push(n);
            }
            StatusCode::CREATED
        }
    };
    shop.maybe_slow(slow).await;
    (status, Json(json!({ "data": { "n": n } })))
}

#[derive(Deserialize)]
struct Delta {
    delta: i64,
}

async fn read_counter(State(shop): S) -> Json<Value> {
    Json(json!({ "value": shop.data.lock().await.counter }))
}

async fn add_counter(State(shop): S, Json(d): Json<Delta>) -> Json<Value> {
    let (lose, duplicate, slow) = shop.roll();
    let value = {
        let mut data = shop.data.lock().await;
        if !lose {
            data.counter += d.delta;
        }
        if duplicate {
            data.counter += d.delta;
        }
        data.counter
    };
    shop.maybe_slow(slow).await;
    Json(json!({ "value": value }))
}

#[derive(Deserialize)]
struct Item {
    item: Value,
}

async fn enqueue(State(shop): S, Json(i): Json<Item>) -> StatusCode {
    let (lose, duplicate, slow) = shop.roll();
    {
        let mut data = shop.data.lock().await;
        if !lose {
            data.queue.push_back(i.item.clone());
        }
        if duplicate {
            data.queue.push_back(i.item);
        }
    }
    shop.maybe_slow(slow).await;
    StatusCode::CREATED
}

async fn dequeue(State(shop): S) -> (StatusCode, Json<Value>) {
    let mut data = shop.data.lock().await;
    match data.queue.pop_front() {
        Some(item) => (StatusCode::OK, Json(json!({ "item": item }))),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": "empty" }))),
    }
}

async fn generate(State(shop): S) -> Json<Value> {
    let (_, duplicate, slow) = shop.roll();
    let id = {
        let mut data = shop.data.lock().await;
        if !duplicate || data.next_id == 0 {
            data.next_id += 1;
        }
        data.next_id
    };
    shop.maybe_slow(slow).await;
    Json(json!({ "id": id }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bug_switches_and_rejects_unknown_ones() {
        let bugs = Bugs::parse(
            "lose-every=100, slow-every=7,slow-ms=3000,stale-kv-every=9,unisolated-txn-every=2",
        )
        .unwrap();
        assert_eq!(
            (
                bugs.lose_every,
                bugs.slow_every,
                bugs.slow_ms,
                bugs.stale_kv_every,
                bugs.unisolated_txn_every
            ),
            (100, 7, 3000, 9, 2)
        );
        assert!(
            Bugs::parse("loose-every=3")
                .unwrap_err()
                .contains("unknown bug switch")
        );
        assert!(
            Bugs::parse("lose-every=x")
                .unwrap_err()
                .contains("whole number")
        );
    }
}

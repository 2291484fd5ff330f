//! A key-value store of strings, Porcupine's kv model over HTTP: get, put and append, each
//! atomic under one lock, so the store is linearizable. With `stale-kv-every=N`, every Nth get
//! answers from a snapshot of the store taken at the stale get before it (the first from the
//! empty store): a read of an old value after a newer one was acknowledged, which a
//! linearizability checker finds.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Default)]
struct Maps {
    now: HashMap<String, String>,
    /// What the store held at the last stale get.
    snapshot: HashMap<String, String>,
}

impl Maps {
    /// The key's value now, or (`stale`) in the snapshot, which then catches up.
    fn get(&mut self, key: &str, stale: bool) -> Option<String> {
        if !stale {
            return self.now.get(key).cloned();
        }
        let old = self.snapshot.get(key).cloned();
        self.snapshot = self.now.clone();
        old
    }

    fn append(&mut self, key: String, value: &str) -> String {
        let now = self.now.entry(key).or_default();
        now.push_str(value);
        now.clone()
    }
}

struct Store {
    stale_every: u64,
    gets: AtomicU64,
    maps: Mutex<Maps>,
}

type S = State<Arc<Store>>;

/// The kv routes, `/v1/kv/{key}` (GET, PUT) and `/v1/kv/{key}/append` (POST).
pub(crate) fn routes(stale_every: u64) -> Router {
    let store = Arc::new(Store {
        stale_every,
        gets: AtomicU64::new(0),
        maps: Mutex::new(Maps::default()),
    });
    Router::new()
        .route("/v1/kv/{key}", get(read).put(write))
        .route("/v1/kv/{key}/append", post(append))
        .with_state(store)
}

#[derive(Deserialize)]
struct Body {
    value: String,
}

/// 200 `{"value": V}`, or 404 when the key was never written.
async fn read(State(store): S, Path(key): Path<String>) -> (StatusCode, Json<Value>) {
    let n = store.gets.fetch_add(1, Ordering::Relaxed) + 1;
    let stale = store.stale_every > 0 && n.is_multiple_of(store.stale_every);
    let found = store.maps.lock().await.get(&key, stale);
    match found {
        Some(value) => (StatusCode::OK, Json(json!({ "value": value }))),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "no such key" })),
        ),
    }
}

async fn write(State(store): S, Path(key): Path<String>, Json(b): Json<Body>) -> Json<Value> {
    store.maps.lock().await.now.insert(key, b.value.clone());
    Json(json!({ "value": b.value }))
}

async fn append(State(store): S, Path(key): Path<String>, Json(b): Json<Body>) -> Json<Value> {
    let value = store.maps.lock().await.append(key, &b.value);
    Json(json!({ "value": value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_append_and_get_follow_the_kv_model_and_a_stale_get_answers_from_the_last_one() {
        let mut maps = Maps::default();
        assert_eq!(maps.get("k", false), None);
        maps.now.insert("k".into(), "x 0 y".into());
        assert_eq!(maps.append("k".into(), "x 1 y"), "x 0 yx 1 y");
        assert_eq!(maps.get("k", false).as_deref(), Some("x 0 yx 1 y"));
        // The first stale get answers from the empty store, and takes a snapshot.
        assert_eq!(maps.get("k", true), None);
        maps.append("k".into(), "x 2 y");
        assert_eq!(maps.get("k", true).as_deref(), Some("x 0 yx 1 y"));
        assert_eq!(maps.get("k", false).as_deref(), Some("x 0 yx 1 yx 2 y"));
    }
}

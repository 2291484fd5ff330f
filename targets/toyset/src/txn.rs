//! Transactions of micro-ops, Elle's list-append and rw-register over HTTP: `POST /v1/txn`
//! with `{"ops": [["append", 1, 3], ["r", 2, null], ["w", 4, 7]]}` answers with the same ops,
//! each read filled in (`["r", 2, [1, 3]]`; a register read of `null` when never written).
//!
//! A txn runs under one lock, so the store is strict serializable. With
//! `unisolated-txn-every=N`, every Nth txn takes the lock for each micro-op on its own and
//! yields between them, so other txns see its first writes before its last ones, and it sees
//! theirs: G-single, G2-item and G1c, which a transactional checker finds.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// How long an unisolated txn waits between its micro-ops.
const GAP: Duration = Duration::from_millis(2);

/// Each key's value: a list of appended elements, or a register's last write.
type Data = HashMap<String, Value>;

struct Store {
    unisolated_every: u64,
    txns: AtomicU64,
    data: Mutex<Data>,
}

type S = State<Arc<Store>>;

/// The txn route, `POST /v1/txn`.
pub(crate) fn routes(unisolated_every: u64) -> Router {
    let store = Arc::new(Store {
        unisolated_every,
        txns: AtomicU64::new(0),
        data: Mutex::new(Data::new()),
    });
    Router::new().route("/v1/txn", post(txn)).with_state(store)
}

#[derive(Deserialize)]
struct Body {
    ops: Vec<(String, Value, Value)>,
}

/// 200 `{"ops": COMPLETED}`; 400 `{"error": ..}` for a micro-op that is not `append`, `r` or `w`
/// (nothing applied), or for an append to a key holding a register (the micro-ops before it
/// stay applied: a workload uses lists or registers, never both).
async fn txn(State(store): S, Json(body): Json<Body>) -> (StatusCode, Json<Value>) {
    if let Some(op) = body
        .ops
        .iter()
        .find(|(f, _, _)| !["append", "r", "w"].contains(&&**f))
    {
        let message = format!("unknown micro-op {:?}: expected append, r or w", op.0);
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": message })));
    }
    let n = store.txns.fetch_add(1, Ordering::Relaxed) + 1;
    let unisolated = store.unisolated_every > 0 && n.is_multiple_of(store.unisolated_every);
    let mut done = Vec::with_capacity(body.ops.len());
    if unisolated {
        for (i, op) in body.ops.into_iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(GAP).await;
            }
            done.push(apply(&mut *store.data.lock().await, op));
        }
    } else {
        let mut data = store.data.lock().await;
        done.extend(body.ops.into_iter().map(|op| apply(&mut data, op)));
    }
    match done.into_iter().collect::<Result<Vec<_>, _>>() {
        Ok(ops) => (StatusCode::OK, Json(json!({ "ops": ops }))),
        Err(message) => (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))),
    }
}

/// Applies one micro-op; a read comes back with what it read.
fn apply(data: &mut Data, (f, k, v): (String, Value, Value)) -> Result<Value, String> {
    let key = k.to_string();
    match f.as_str() {
        "r" => {
            let read = data.get(&key).cloned().unwrap_or(Value::Null);
            Ok(json!([f, k, read]))
        }
        "w" => {
            data.insert(key, v.clone());
            Ok(json!([f, k, v]))
        }
        _ => match data.entry(key).or_insert_with(|| json!([])) {
            Value::Array(list) => {
                list.push(v.clone());
                Ok(json!([f, k, v]))
            }
            other => Err(format!(
                "append to key {k}, which holds {other}, not a list"
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(f: &str, k: i64, v: Value) -> (String, Value, Value) {
        (f.to_owned(), json!(k), v)
    }

    #[test]
    fn appends_build_a_list_writes_set_a_register_and_reads_see_both() {
        let mut data = Data::new();
        assert_eq!(
            apply(&mut data, op("r", 1, Value::Null)),
            Ok(json!(["r", 1, null]))
        );
        apply(&mut data, op("append", 1, json!(3))).unwrap();
        apply(&mut data, op("append", 1, json!(4))).unwrap();
        assert_eq!(
            apply(&mut data, op("r", 1, Value::Null)),
            Ok(json!(["r", 1, [3, 4]]))
        );
        apply(&mut data, op("w", 2, json!(9))).unwrap();
        assert_eq!(
            apply(&mut data, op("r", 2, Value::Null)),
            Ok(json!(["r", 2, 9]))
        );
        let refused = apply(&mut data, op("append", 2, json!(1))).unwrap_err();
        assert!(refused.contains("not a list"), "{refused}");
    }
}

//! A register workload with independent keys, end to end against a tiny in-process register
//! server of etcd's v2 shape (no Docker): the history records every value as Jepsen's tuple
//! `[key value]` (a read `[key v]`, nil when the key was missing; a cas `[key [from to]]`),
//! and each key's history, checked on its own, is linearizable. The test splits the history
//! by key itself, so it holds before and after the checker learns to split tuples.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use splitbrain::checker::Verdict;
use splitbrain::checker::linear::{Bounds, LinearModel, Semantics, check};
use splitbrain::history::read_history;

type Store = Arc<Mutex<HashMap<String, String>>>;

async fn read(Path(key): Path<String>, State(store): State<Store>) -> (StatusCode, String) {
    match store.lock().unwrap().get(&key) {
        Some(v) => (StatusCode::OK, json!({"node": {"value": v}}).to_string()),
        None => (StatusCode::NOT_FOUND, json!({"errorCode": 100}).to_string()),
    }
}

/// `?value=V` writes; with `prevValue=A`, a cas (404 when missing, 412 when different).
async fn put(
    Path(key): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    State(store): State<Store>,
) -> StatusCode {
    let mut store = store.lock().unwrap();
    let value = q["value"].clone();
    match (q.get("prevValue"), store.get(&key)) {
        (Some(_), None) => StatusCode::NOT_FOUND,
        (Some(prev), Some(now)) if prev != now => StatusCode::PRECONDITION_FAILED,
        _ => {
            store.insert(key, value);
            StatusCode::OK
        }
    }
}

const WORKLOAD: &str = r#"# a register with keys
name = "keys"
seed = 3
time_limit = "2s"
concurrency = 6

[target]
base_url = "BASE"

[model]
kind = "cas-register"
keys = 3
values = { min = 0, max = 2 }

[model.ops.read]
method = "GET"
path = "/v2/keys/r{{key}}"
ok = [200]
missing = [404]
value = "/node/value"

[model.ops.write]
method = "PUT"
path = "/v2/keys/r{{key}}?value={{value}}"
ok = [200]

[model.ops.cas]
method = "PUT"
path = "/v2/keys/r{{key}}?prevValue={{from}}&value={{to}}"
ok = [200]
fail = [404, 412]

[phases]
quiet = "0s"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn independent_keys_are_recorded_as_key_value_tuples_and_each_key_is_linearizable() {
    let store: Store = Arc::default();
    let router = Router::new()
        .route("/v2/keys/{key}", get(read).put(put))
        .with_state(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let dir = tempfile::tempdir().unwrap();
    let workload = dir.path().join("keys.toml");
    std::fs::write(&workload, WORKLOAD.replace("BASE", &base)).unwrap();
    let out = dir.path().join("run");
    let args = [
        "run".to_owned(),
        workload.to_str().unwrap().to_owned(),
        "--out".to_owned(),
        out.to_str().unwrap().to_owned(),
    ];
    let output = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::splitbrain(&args)
    })
    .await
    .unwrap();
    let events = common::history(&out);
    let client: Vec<&Value> = events
        .iter()
        .filter(|e| e["process"].is_u64() && e["type"].is_string())
        .collect();
    assert!(
        client.len() > 100,
        "a real run: {} events; stderr:\n{}",
        client.len(),
        String::from_utf8_lossy(&output.stderr)
    );

    // Every value is [key value], with the shape its op and outcome give it.
    let mut kinds = BTreeMap::new();
    for e in &client {
        let pair = e["value"].as_array().expect("a [key value] tuple");
        assert_eq!(pair.len(), 2, "{e}");
        let key = pair[0].as_i64().expect("an integer key");
        assert!((0..3).contains(&key), "{e}");
        let (f, kind, v) = (
            e["f"].as_str().unwrap(),
            e["type"].as_str().unwrap(),
            &pair[1],
        );
        let fine = match (f, kind) {
            ("read", "invoke") => v.is_null(),
            ("read", _) => v.is_null() || v.as_i64().is_some_and(|i| (0..=2).contains(&i)),
            ("write", _) => v.as_i64().is_some_and(|i| (0..=2).contains(&i)),
            ("cas", _) => v.as_array().is_some_and(|ft| ft.len() == 2),
            _ => false,
        };
        assert!(fine, "{e}");
        *kinds.entry((f, kind)).or_insert(0) += 1;
    }
    for expected in [
        ("read", "ok"),
        ("write", "ok"),
        ("cas", "ok"),
        ("cas", "fail"),
    ] {
        assert!(
            kinds.contains_key(&expected),
            "no {expected:?} in {kinds:?}"
        );
    }

    // Each key's history on its own (Jepsen's independent checker, done here by hand).
    let text = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    for key in 0..3 {
        let mut lines = Vec::new();
        for line in text.lines() {
            let mut e: Value = serde_json::from_str(line).unwrap();
            if e["type"].is_null() {
                lines.push(line.to_owned()); // the header
            } else if e["value"][0] == key {
                e["value"] = e["value"][1].clone();
                lines.push(e.to_string());
            }
        }
        let file = dir.path().join(format!("key-{key}.jsonl"));
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let (history, _) = read_history(&file).unwrap();
        let model = LinearModel::CasRegister(Semantics::PorcupineEtcd);
        let result = check(&history, model, Bounds::default()).unwrap();
        assert_eq!(result.valid, Verdict::Valid, "key {key}: {result:?}");
    }
}

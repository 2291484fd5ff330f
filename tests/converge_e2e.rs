//! End-to-end: the real `splitbrain` binary against two tiny services this test starts, a
//! "primary" that stores items and a "replica" that copies the primary every 200 ms (so it
//! lags, then converges), read as two views with `agree` and `covers` between them.
//! tests/relations_e2e.rs does the same against targets/replicas, for every relation kind.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use common::run;
use serde_json::{Value, json};

type Items = Arc<Mutex<BTreeSet<i64>>>;

/// Serves `router` on a free loopback port in a background thread; lives as long as the test.
fn serve(
    router: Router,
    background: impl FnOnce() -> Option<tokio::task::JoinHandle<()>> + Send + 'static,
) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        rt.block_on(async move {
            let _task = background();
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, router).await.expect("serves");
        });
    });
    addr
}

fn list(items: &Items) -> Json<Value> {
    let records: Vec<Value> = items
        .lock()
        .expect("never poisoned")
        .iter()
        .map(|id| json!({ "id": id }))
        .collect();
    Json(json!({ "items": records }))
}

/// `POST /items {"id": N}` adds N; `GET /items` is `{"items": [{"id": N}, ...]}`.
fn start_primary() -> (SocketAddr, Items) {
    let items = Items::default();
    let router = Router::new()
        .route(
            "/items",
            get(|State(items): State<Items>| async move { list(&items) }).post(
                |State(items): State<Items>, Json(body): Json<Value>| async move {
                    match body["id"].as_i64() {
                        Some(id) => {
                            items.lock().expect("never poisoned").insert(id);
                            StatusCode::CREATED
                        }
                        None => StatusCode::BAD_REQUEST,
                    }
                },
            ),
        )
        .with_state(items.clone());
    (serve(router, || None), items)
}

/// `GET /items` like the primary's, from a copy made every 200 ms; with `drop_one_in_fifty`,
/// the copy leaves out every id that is 25 modulo 50, for ever.
fn start_replica(primary: Items, drop_one_in_fifty: bool) -> SocketAddr {
    let copy = Items::default();
    let router = Router::new()
        .route(
            "/items",
            get(|State(items): State<Items>| async move { list(&items) }),
        )
        .with_state(copy.clone());
    let copier = move || {
        Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                let now: BTreeSet<i64> = primary
                    .lock()
                    .expect("never poisoned")
                    .iter()
                    .copied()
                    .filter(|id| !drop_one_in_fifty || id % 50 != 25)
                    .collect();
                *copy.lock().expect("never poisoned") = now;
            }
        }))
    };
    serve(router, copier)
}

fn workload(primary: SocketAddr, replica: SocketAddr) -> String {
    format!(
        r#"name = "converge-e2e"
seed = 7
time_limit = "1s"
concurrency = 4
rate = 200

[target]
base_url = "http://{primary}"

[model]
kind = "custom"
mix = {{ add = 1 }}

[model.ops.add]
method = "POST"
path = "/items"
body = '{{"id": {{{{value}}}}}}'
ok = [201]
timeout = "1s"

[views.primary]
path = "/items"
records = "/items"
id = "/id"
weight = 0.05

[views.replica]
base_url = "http://{replica}"
path = "/items"
records = "/items"
id = "/id"

[[relations]]
kind = "agree"
views = ["primary", "replica"]

[[relations]]
kind = "covers"
view = "replica"
op = "add"

[phases]
quiet = "0s"
converge_timeout = "3s"
poll_interval = "100ms"
"#
    )
}

/// The history's events, parsed (the header line left out).
fn events(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("run/history.jsonl")).expect("history exists");
    text.lines()
        .skip(1)
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect()
}

#[test]
fn a_lagging_replica_converges_and_the_run_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let (primary, items) = start_primary();
    let replica = start_replica(items, false);
    let (code, results, output) = run(dir.path(), &workload(primary, replica));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 0, "stdout: {stdout}\nresults: {results:#}");
    let convergence = &results["convergence"];
    assert_eq!(convergence["converged"], Value::Bool(true), "{results:#}");
    assert!(
        convergence["time_to_converge_ns"].as_u64().is_some(),
        "{results:#}"
    );
    assert!(convergence["rounds"].as_u64().is_some_and(|n| n >= 1));
    assert!(stdout.contains("converged after"), "{stdout}");
    // Every convergence-phase read carries its round, in the invocation and the completion.
    let events = events(dir.path());
    let polls: Vec<&Value> = events
        .iter()
        .filter(|e| e["f"] == "view:replica" && e["value"]["round"].is_u64())
        .collect();
    assert!(polls.iter().any(|e| e["type"] == "invoke"));
    assert!(
        polls
            .iter()
            .any(|e| e["type"] == "ok" && e["value"]["records"].is_array()),
        "{polls:?}"
    );
}

#[test]
fn a_replica_that_drops_one_item_in_fifty_does_not_converge_and_names_the_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (primary, items) = start_primary();
    let replica = start_replica(items, true);
    let (code, results, output) = run(dir.path(), &workload(primary, replica));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 1, "stdout: {stdout}\nresults: {results:#}");
    assert_eq!(results["convergence"]["converged"], Value::Bool(false));
    assert!(stdout.contains("did NOT converge within"), "{stdout}");
    let unconverged: Vec<String> = results["checkers"]
        .as_object()
        .expect("checkers is a map")
        .values()
        .flat_map(|c| c["anomalies"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["type"] == "unconverged")
        .map(|a| a.to_string())
        .collect();
    assert!(
        unconverged
            .iter()
            .any(|a| a.contains("25") && a.contains("75")),
        "the unconverged anomaly names the dropped ids 25 and 75: {unconverged:#?}"
    );
}

#[test]
fn main_phase_view_reads_follow_the_history_contract_without_relations() {
    // A set workload with a weighted view and no relations: no convergence phase, no
    // relations checker, so this runs before the relations branch is merged.
    let dir = tempfile::tempdir().unwrap();
    let (primary, _) = start_primary();
    let text = format!(
        r#"name = "views-main-phase"
seed = 3
time_limit = "1s"
concurrency = 4
rate = 200

[target]
base_url = "http://{primary}"

[model]
kind = "set"
mix = {{ add = 0.8, read = 0.1 }}

[model.ops.add]
method = "POST"
path = "/items"
body = '{{"id": {{{{value}}}}}}'
ok = [201]

[model.ops.read]
method = "GET"
path = "/items"
records = "/items"
element = "/id"

[views.items]
path = "/items"
records = "/items"
id = "/id"
weight = 0.1

[phases]
quiet = "0s"
final_reads = 1
"#
    );
    let (code, results, output) = run(dir.path(), &text);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&output.stdout));
    assert!(results.get("convergence").is_none());
    let events = events(dir.path());
    let reads: Vec<&Value> = events.iter().filter(|e| e["f"] == "view:items").collect();
    assert!(
        reads.len() >= 4,
        "about 1 op in 10 reads the view: {}",
        reads.len()
    );
    let ok = reads
        .iter()
        .rfind(|e| e["type"] == "ok")
        .expect("some view read ended ok");
    let records = ok["value"]["records"]
        .as_array()
        .expect("records is a list");
    assert!(
        !records.is_empty() && records.iter().all(|r| r["id"].is_i64()),
        "{ok}"
    );
    assert!(
        ok["value"].get("round").is_none(),
        "main-phase reads have no round"
    );
}

//! Relations end to end: the real `splitbrain` binary against targets/replicas (a primary and
//! a read-model replica, as real processes over HTTP), one relation kind per test, each with
//! the bug switch that must break it and the exact witnesses it must name.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

use common::{Service, anomalies, run};

fn ids(items: &Value, key: &str) -> BTreeSet<String> {
    items[key]
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| r["id"].to_string().trim_matches('"').to_owned())
        .collect()
}

/// Adds to the primary, a view on each side, `agree` and `covers`.
fn items_workload(primary: &Service, replica: &Service, converge_timeout: &str) -> String {
    format!(
        r#"name = "replicas-items"
seed = 9
time_limit = "3s"
concurrency = 8
rate = 150

[target]
base_url = "{primary}"
preflight = "/health"

[model]
kind = "custom"
mix = {{ add = 1 }}

[model.ops.add]
method = "POST"
path = "/items"
body = '{{"id": {{{{value}}}}}}'
ok = [200]
timeout = "1s"

[views.primary]
path = "/items"
records = "/items"
id = "/id"

[views.replica]
base_url = "{replica}"
path = "/items"
records = "/items"
id = "/id"
weight = 0.1

[[relations]]
kind = "agree"
views = ["primary", "replica"]

[[relations]]
kind = "covers"
view = "replica"
op = "add"

[phases]
quiet = "0s"
converge_timeout = "{converge_timeout}"
poll_interval = "200ms"
"#,
        primary = primary.url,
        replica = replica.url,
    )
}

#[test]
fn a_replica_that_catches_up_converges_with_a_measured_time() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &[]);
    let replica = Service::start("replica", &["--primary", &primary.url, "--poll", "300ms"]);
    let (code, results, output) = run(dir.path(), &items_workload(&primary, &replica, "10s"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 0, "{stdout}\n{results:#}");
    let convergence = &results["convergence"];
    assert_eq!(convergence["converged"], true, "{convergence}");
    let ns = convergence["time_to_converge_ns"].as_u64().expect("a time");
    // The replica polls every 300 ms: it cannot be more than a few polls behind.
    assert!(ns < 3_000_000_000, "{ns} ns to converge");
    assert!(stdout.contains("converged after"), "{stdout}");
    assert_eq!(
        ids(&primary.get("/items"), "items"),
        ids(&replica.get("/items"), "items")
    );
}

#[test]
fn a_replica_that_drops_every_fiftieth_change_is_unconverged_with_exactly_the_missing_ids() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &[]);
    let replica = Service::start(
        "replica",
        &[
            "--primary",
            &primary.url,
            "--poll",
            "100ms",
            "--bugs",
            "drop-every=50",
        ],
    );
    let (code, results, output) = run(dir.path(), &items_workload(&primary, &replica, "2s"));
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(results["convergence"]["converged"], false);
    let missing: BTreeSet<String> = ids(&primary.get("/items"), "items")
        .difference(&ids(&replica.get("/items"), "items"))
        .cloned()
        .collect();
    assert!(missing.len() >= 5, "{missing:?}");
    let unconverged = anomalies(&results, "unconverged");
    assert_eq!(unconverged.len(), 1, "{unconverged:#?}");
    let named: BTreeSet<String> = unconverged[0]["details"]["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .flat_map(|d| d["lacks"].as_array().cloned().unwrap_or_default())
        .map(|id| id.as_str().expect("ids as text").to_owned())
        .collect();
    assert_eq!(named, missing, "the anomaly names exactly the dropped ids");
    // covers says the same of the acknowledged adds: each lost one is a dropped id.
    let lost: BTreeSet<String> = anomalies(&results, "lost")
        .iter()
        .map(|a| a["details"]["id"].to_string().trim_matches('"').to_owned())
        .collect();
    assert!(
        !lost.is_empty() && lost.is_subset(&missing),
        "{lost:?} vs {missing:?}"
    );
}

/// Orders placed on the primary (all confirmed: amount 50), orders and payments as views.
fn orders_workload(primary: &Service) -> String {
    format!(
        r#"name = "replicas-orders"
seed = 4
time_limit = "2s"
concurrency = 4
rate = 50

[target]
base_url = "{primary}"
preflight = "/health"

[model]
kind = "custom"
mix = {{ place = 1 }}

[model.ops.place]
method = "POST"
path = "/orders"
body = '{{"id": {{{{value}}}}, "amount": 50}}'
ok = [200]

[views.orders]
path = "/orders"
records = "/orders"
id = "/id"
fields = {{ status = "/status" }}

[views.payments]
path = "/payments"
records = "/payments"
id = "/id"
fields = {{ order_id = "/order_id", state = "/state" }}

[[relations]]
kind = "unique"
view = "payments"
key = "order_id"

[[relations]]
kind = "matches"
view = "orders"
filter = {{ status = "CONFIRMED" }}
other = "payments"
other_filter = {{ state = "CAPTURED" }}
key = "order_id"
expect = "one"

[[relations]]
kind = "covers"
view = "orders"
op = "place"

[phases]
quiet = "0s"
converge_timeout = "1s"
poll_interval = "200ms"
"#,
        primary = primary.url,
    )
}

#[test]
fn one_capture_per_order_holds_and_a_double_capture_is_duplicated_naming_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &[]);
    let (code, results, output) = run(dir.path(), &orders_workload(&primary));
    assert_eq!(
        code,
        0,
        "{}\n{results:#}",
        String::from_utf8_lossy(&output.stdout)
    );

    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &["--bugs", "double-capture-every=10"]);
    let (code, results, _) = run(dir.path(), &orders_workload(&primary));
    assert_eq!(code, 1, "{results:#}");
    // The orders that really have two payments, from the service itself.
    let payments = primary.get("/payments");
    let mut seen = BTreeSet::new();
    let doubled: BTreeSet<String> = payments["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["order_id"].to_string())
        .filter(|order| !seen.insert(order.clone()))
        .collect();
    assert!(!doubled.is_empty());
    let duplicated = anomalies(&results, "duplicated");
    let text = serde_json::to_string(&duplicated).unwrap();
    for order in &doubled {
        assert!(text.contains(order.as_str()), "order {order} in {text}");
    }
    let unique = &results["checkers"]["unique(payments.order_id)"];
    assert_eq!(unique["valid"], false, "{unique:#}");
}

fn stock_workload(primary: &Service) -> String {
    format!(
        r#"name = "replicas-stock"
seed = 5
time_limit = "2s"
concurrency = 16
rate = 0

[target]
base_url = "{primary}"
preflight = "/health"

[model]
kind = "custom"
mix = {{ reserve = 1 }}

[model.ops.reserve]
method = "POST"
path = "/reserve"
body = '{{"sku": "a", "qty": 1}}'
ok = [200]
fail = [409]

[views.stock]
path = "/stock"
records = "/stock"
id = "/id"
fields = {{ available = "/available", reserved = "/reserved", sold = "/sold" }}
weight = 0.2

[[relations]]
kind = "conserved"
view = "stock"
fields = ["available", "reserved", "sold"]
total = 1000000
floor = 0

[phases]
quiet = "0s"
converge_timeout = "1s"
poll_interval = "200ms"
"#,
        primary = primary.url,
    )
}

#[test]
fn stock_is_conserved_until_reserves_race_and_then_the_total_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &["--stock", "a=1000000"]);
    let (code, results, output) = run(dir.path(), &stock_workload(&primary));
    assert_eq!(
        code,
        0,
        "{}\n{results:#}",
        String::from_utf8_lossy(&output.stdout)
    );

    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &["--stock", "a=1000000", "--bugs", "racy-stock"]);
    let (code, results, _) = run(dir.path(), &stock_workload(&primary));
    assert_eq!(code, 1, "{results:#}");
    let stock = &primary.get("/stock")["stock"][0];
    let total = ["available", "reserved", "sold"]
        .iter()
        .map(|f| stock[f].as_i64().unwrap())
        .sum::<i64>();
    assert_ne!(total, 1_000_000, "the race really lost updates: {stock}");
    let wrong = anomalies(&results, "wrong-total");
    assert!(!wrong.is_empty(), "{results:#}");
    // The last read the checker saw has the total the service now shows.
    let sums: Vec<i64> = wrong
        .iter()
        .filter_map(|a| a["details"]["sum"].as_i64())
        .collect();
    assert!(sums.iter().all(|s| *s != 1_000_000), "{sums:?}");
}

#[test]
fn a_read_model_that_lags_by_300_ms_shows_that_lag_in_the_set_checkers_latencies() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &[]);
    let replica = Service::start(
        "replica",
        &[
            "--primary",
            &primary.url,
            "--poll",
            "50ms",
            "--bugs",
            "lag=300",
        ],
    );
    // A set whose adds go to the primary and whose reads come from the read model.
    let text = format!(
        r#"name = "replicas-lag"
seed = 6
time_limit = "4s"
concurrency = 8
rate = 100

[target]
base_url = "{primary}"
preflight = "/health"

[model]
kind = "set"
mix = {{ add = 0.7, read = 0.3 }}

[model.ops.add]
method = "POST"
path = "/items"
body = '{{"id": {{{{value}}}}}}'
ok = [200]

[model.ops.read]
base_url = "{replica}"
method = "GET"
path = "/items"
records = "/items"
element = "/id"

[phases]
quiet = "1s"
final_reads = 2
"#,
        primary = primary.url,
        replica = replica.url,
    );
    let (code, results, output) = run(dir.path(), &text);
    assert_eq!(
        code,
        0,
        "{}\n{results:#}",
        String::from_utf8_lossy(&output.stdout)
    );
    let set = &results["checkers"]["set"];
    assert!(set["counts"]["stale"].as_u64().unwrap_or(0) > 0, "{set:#}");
    let lag = &set["stats"]["stable-latencies-ms"];
    let q = |k: &str| lag[k].as_f64().unwrap_or_else(|| panic!("no {k} in {lag}"));
    eprintln!("read-model lag (ms): {lag}");
    // Visible no sooner than the lag, and within the lag plus a poll, a read interval and
    // scheduling slack.
    assert!(q("p50") >= 250.0 && q("p50") <= 700.0, "{lag}");
    assert!(q("p95") >= 280.0 && q("p99") <= 1200.0, "{lag}");
}

#[test]
fn a_view_pointer_that_matches_nothing_is_unknown_naming_the_view_never_a_silent_pass() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &[]);
    let replica = Service::start("replica", &["--primary", &primary.url]);
    // The replica's records are at /items, not /data.
    let text = items_workload(&primary, &replica, "1s").replace(
        &format!(
            "[views.replica]\nbase_url = \"{}\"\npath = \"/items\"\nrecords = \"/items\"",
            replica.url
        ),
        &format!(
            "[views.replica]\nbase_url = \"{}\"\npath = \"/items\"\nrecords = \"/data\"",
            replica.url
        ),
    );
    assert!(text.contains("records = \"/data\""));
    let (code, results, output) = run(dir.path(), &text);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 2, "unknown, not valid: {stdout}\n{results:#}");
    let agree = &results["checkers"]["agree(primary,replica)"];
    assert_eq!(agree["valid"], "unknown", "{agree:#}");
    assert!(agree.to_string().contains("replica"), "{agree:#}");
    // The reads themselves say why, with the pointer and what the service sent.
    let history = std::fs::read_to_string(dir.path().join("run/history.jsonl")).unwrap();
    let why = history
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["f"] == "view:replica" && e["type"] == "info")
        .expect("an info read of the replica view");
    let error = why["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("/data") && error.contains("items"),
        "{error}"
    );
}

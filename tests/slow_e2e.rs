//! The `slow` fault through splitbrain's fault proxy, end to end: the real `splitbrain` binary
//! starts a real toyset process and a fault proxy in front of it, the workload's client goes
//! through the proxy, and a timeline slows (or resets) that link for 2 s. The history must
//! show it in the operations' latencies and outcomes, and name the proxy and the toxic.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{free_port, splitbrain, toyset_bin};
use serde_json::Value;

/// A set workload on one toyset node that splitbrain starts, reached through a fault proxy,
/// with `slow` on it from 1 s for 2 s doing what `slow` (a `[nemesis.slow]` body) says.
fn workload(dir: &Path, name: &str, slow: &str) -> PathBuf {
    let (node, proxy) = (free_port(), free_port());
    let text = format!(
        r#"name = "{name}"
seed = 5
time_limit = "4s"
concurrency = 4
rate = 40

[target]
base_url = "http://127.0.0.1:{proxy}"
preflight = "/health"

[[nodes]]
name = "n1"
command = ["{bin}", "--listen", "127.0.0.1:{node}"]

[[nemesis.timeline]]
at = "1s"
fault = "slow"
duration = "2s"
nodes = ["n1"]

[[nemesis.proxies]]
node = "n1"
listen = "127.0.0.1:{proxy}"
upstream = "127.0.0.1:{node}"

[nemesis.slow]
{slow}

[model]
kind = "set"
mix = {{ add = 0.8, read = 0.2 }}
[model.ops.add]
method = "PUT"
path = "/v1/items/{{{{value}}}}"
ok = [200, 201]
timeout = "2s"
[model.ops.read]
method = "GET"
path = "/v1/items"
records = "/data"
element = "/n"
timeout = "2s"

[phases]
quiet = "200ms"
final_reads = 2
"#,
        bin = toyset_bin().display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write workload");
    path
}

/// Runs `wl` into `out`; asserts a valid verdict (exit 0).
fn run_valid(wl: &Path, out: &Path) {
    let output = splitbrain(&["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The events of a finished run's history.
fn history(out: &Path) -> Vec<Value> {
    assert!(
        out.join("history.jsonl").exists(),
        "a history in {}",
        out.display()
    );
    common::history(out)
}

/// The one nemesis event of type `kind` named `f`.
fn nemesis_event<'a>(events: &'a [Value], kind: &str, f: &str) -> &'a Value {
    let found: Vec<&Value> = events
        .iter()
        .filter(|e| e["process"] == "nemesis" && e["type"] == kind && e["f"] == f)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} {f}: {found:?}");
    found[0]
}

/// A client operation: invoke and completion times (ns since the run began) and how it ended.
#[derive(Debug)]
struct Op {
    invoked: u64,
    completed: u64,
    outcome: String,
}

impl Op {
    fn latency(&self) -> Duration {
        Duration::from_nanos(self.completed - self.invoked)
    }
}

/// Each invoke paired with the next completion of the same process.
fn client_ops(events: &[Value]) -> Vec<Op> {
    let mut open: std::collections::HashMap<String, u64> = Default::default();
    let mut ops = Vec::new();
    for e in events.iter().filter(|e| e["process"] != "nemesis") {
        let process = e["process"].to_string();
        let time = e["time"].as_u64().expect("time in ns");
        match e["type"].as_str().expect("a type") {
            "invoke" => {
                open.insert(process, time);
            }
            outcome => {
                let invoked = open.remove(&process).expect("an invoke before it");
                ops.push(Op {
                    invoked,
                    completed: time,
                    outcome: outcome.to_owned(),
                });
            }
        }
    }
    ops
}

fn median(mut latencies: Vec<Duration>) -> Duration {
    assert!(!latencies.is_empty(), "no operations to take a median of");
    latencies.sort();
    latencies[latencies.len() / 2]
}

/// The fault window: from the start's info (the toxic is set) to the stop's invoke.
fn window(events: &[Value]) -> (u64, u64) {
    let time = |e: &Value| e["time"].as_u64().expect("time in ns");
    (
        time(nemesis_event(events, "info", "start-slow")),
        time(nemesis_event(events, "invoke", "stop-slow")),
    )
}

#[test]
fn a_slow_link_delays_the_operations_of_its_window_only_and_names_proxy_and_toxic() {
    let dir = tempfile::tempdir().unwrap();
    let wl = workload(dir.path(), "e2e-slow-latency", "latency = \"300ms\"");
    let out = dir.path().join("run");
    run_valid(&wl, &out);
    let events = history(&out);

    let start = nemesis_event(&events, "info", "start-slow");
    assert!(start["error"].is_null(), "{start}");
    let applied = &start["value"]["applied"];
    assert_eq!(applied["toxic"]["kind"], "latency", "{applied}");
    assert_eq!(applied["toxic"]["latency"], "300ms", "{applied}");
    let proxy = &applied["proxies"][0];
    assert!(
        proxy["proxy"]
            .as_str()
            .unwrap()
            .starts_with("n1@127.0.0.1:"),
        "{proxy}"
    );
    assert_eq!(proxy["toxics"][0]["kind"], "latency", "{proxy}");
    let stop = nemesis_event(&events, "info", "stop-slow");
    assert!(stop["error"].is_null(), "{stop}");
    assert_eq!(
        stop["value"]["healed"]["proxies"][0]["proxy"],
        proxy["proxy"]
    );
    assert_eq!(
        stop["value"]["healed"]["proxies"][0]["toxics"],
        serde_json::json!([])
    );

    let (from, to) = window(&events);
    let ops = client_ops(&events);
    let during: Vec<Duration> = ops
        .iter()
        .filter(|op| op.completed > from && op.completed < to)
        .map(Op::latency)
        .collect();
    let outside: Vec<Duration> = ops
        .iter()
        .filter(|op| op.completed < from || op.invoked > to)
        .map(Op::latency)
        .collect();
    let (during, outside) = (median(during), median(outside));
    eprintln!("median latency: {during:?} during the fault, {outside:?} outside");
    assert!(during >= Duration::from_millis(300), "{during:?}");
    assert!(outside < Duration::from_millis(100), "{outside:?}");
}

#[test]
fn a_reset_link_fails_the_operations_of_its_window_and_they_succeed_after_the_heal() {
    let dir = tempfile::tempdir().unwrap();
    let wl = workload(dir.path(), "e2e-slow-reset", "toxic = \"reset\"");
    let out = dir.path().join("run");
    run_valid(&wl, &out);
    let events = history(&out);
    let applied = &nemesis_event(&events, "info", "start-slow")["value"]["applied"];
    assert_eq!(
        applied["toxic"],
        serde_json::json!({"kind": "reset", "direction": "both"})
    );

    let (from, to) = window(&events);
    let ops = client_ops(&events);
    let during: Vec<&Op> = ops
        .iter()
        .filter(|op| op.invoked > from && op.completed < to)
        .collect();
    let after: Vec<&Op> = ops.iter().filter(|op| op.invoked > to).collect();
    assert!(during.len() >= 5, "operations during the reset: {during:?}");
    assert!(
        during
            .iter()
            .all(|op| op.outcome == "fail" || op.outcome == "info"),
        "every operation in the window ends fail or info: {during:?}"
    );
    // The heal's own event is recorded just after the proxies are cleared.
    let healed = nemesis_event(&events, "info", "stop-slow")["time"]
        .as_u64()
        .unwrap();
    let after_heal: Vec<&&Op> = after.iter().filter(|op| op.invoked > healed).collect();
    eprintln!(
        "{} operations in the reset window ({} fail, {} info), {} after the heal",
        during.len(),
        during.iter().filter(|op| op.outcome == "fail").count(),
        during.iter().filter(|op| op.outcome == "info").count(),
        after_heal.len()
    );
    assert!(
        after_heal.len() >= 5,
        "operations after the heal: {after:?}"
    );
    assert!(
        after_heal.iter().all(|op| op.outcome == "ok"),
        "ok again after the heal: {after_heal:?}"
    );
}

#[test]
fn a_proxy_that_cannot_bind_is_unreachable_and_heal_says_proxies_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let wl = workload(dir.path(), "e2e-slow-bind", "latency = \"300ms\"");
    let text = std::fs::read_to_string(&wl).unwrap();
    let listen = text
        .split("listen = \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a listen address")
        .to_owned();
    let _taken = std::net::TcpListener::bind(&listen).expect("take the proxy's address");
    let out = dir.path().join("run");
    let output = splitbrain(&["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "failed to bind fault proxy \"n1@{listen}\" on {listen}"
        )),
        "{stderr}"
    );
    let output = splitbrain(&["heal", wl.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("a killed run leaves no toxic behind"),
        "{stdout}"
    );
}

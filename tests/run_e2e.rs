//! End-to-end: the real `splitbrain` binary runs workload files against the toyset service
//! (started in this test process, bugs switched on per test) and must reach the verdict the
//! bug implies, with the exit code DESIGN.md gives.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{run_file, splitbrain};
use serde_json::Value;
use toyset::Bugs;

/// Starts toyset on a free loopback port in a background thread; it lives as long as the test.
fn start_toyset(bugs: Bugs) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    listener
        .set_nonblocking(true)
        .expect("nonblocking listener");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for toyset");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            toyset::serve(listener, bugs).await.expect("toyset serves");
        });
    });
    addr
}

/// A port nothing listens on.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("bound address")
}

/// The operation sections of each model against toyset's API.
fn ops_for(model: &str) -> &'static str {
    match model {
        "set" => {
            r#"
mix = { add = 0.8, read = 0.2 }
[model.ops.add]
method = "PUT"
path = "/v1/items/{{value}}"
body = '{"data": {"n": {{value}}}}'
ok = [200, 201]
timeout = "500ms"
[model.ops.read]
method = "GET"
path = "/v1/items"
records = "/data"
element = "/n"
timeout = "2s"
"#
        }
        "counter" => {
            r#"
mix = { add = 0.8, read = 0.2 }
values = { min = 1, max = 5 }
[model.ops.add]
method = "POST"
path = "/v1/counter"
body = '{"delta": {{value}}}'
timeout = "500ms"
[model.ops.read]
method = "GET"
path = "/v1/counter"
value = "/value"
"#
        }
        "queue" => {
            r#"
mix = { enqueue = 0.6, dequeue = 0.4 }
[model.ops.enqueue]
method = "POST"
path = "/v1/queue"
body = '{"item": {{value}}}'
ok = [201]
timeout = "500ms"
[model.ops.dequeue]
method = "POST"
path = "/v1/queue/pop"
ok = [200]
fail = [404]
value = "/item"
"#
        }
        "unique-ids" => {
            r#"
mix = { generate = 1.0 }
[model.ops.generate]
method = "POST"
path = "/v1/ids"
value = "/id"
"#
        }
        other => panic!("no test ops for model {other}"),
    }
}

fn workload(dir: &Path, model: &str, addr: SocketAddr, time_limit: &str) -> PathBuf {
    let text = format!(
        r#"name = "e2e-{model}"
seed = 7
time_limit = "{time_limit}"
concurrency = 8
rate = 400

[target]
base_url = "http://{addr}"
preflight = "/health"

[phases]
quiet = "200ms"
final_reads = 2

[model]
kind = "{model}"
{ops}"#,
        ops = ops_for(model)
    );
    let path = dir.join(format!("{model}.toml"));
    std::fs::write(&path, text).expect("write the workload");
    path
}

fn anomaly_types(results: &Value, checker: &str) -> Vec<String> {
    results["checkers"][checker]["anomaly_types"]
        .as_array()
        .expect("anomaly_types is a list")
        .iter()
        .map(|t| t.as_str().expect("a type name").to_owned())
        .collect()
}

/// Lines of the run's history whose type is `kind`.
fn history_events(dir: &Path, kind: &str) -> usize {
    let text = std::fs::read_to_string(dir.join("run/history.jsonl")).expect("history exists");
    text.lines()
        .filter(|l| l.contains(&format!("\"type\":\"{kind}\"")))
        .count()
}

#[test]
fn a_correct_set_service_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs::default());
    let (code, results, output) = run_file(dir.path(), &workload(dir.path(), "set", addr, "2s"));
    assert_eq!(
        code,
        0,
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(results["valid"], Value::Bool(true));
    assert!(
        history_events(dir.path(), "ok") > 200,
        "the run did real work"
    );
    for file in ["workload.toml", "run.log", "history.jsonl"] {
        assert!(
            dir.path().join("run").join(file).exists(),
            "{file} is in the run folder"
        );
    }
}

#[test]
fn a_set_service_that_drops_one_add_in_100_reports_lost() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs {
        lose_every: 100,
        ..Bugs::default()
    });
    let (code, results, output) = run_file(dir.path(), &workload(dir.path(), "set", addr, "2s"));
    assert_eq!(code, 1);
    assert_eq!(results["valid"], Value::Bool(false));
    let report = dir.path().join("run/report.html");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("report: {}", report.display())),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&report).expect("report.html in the run folder");
    assert!(html.contains("Anomalies found") && html.contains("data-anomaly=\"0\""));
    assert!(
        anomaly_types(&results, "set").contains(&"lost".to_owned()),
        "{results}"
    );
    let lost = &results["checkers"]["set"]["anomalies"][0];
    assert!(
        !lost["ops"].as_array().unwrap().is_empty(),
        "the anomaly names its witnesses"
    );
}

#[test]
fn a_set_service_that_applies_an_add_twice_reports_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs {
        duplicate_every: 50,
        ..Bugs::default()
    });
    let (code, results, _) = run_file(dir.path(), &workload(dir.path(), "set", addr, "2s"));
    assert_eq!(code, 1);
    assert!(
        anomaly_types(&results, "set").contains(&"duplicated".to_owned()),
        "{results}"
    );
}

#[test]
fn a_service_that_times_out_after_applying_gives_info_ops_and_stays_valid() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs {
        slow_every: 10,
        slow_ms: 1200,
        ..Bugs::default()
    });
    let (code, results, _) = run_file(dir.path(), &workload(dir.path(), "set", addr, "2s"));
    assert!(
        history_events(dir.path(), "info") > 0,
        "the slow adds timed out as info"
    );
    assert_eq!(code, 0, "{results}");
}

#[test]
fn a_counter_that_loses_increments_reports_wrong_total() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs {
        lose_every: 20,
        ..Bugs::default()
    });
    let (code, results, _) = run_file(dir.path(), &workload(dir.path(), "counter", addr, "2s"));
    assert_eq!(code, 1);
    assert!(
        anomaly_types(&results, "counter").contains(&"wrong-total".to_owned()),
        "{results}"
    );
}

#[test]
fn a_correct_counter_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs::default());
    let (code, results, _) = run_file(dir.path(), &workload(dir.path(), "counter", addr, "2s"));
    assert_eq!(code, 0, "{results}");
}

#[test]
fn a_queue_that_loses_enqueues_reports_lost_after_the_drain() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs {
        lose_every: 50,
        ..Bugs::default()
    });
    let (code, results, _) = run_file(dir.path(), &workload(dir.path(), "queue", addr, "2s"));
    assert_eq!(code, 1);
    assert!(
        anomaly_types(&results, "queue").contains(&"lost".to_owned()),
        "{results}"
    );
}

#[test]
fn a_correct_queue_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs::default());
    let (code, results, _) = run_file(dir.path(), &workload(dir.path(), "queue", addr, "2s"));
    assert_eq!(code, 0, "{results}");
}

#[test]
fn an_id_service_that_repeats_ids_reports_duplicated() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs {
        duplicate_every: 40,
        ..Bugs::default()
    });
    let (code, results, _) = run_file(dir.path(), &workload(dir.path(), "unique-ids", addr, "2s"));
    assert_eq!(code, 1);
    assert!(
        anomaly_types(&results, "unique-ids").contains(&"duplicated".to_owned()),
        "{results}"
    );
}

#[test]
fn an_unreachable_target_exits_4_before_any_run_folder_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let wl = workload(dir.path(), "set", closed_port(), "2s");
    let out = dir.path().join("run");
    let output = splitbrain(&["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("failed to reach"), "{stderr}");
    assert!(!out.join("history.jsonl").exists());
}

#[test]
fn a_workload_with_a_typo_exits_3_naming_the_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let wl = workload(dir.path(), "set", closed_port(), "2s");
    let text = std::fs::read_to_string(&wl)
        .unwrap()
        .replace("concurrency = 8", "concurency = 8");
    std::fs::write(&wl, text).unwrap();
    for command in ["run", "validate"] {
        let output = splitbrain(&[command, wl.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{command}: {stderr}");
        assert!(
            stderr.contains("set.toml:4"),
            "{command} names file and line: {stderr}"
        );
        assert!(
            stderr.contains("concurency"),
            "{command} names the field: {stderr}"
        );
    }
}

/// Starts `splitbrain run` in the background, its output captured.
fn start_run(workload: &Path, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "run",
            workload.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start splitbrain")
}

/// Waits (at most 20 s) until the history file has `n` lines.
fn wait_for_lines(history: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(history).map_or(0, |t| t.lines().count()) < n {
        assert!(Instant::now() < deadline, "the run never wrote {n} events");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_killed_run_leaves_a_history_that_still_checks() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs::default());
    let wl = workload(dir.path(), "set", addr, "30s");
    let out = dir.path().join("run");
    let mut child = start_run(&wl, &out);
    let history = out.join("history.jsonl");
    wait_for_lines(&history, 500);
    child.kill().expect("SIGKILL splitbrain"); // std's kill is SIGKILL on Unix
    child.wait().expect("reap splitbrain");
    assert!(
        !out.join("results.json").exists(),
        "killed before it could check"
    );

    let results_dir = dir.path().join("recheck");
    let output = splitbrain(&[
        "check",
        history.to_str().unwrap(),
        "--out",
        results_dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(results_dir.join("results.json")).unwrap())
            .unwrap();
    assert!(
        results["checkers"]["set"]["counts"]["acknowledged"]
            .as_u64()
            .unwrap()
            > 100,
        "{results}"
    );
}

/// The workload with an Authorization header taken from `SB_E2E_TOKEN`.
fn workload_with_secret(dir: &Path, addr: SocketAddr) -> PathBuf {
    let path = workload(dir, "set", addr, "1s");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "preflight = \"/health\"",
        "preflight = \"/health\"\nheaders = { Authorization = \"Bearer ${SB_E2E_TOKEN}\" }",
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_header_secret_from_the_environment_never_reaches_the_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs::default());
    let wl = workload_with_secret(dir.path(), addr);
    let out = dir.path().join("run");
    let secret = "s3cr3t-token-value-4711";
    let output = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .env("SB_E2E_TOKEN", secret)
        .output()
        .expect("run splitbrain");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for entry in std::fs::read_dir(&out).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            !text.contains(secret),
            "{} holds the secret",
            path.display()
        );
    }
    let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert!(
        history.contains("${SB_E2E_TOKEN}"),
        "the header keeps the reference, not the value"
    );
    for stream in [&output.stdout, &output.stderr] {
        assert!(!String::from_utf8_lossy(stream).contains(secret));
    }
}

#[test]
fn a_missing_environment_variable_exits_3_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs::default());
    let wl = workload_with_secret(dir.path(), addr);
    let output = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "run",
            wl.to_str().unwrap(),
            "--out",
            dir.path().join("run").to_str().unwrap(),
        ])
        .env_remove("SB_E2E_TOKEN")
        .output()
        .expect("run splitbrain");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("SB_E2E_TOKEN") && stderr.contains("Authorization"),
        "{stderr}"
    );
}

#[test]
fn an_interrupted_run_finishes_its_operations_and_still_checks() {
    let dir = tempfile::tempdir().unwrap();
    let addr = start_toyset(Bugs::default());
    let wl = workload(dir.path(), "set", addr, "60s");
    let out = dir.path().join("run");
    let child = start_run(&wl, &out);
    let history = out.join("history.jsonl");
    wait_for_lines(&history, 300);
    let started = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("send SIGINT");
    assert!(kill.success());
    let output = child.wait_with_output().expect("splitbrain exits");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stopped promptly, not after 60 s"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(out.join("results.json").exists());
    let log = std::fs::read_to_string(out.join("run.log")).unwrap();
    assert!(log.contains("interrupt signal received"), "{log}");
    let text = std::fs::read_to_string(&history).unwrap();
    let invokes = text.matches("\"type\":\"invoke\"").count();
    let completions = text.lines().count() - 1 - invokes;
    assert_eq!(
        invokes, completions,
        "every operation in flight completed before exit"
    );
}

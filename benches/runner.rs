//! Runner throughput: `splitbrain`'s runner against a local no-op HTTP service (an axum server
//! on loopback answering 201 at once, on its own runtime thread) at concurrency 64 and no rate
//! limit, for BENCH_SECONDS (default 10). Then the recorder alone, from 64 tasks, to show how
//! far it is from being the bottleneck.
//!
//! `cargo bench --bench runner` (`BENCH_ONLY=runner` or `recorder` for one part, to profile)

use std::sync::Arc;
use std::time::Instant;

use splitbrain::client::{AnyClient, HttpClient};
use splitbrain::history::{EventKind, FORMAT_VERSION, Header, Name, Process, Value};
use splitbrain::runner::{self, Record, Recorder, RunLog};
use splitbrain::workload::Plan;

fn main() {
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let addr = start_noop_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    rt.block_on(async {
        if only != "recorder" {
            run_against(addr, seconds, dir.path()).await;
        }
        if only != "runner" {
            recorder_alone(dir.path()).await;
        }
    });
}

fn start_noop_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("server runtime");
        rt.block_on(async move {
            let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::CREATED });
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    addr
}

fn workload(addr: std::net::SocketAddr, seconds: u64) -> String {
    format!(
        r#"name = "bench"
seed = 1
time_limit = "{seconds}s"
concurrency = 64
rate = 0
[target]
base_url = "http://{addr}"
[phases]
quiet = "0s"
final_reads = 0
[model]
kind = "set"
mix = {{ add = 1.0, read = 0.0 }}
[model.ops.add]
method = "PUT"
path = "/items/{{{{value}}}}"
[model.ops.read]
method = "GET"
path = "/items"
records = ""
"#
    )
}

async fn run_against(addr: std::net::SocketAddr, seconds: u64, dir: &std::path::Path) {
    let path = dir.join("bench.toml");
    let plan = Plan::from_toml(&workload(addr, seconds), &path).expect("valid bench workload");
    let client = HttpClient::new(&plan, |_| None).expect("client");
    client.preflight().await.expect("no-op server reachable");
    let recorder =
        Arc::new(Recorder::create(&dir.join("history.jsonl"), &header()).expect("history"));
    let log = Arc::new(RunLog::create(&dir.join("run.log")).expect("log"));
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let start = Instant::now();
    let stats = runner::execute(
        &plan,
        AnyClient::Http(client),
        None,
        recorder.clone(),
        log,
        stop_rx,
    )
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    let (_, ok, fail, info) = recorder.counts.snapshot();
    let size = std::fs::metadata(dir.join("history.jsonl")).map_or(0, |m| m.len());
    println!(
        "runner   concurrency 64, no rate limit, {seconds} s: {} ops (ok {ok}, fail {fail}, info {info}) \
         = {:.0} ops/s, {} events, history {:.1} MB",
        ok + fail + info,
        (ok + fail + info) as f64 / elapsed,
        stats.events,
        size as f64 / 1e6
    );
}

/// The recorder with nothing else to do: 64 tasks each recording invoke/ok pairs.
async fn recorder_alone(dir: &std::path::Path) {
    let recorder =
        Arc::new(Recorder::create(&dir.join("alone.jsonl"), &header()).expect("history"));
    let per_task = 20_000u64;
    let start = Instant::now();
    let tasks: Vec<_> = (0..64u64)
        .map(|p| {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                let f: Name = "add".into();
                for i in 0..per_task {
                    for kind in [EventKind::Invoke, EventKind::Ok] {
                        recorder.record(Record {
                            process: Process::Client(p),
                            kind,
                            f: &f,
                            value: Value::Int((p * per_task + i) as i64),
                            error: None,
                        });
                    }
                    if i % 256 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("recording task");
    }
    recorder.sync();
    let elapsed = start.elapsed();
    let events = 64 * per_task * 2;
    println!(
        "recorder alone, 64 tasks: {events} events in {:.2} s = {:.0} events/s ({:.0} ops/s of capacity)",
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        events as f64 / 2.0 / elapsed.as_secs_f64()
    );
}

fn header() -> Header {
    Header {
        splitbrain_history: FORMAT_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        name: "bench".into(),
        model: "set".into(),
        model_options: Default::default(),
        seed: 1,
        started_at: "2026-01-01T00:00:00Z".into(),
        workload: String::new(),
    }
}

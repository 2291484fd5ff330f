//! What the end-to-end tests share: building the workspace's target services (toyset,
//! replicas) and starting them as real processes, running the real splitbrain binary, and
//! reading its history and results; and opening a file in headless Chromium (`browser`).
//! Each test file uses a part of it.
#![allow(dead_code)]

pub mod browser;
pub mod simulated;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Mutex;

use serde_json::Value;

/// The debug binary of workspace package `package`, built once per test process with a
/// nested `cargo build -p PACKAGE`.
pub fn workspace_bin(package: &str) -> PathBuf {
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut built = BUILT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !built.contains(package) {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", package])
            .current_dir(root)
            .status()
            .unwrap_or_else(|e| panic!("run cargo build -p {package}: {e}"));
        assert!(status.success(), "cargo build -p {package} failed");
        built.insert(package.to_owned());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), PathBuf::from);
    target.join("debug").join(package)
}

/// The replicas binary (targets/replicas).
pub fn replicas_bin() -> PathBuf {
    workspace_bin("replicas")
}

/// The toyset binary (targets/toyset).
pub fn toyset_bin() -> PathBuf {
    workspace_bin("toyset")
}

/// The project's Docker images, built once per test process by scripts/build-images.sh
/// (locally: nothing is pulled; a rerun with nothing changed is quick).
pub fn build_images() {
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = Command::new("bash")
            .arg(root.join("scripts/build-images.sh"))
            .current_dir(root)
            .status()
            .expect("run scripts/build-images.sh");
        assert!(status.success(), "scripts/build-images.sh failed");
    });
}

/// Builds only the images named (`scripts/build-images.sh NAME...`: netnode, shop, nats,
/// etcd), once per test binary.
pub fn build_images_named(names: &[&str]) {
    static BUILD: std::sync::Once = std::sync::Once::new();
    BUILD.call_once(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = Command::new("bash")
            .arg(root.join("scripts/build-images.sh"))
            .args(names)
            .current_dir(root)
            .status()
            .expect("run scripts/build-images.sh");
        assert!(status.success(), "scripts/build-images.sh {names:?} failed");
    });
}

/// Runs the docker CLI (test set-up and checks; splitbrain itself uses the API).
pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

/// The text of `workloads/FILE`, a workload that starts toyset as a process node from
/// `target/release/toyset` on 127.0.0.1:8080, with the debug binary and `port` in their place.
pub fn toyset_workload(file: &str, port: u16) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("workloads")
        .join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        text.contains("\"target/release/toyset\"") && text.contains("127.0.0.1:8080"),
        "{file} starts no toyset node on 127.0.0.1:8080"
    );
    let bin = toyset_bin();
    text.replace("target/release/toyset", bin.to_str().expect("a UTF-8 path"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Runs the real splitbrain binary with `args`.
pub fn splitbrain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(args)
        .output()
        .expect("run splitbrain")
}

/// The events of the run folder `out`'s history.jsonl so far (the header left out; nothing
/// if the file is not there yet, so a test can poll a run in progress).
pub fn history(out: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(out.join("history.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e.get("type").is_some())
        .collect()
}

/// A replicas process, killed on drop, and the address it bound.
pub struct Service {
    child: Child,
    pub url: String,
}

impl Service {
    /// Starts `replicas ROLE --listen 127.0.0.1:0 ARGS…` and reads the bound address from its
    /// startup line.
    pub fn start(role: &str, args: &[&str]) -> Service {
        let mut child = Command::new(replicas_bin())
            .args([role, "--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("REPLICAS_BUGS")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start replicas");
        let mut line = String::new();
        BufReader::new(child.stderr.take().expect("piped stderr"))
            .read_line(&mut line)
            .expect("a startup line");
        let addr = line
            .split_whitespace()
            .find(|w| w.starts_with("127.0.0.1:"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches([',', ';']);
        Service {
            child,
            url: format!("http://{addr}"),
        }
    }

    /// The JSON body of `GET path` (through curl).
    pub fn get(&self, path: &str) -> Value {
        let out = Command::new("curl")
            .args(["-sf", &format!("{}{path}", self.url)])
            .output()
            .expect("run curl");
        serde_json::from_slice(&out.stdout).expect("a JSON body")
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `text` as a workload into `dir/run`; see [`run_file`].
pub fn run(dir: &Path, text: &str) -> (i32, Value, Output) {
    let workload = dir.join("workload.toml");
    std::fs::write(&workload, text).expect("write the workload");
    run_file(dir, &workload)
}

/// Runs the workload file `workload` into `dir/run`; returns the exit code, results.json
/// and the output. A run that leaves no results.json fails the test, with splitbrain's
/// stderr.
pub fn run_file(dir: &Path, workload: &Path) -> (i32, Value, Output) {
    let out = dir.join("run");
    let output = splitbrain(&[
        "run",
        workload.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let results = std::fs::read_to_string(out.join("results.json")).unwrap_or_else(|e| {
        panic!(
            "no results.json ({e}); stderr:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let results: Value = serde_json::from_str(&results).expect("results.json is JSON");
    (output.status.code().expect("exit code"), results, output)
}

/// The anomalies of `kind` across every checker.
pub fn anomalies(results: &Value, kind: &str) -> Vec<Value> {
    results["checkers"]
        .as_object()
        .expect("checkers is a map")
        .values()
        .flat_map(|c| c["anomalies"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["type"] == kind)
        .collect()
}

/// Removes everything of the `[deploy]` deployment on `network` (containers, volumes, the
/// network), found by its label, when dropped: create one before a deployed run (it removes a
/// failed test's leftovers at once) and keep it until the end.
pub struct Deployment(pub String);

impl Deployment {
    pub fn cleaned(network: &str) -> Deployment {
        drop(Deployment(network.to_owned()));
        Deployment(network.to_owned())
    }

    /// What of it is still there: container, volume and network ids.
    pub fn left(&self) -> Vec<String> {
        let label = format!("label=io.splitbrain.deploy={}", self.0);
        let mut left = Vec::new();
        for args in [
            vec!["ps", "-a", "-q", "--filter", &label],
            vec!["volume", "ls", "-q", "--filter", &label],
            vec!["network", "ls", "-q", "--filter", &label],
        ] {
            let out = docker(&args);
            left.extend(
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .map(str::to_owned),
            );
        }
        left
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        let label = format!("label=io.splitbrain.deploy={}", self.0);
        let ids = docker(&["ps", "-a", "-q", "--filter", &label]);
        for id in String::from_utf8_lossy(&ids.stdout).lines() {
            docker(&["rm", "-f", id]);
        }
        let volumes = docker(&["volume", "ls", "-q", "--filter", &label]);
        for id in String::from_utf8_lossy(&volumes.stdout).lines() {
            docker(&["volume", "rm", id]);
        }
        docker(&["network", "rm", &self.0]);
    }
}

/// `../shared/corpus/PART`, or `None` (saying loudly that `what` is NOT checked) when the
/// peer corpus is absent.
pub fn corpus(part: &str, what: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(part);
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!(
        "SKIPPED: no corpus at {}; {what} NOT checked",
        dir.display()
    );
    None
}

/// `splitbrain check HISTORY ARGS... --out DIR/out`: the exit code, results.json (`null` when
/// none was written) and the output.
pub fn check(dir: &Path, history: &Path, args: &[&str]) -> (i32, Value, Output) {
    let out = dir.join("out");
    let mut all = vec!["check", history.to_str().unwrap()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let output = splitbrain(&all);
    let results = std::fs::read_to_string(out.join("results.json"))
        .map(|text| serde_json::from_str(&text).expect("results.json is JSON"))
        .unwrap_or(Value::Null);
    (output.status.code().expect("exit code"), results, output)
}

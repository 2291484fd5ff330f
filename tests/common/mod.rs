//! What the end-to-end tests against targets/replicas share: building and starting the
//! replicas binary as real processes, running the real splitbrain binary on a workload, and
//! reading its results.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;

use serde_json::Value;

/// The replicas binary, built once per test process with a nested `cargo build -p replicas`.
pub fn replicas_bin() -> PathBuf {
    static BUILD: Once = Once::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    BUILD.call_once(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "replicas"])
            .current_dir(root)
            .status()
            .expect("run cargo build -p replicas");
        assert!(status.success(), "cargo build -p replicas failed");
    });
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(root.join("target"), PathBuf::from);
    target.join("debug/replicas")
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

/// Runs `text` as a workload; returns the exit code, results.json and the output.
pub fn run(dir: &Path, text: &str) -> (i32, Value, Output) {
    let workload = dir.join("workload.toml");
    std::fs::write(&workload, text).expect("write the workload");
    let out = dir.join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["run", workload.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .expect("run splitbrain");
    let results = std::fs::read_to_string(out.join("results.json"))
        .map(|t| serde_json::from_str(&t).expect("results.json is JSON"))
        .unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), results, output)
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

//! workloads/etcd-register.toml and etcd-register-local-reads.toml end to end: splitbrain
//! deploys a 3-member etcd 3.4 cluster (Debian's etcd-server in a local image), reads, writes
//! and compare-and-sets one register over the v2 HTTP API under faults, and checks the
//! history for linearizability. Quorum reads are valid under partitions, pauses and kills;
//! local reads from a member cut off from the others are not. Each run is 20 s of ops on its
//! own network `sbt-etcd-*`.

mod common;

use std::path::Path;

use common::{Deployment, anomalies, build_images_named, docker, history, run_file};
use serde_json::Value;

/// Runs `workloads/FILE` on network `sbt-etcd-CASE`; returns the exit code, results.json,
/// the history and stdout.
fn run_etcd(file: &str, case: &str) -> (i32, Value, Vec<Value>, String) {
    build_images_named(&["etcd"]);
    let network = format!("sbt-etcd-{case}");
    let _deployment = Deployment::cleaned(&network);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("workloads").join(file)).unwrap();
    assert!(text.contains("[deploy]\n"), "{file} has no [deploy]");
    let text = text.replacen(
        "[deploy]\n",
        &format!("[deploy]\nnetwork = \"{network}\"\n"),
        1,
    );
    let dir = tempfile::tempdir().unwrap();
    let workload = dir.path().join(file);
    std::fs::write(&workload, text).unwrap();
    let (code, results, output) = run_file(dir.path(), &workload);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let left = docker(&["network", "inspect", &network]);
    assert!(!left.status.success(), "network {network} was left behind");
    (code, results, history(&dir.path().join("run")), stdout)
}

/// How many client ops named `f` completed as `kind`.
fn count(history: &[Value], f: &str, kind: &str) -> usize {
    history
        .iter()
        .filter(|e| e["f"] == f && e["type"] == kind && e["process"] != "nemesis")
        .count()
}

#[test]
fn etcd_with_quorum_reads_is_linearizable_under_partitions_pauses_and_kills() {
    let (code, results, history, stdout) = run_etcd("etcd-register.toml", "quorum");
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(results["valid"], true, "{stdout}");
    let checker = &results["checkers"]["cas-register"];
    assert_eq!(checker["valid"], true, "{checker}");
    // Three independent registers, recorded as [key value] and each checked on its own.
    assert_eq!(checker["counts"]["keys"], 3, "{checker}");
    assert_eq!(checker["counts"]["keys-linearizable"], 3, "{checker}");
    // A real workload: reads of values (not only of nil), writes, swaps, and compares that
    // failed (etcd's 412), each counted in the history.
    let reads = count(&history, "read", "ok");
    let valued_reads = history
        .iter()
        .filter(|e| e["f"] == "read" && e["type"] == "ok" && e["value"][1].is_i64())
        .count();
    let (writes, swaps, refused) = (
        count(&history, "write", "ok"),
        count(&history, "cas", "ok"),
        count(&history, "cas", "fail"),
    );
    assert!(
        reads >= 50 && valued_reads >= 25,
        "{reads} ok reads, {valued_reads} with a value"
    );
    assert!(writes >= 25, "{writes} ok writes");
    assert!(
        swaps >= 5 && refused >= 10,
        "{swaps} ok cas, {refused} failed cas"
    );
    let starts = history
        .iter()
        .filter(|e| e["process"] == "nemesis" && e["type"] == "invoke")
        .filter_map(|e| e["f"].as_str())
        .filter(|f| f.starts_with("start-"))
        .collect::<Vec<_>>();
    assert_eq!(
        starts,
        ["start-partition", "start-pause", "start-kill"],
        "{stdout}"
    );
}

#[test]
fn etcd_local_reads_from_an_isolated_member_are_nonlinearizable() {
    let (code, results, history, stdout) =
        run_etcd("etcd-register-local-reads.toml", "local-reads");
    assert_eq!(code, 1, "{stdout}");
    assert_eq!(results["valid"], false, "{stdout}");
    let found = anomalies(&results, "nonlinearizable");
    assert_eq!(found.len(), 1, "{results}");
    // The witness: a read that no order of the ops before it explains, during the partition.
    let witness = &found[0];
    let index = witness["details"]["blocked"]["invoke"]
        .as_u64()
        .expect("the blocked op's invocation");
    let in_ops = witness["ops"].as_array().expect("witness ops");
    assert!(in_ops.iter().any(|i| i == index), "{witness}");
    let op = history
        .iter()
        .find(|e| e["index"] == index)
        .expect("the witness op is in the history");
    assert_eq!(op["f"], "read", "{witness}");
    assert!(
        witness["faults"].to_string().contains("etcd1"),
        "the isolation of etcd1 is named: {witness}"
    );
    assert!(stdout.contains("nonlinearizable"), "{stdout}");
}

//! workloads/shop.toml, the demo, end to end: splitbrain deploys the shop (targets/shop) and
//! NATS from the locally built images, places orders under partitions, kills and pauses,
//! converges and checks the relations. The correct shop is valid; with a bug switch on, the
//! anomaly the switch is documented to cause is reported. The runs keep the workload's fault
//! timeline (30 s) and wait 20 s rather than 60 s for a buggy shop to converge, which it never
//! does; each runs on its own network `sbt-shop-*`.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Deployment, anomalies, build_images, docker};
use serde_json::Value;

/// Runs workloads/shop.toml, on network `sbt-shop-CASE`, with `SHOP_BUGS=bugs`;
/// returns the exit code, results.json and stdout.
fn run_shop(case: &str, bugs: &str, converge: &str) -> (i32, Value, String) {
    build_images();
    let network = format!("sbt-shop-{case}");
    let _deployment = Deployment::cleaned(&network);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("workloads/shop.toml")).unwrap();
    let replace = |text: String, old: &str, new: &str| {
        assert!(text.contains(old), "workloads/shop.toml has no {old:?}");
        text.replacen(old, new, 1)
    };
    let text = replace(
        text,
        "converge_timeout = \"60s\"",
        &format!("converge_timeout = \"{converge}\""),
    );
    let text = replace(
        text,
        "[deploy]\n",
        &format!("[deploy]\nnetwork = \"{network}\"\n"),
    );
    let dir = tempfile::tempdir().unwrap();
    let workload = dir.path().join("shop.toml");
    std::fs::write(&workload, text).unwrap();
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "run",
            workload.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .env("SHOP_BUGS", bugs)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let results = std::fs::read_to_string(out.join("results.json")).unwrap_or_else(|e| {
        panic!(
            "no results.json ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    // The deployment is gone once the run returns.
    let left = docker(&["network", "inspect", &network]);
    assert!(!left.status.success(), "network {network} was left behind");
    (
        output.status.code().unwrap(),
        serde_json::from_str(&results).unwrap(),
        stdout,
    )
}

/// The checker named `name` in results.json.
fn checker<'a>(results: &'a Value, name: &str) -> &'a Value {
    let checker = &results["checkers"][name];
    assert!(
        !checker.is_null(),
        "no checker {name}: {:?}",
        results["checkers"]
            .as_object()
            .map(|c| c.keys().collect::<Vec<_>>())
    );
    checker
}

#[test]
fn the_correct_shop_is_valid_under_faults_and_converges() {
    let (code, results, stdout) = run_shop("clean", "", "60s");
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(results["valid"], true);
    assert_eq!(results["convergence"]["converged"], true, "{stdout}");
    assert!(stdout.contains("converged after"), "{stdout}");
}

#[test]
fn racy_stock_oversells_wrong_total_and_negative() {
    let (code, results, stdout) = run_shop("racy", "racy-stock", "20s");
    assert_eq!(code, 1, "{stdout}");
    let found = anomalies(&results, "wrong-total").len() + anomalies(&results, "negative").len();
    assert!(found > 0, "{stdout}");
    // Only stock is wrong: every order still settles and is paid once.
    assert!(anomalies(&results, "duplicated").is_empty(), "{stdout}");
    assert!(anomalies(&results, "lost").is_empty(), "{stdout}");
}

#[test]
fn no_compensation_leaves_stock_reserved_once_settled() {
    let (code, results, stdout) = run_shop("nocomp", "no-compensation", "20s");
    assert_eq!(code, 1, "{stdout}");
    // The sum of every column still holds; available + sold once settled does not.
    assert_eq!(
        checker(&results, "conserved(stock.available+reserved+sold)")["valid"],
        true,
        "{stdout}"
    );
    let settled = checker(&results, "conserved(stock.available+sold, settled)");
    assert_eq!(settled["valid"], false, "{stdout}");
    assert_eq!(settled["anomalies"][0]["type"], "wrong-total", "{stdout}");
}

#[test]
fn no_inbox_charges_redelivered_orders_twice() {
    let (code, results, stdout) = run_shop("noinbox", "no-inbox", "20s");
    assert_eq!(code, 1, "{stdout}");
    let unique = checker(&results, "unique(payments.order_id)");
    assert_eq!(unique["valid"], false, "{stdout}");
    assert_eq!(unique["anomalies"][0]["type"], "duplicated", "{stdout}");
}

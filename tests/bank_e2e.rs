//! The bank end to end: the real `splitbrain` binary runs workloads/replicas-bank.toml against
//! a real targets/replicas primary over HTTP, correct and with each bank bug switch, and the
//! bank checker must pass the one and name the anomaly of each other.

mod common;

use serde_json::Value;

use common::{Service, anomalies, run};

/// workloads/replicas-bank.toml against `primary`, 2 s long, with `total` as the bank's total,
/// at 1000 ops/s: at the example's 200, ops rarely overlap, and a read must overlap a transfer
/// to see it half done.
fn bank_workload(primary: &Service, total: i64) -> String {
    let text = include_str!("../workloads/replicas-bank.toml");
    let replace = |text: String, old: &str, new: &str| {
        assert!(text.contains(old), "replicas-bank.toml has no {old:?}");
        text.replacen(old, new, 1)
    };
    let text = replace(text.to_owned(), "http://127.0.0.1:8090", &primary.url);
    let text = replace(text, "time_limit = \"10s\"", "time_limit = \"2s\"");
    let text = replace(text, "quiet = \"1s\"", "quiet = \"0s\"");
    let text = replace(text, "rate = 200", "rate = 1000");
    replace(text, "total = 500", &format!("total = {total}"))
}

/// The sum of the balances in `GET /accounts`.
fn money(primary: &Service) -> i64 {
    primary.get("/accounts")["accounts"]
        .as_array()
        .expect("accounts is a list")
        .iter()
        .map(|a| a["balance"].as_i64().expect("an integer balance"))
        .sum()
}

fn count(bank: &Value, name: &str) -> u64 {
    bank["counts"][name].as_u64().unwrap_or(0)
}

#[test]
fn a_correct_bank_is_valid_with_reads_and_ok_transfers() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &[]);
    let (code, results, output) = run(dir.path(), &bank_workload(&primary, 500));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 0, "{stdout}\n{results:#}");
    let bank = &results["checkers"]["bank"];
    assert_eq!(bank["valid"], true, "{bank:#}");
    assert!(count(bank, "reads") > 0, "{bank:#}");
    assert!(count(bank, "ok-transfers") > 0, "{bank:#}");
    assert_eq!(count(bank, "bad-reads"), 0, "{bank:#}");
    assert_eq!(money(&primary), 500);
}

#[test]
fn a_racy_transfer_is_a_wrong_total_read_summing_to_less_than_500() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &["--bugs", "racy-transfer"]);
    let (code, results, output) = run(dir.path(), &bank_workload(&primary, 500));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 1, "{stdout}\n{results:#}");
    let wrong = anomalies(&results, "wrong-total");
    assert!(!wrong.is_empty(), "{results:#}");
    for anomaly in &wrong {
        let details = &anomaly["details"];
        let sum = details["sum"].as_i64().expect("a sum");
        // Money in flight is in no account: a read sees less, never more.
        assert!(sum < 500, "{details}");
        assert_eq!(details["total"], 500, "{details}");
        let listed: i64 = details["balances"]
            .as_object()
            .expect("balances by account")
            .values()
            .map(|b| b.as_i64().expect("an integer balance"))
            .sum();
        assert_eq!(listed, sum, "{details}");
    }
    assert!(stdout.contains("wrong-total"), "{stdout}");
    // Every transfer credits in the end: the race hides money only while it runs.
    assert_eq!(money(&primary), 500);
}

#[test]
fn transfers_without_a_funds_check_are_negative_naming_the_overdrawn_account() {
    let dir = tempfile::tempdir().unwrap();
    let primary = Service::start("primary", &["--balance", "3", "--bugs", "no-funds-check"]);
    let (code, results, output) = run(dir.path(), &bank_workload(&primary, 15));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(code, 1, "{stdout}\n{results:#}");
    let negative = anomalies(&results, "negative");
    assert!(!negative.is_empty(), "{results:#}");
    for anomaly in &negative {
        let named = anomaly["details"]["negative"]
            .as_object()
            .expect("negative balances by account");
        assert!(!named.is_empty(), "{anomaly:#}");
        for (account, balance) in named {
            assert!(
                ["0", "1", "2", "3", "4"].contains(&account.as_str()),
                "{account}"
            );
            assert!(balance.as_i64().expect("an integer") < 0, "{anomaly:#}");
            assert!(
                anomaly["explanation"]
                    .as_str()
                    .is_some_and(|e| e.contains(&format!("{account} {balance}"))),
                "{anomaly:#}"
            );
        }
    }
    // Overdrafts move money too; they do not create or destroy it.
    assert!(anomalies(&results, "wrong-total").is_empty(), "{results:#}");
    assert_eq!(money(&primary), 15);
}

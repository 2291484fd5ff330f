//! `splitbrain check` on Jepsen's, Knossos', elle-cli's and Porcupine's histories for
//! linearizability, one per format, from the peer corpus in `../shared/corpus/` (skipped,
//! loudly, when it is absent); the semantics and bound flags, their refusals, the options a
//! history's header records, and `splitbrain report` on a check's folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};

use common::{anomalies, check, splitbrain};

fn corpus(what: &str) -> Option<PathBuf> {
    common::corpus("linearizability", what)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_nonlinearizable_etcd_log_exits_1_with_its_witness() {
    let Some(corpus) = corpus("the etcd log's verdict") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = corpus.join("etcd-jepsen/etcd_000.log");
    let (code, results, output) = check(dir.path(), &log, &["--model", "cas-register"]);
    assert_eq!(code, 1, "{}", stderr(&output));
    let found = anomalies(&results, "nonlinearizable");
    assert_eq!(found.len(), 1, "{results}");
    assert!(!found[0]["ops"].as_array().unwrap().is_empty(), "{results}");
    let stats = &results["checkers"]["cas-register"]["stats"];
    assert_eq!(stats["model"], "cas-register");

    // report.html renders from the check's folder and the history kept elsewhere.
    let out = dir.path().join("out");
    std::fs::remove_file(out.join("report.html")).unwrap();
    let output = splitbrain(&[
        "report",
        out.to_str().unwrap(),
        "--history",
        log.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(out.join("report.html").is_file());
}

#[test]
fn a_linearizable_etcd_log_and_its_raw_console_log_exit_0() {
    let Some(corpus) = corpus("the etcd log's verdict") else {
        return;
    };
    for log in ["etcd-jepsen/etcd_002.log", "etcd-jepsen-raw/etcd_002.log"] {
        let dir = tempfile::tempdir().unwrap();
        let args = ["--model", "cas-register", "--semantics", "porcupine"];
        let (code, results, output) = check(dir.path(), &corpus.join(log), &args);
        assert_eq!(code, 0, "{log}: {}", stderr(&output));
        assert_eq!(results["valid"], true, "{log}");
        assert_eq!(results["checkers"]["cas-register"]["counts"]["ops"], 77);
    }
}

#[test]
fn knossos_histories_need_knossos_semantics_from_0() {
    let Some(corpus) = corpus("the Knossos verdicts") else {
        return;
    };
    let knossos = [
        "--model",
        "cas-register",
        "--semantics",
        "knossos",
        "--init",
        "0",
    ];
    let cases = [
        ("knossos/cas-register/bad/rethink-fail-minimal.edn", 1),
        ("knossos/cas-register/good/cas-register-bug.edn", 0),
        // elle-cli's JSON form of a Knossos history.
        (
            "elle-cli-json/knossos/cas-register/good/memstress3-9.json",
            0,
        ),
    ];
    for (file, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (code, results, output) = check(dir.path(), &corpus.join(file), &knossos);
        assert_eq!(code, expected, "{file}: {}", stderr(&output));
        if expected == 1 {
            assert_eq!(anomalies(&results, "nonlinearizable").len(), 1, "{file}");
        }
    }
}

#[test]
fn porcupine_kv_logs_are_checked_per_key() {
    let Some(corpus) = corpus("the kv verdicts") else {
        return;
    };
    for (file, expected) in [("kv-append/c01-ok.txt", 0), ("kv-append/c01-bad.txt", 1)] {
        let dir = tempfile::tempdir().unwrap();
        let args = ["--model", "kv", "--time-limit", "30s"];
        let (code, results, output) = check(dir.path(), &corpus.join(file), &args);
        assert_eq!(code, expected, "{file}: {}", stderr(&output));
        let counts = &results["checkers"]["kv"]["counts"];
        assert!(counts["keys"].as_u64().unwrap() > 1, "{file}: {counts}");
        if expected == 1 {
            let found = anomalies(&results, "nonlinearizable");
            assert!(
                found[0]["explanation"]
                    .as_str()
                    .unwrap()
                    .starts_with("on key")
            );
        }
    }
}

/// Writes `text` to `dir/name`.
fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn options_that_do_not_fit_the_model_exit_3_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let history = write(
        dir.path(),
        "h.edn",
        "{:process 0, :type :invoke, :f :read, :value nil}\n\
         {:process 0, :type :ok, :f :read, :value 0}\n",
    );
    let cases: [(&[&str], &str); 5] = [
        (&["--model", "set", "--semantics", "knossos"], "not to set"),
        (
            &["--model", "counter", "--time-limit", "1s"],
            "not to counter",
        ),
        (
            &["--model", "cas-register", "--init", "0"],
            "--semantics knossos",
        ),
        (
            &["--model", "kv", "--semantics", "porcupine"],
            "kv has one semantics",
        ),
        (
            &["--model", "register", "--semantics", "linear"],
            "porcupine or knossos",
        ),
    ];
    for (args, expected) in cases {
        let (code, _, output) = check(dir.path(), &history, args);
        assert_eq!(code, 3, "{args:?}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    let output = splitbrain(&["check", "--help"]);
    let help = String::from_utf8_lossy(&output.stdout);
    for word in [
        "--semantics",
        "knossos",
        "porcupine",
        "--init",
        "--time-limit",
        "--memo-limit",
    ] {
        assert!(help.contains(word), "--help lacks {word}: {help}");
    }
}

#[test]
fn a_bad_log_line_exits_3_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "etcd.log",
        "INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
         INFO  jepsen.util - 1\t:ok\t:read\t[1 2\n",
    );
    let (code, _, output) = check(dir.path(), &log, &["--model", "cas-register"]);
    assert_eq!(code, 3);
    let message = stderr(&output);
    assert!(message.contains("etcd.log: line 2"), "{message}");
    assert!(message.contains("expected an EDN value"), "{message}");
}

/// `n` writes on key `slow` that never completed, then a read of a value none wrote: deciding
/// it means trying every subset of the writes (the library's `slow_history`).
fn slow_history(n: u64) -> String {
    let mut text = String::new();
    for p in 0..n {
        text += &format!("{{:process {p}, :type :invoke, :f :write, :value [:slow {p}]}}\n");
    }
    text += &format!("{{:process {n}, :type :invoke, :f :read, :value [:slow nil]}}\n");
    text += &format!("{{:process {n}, :type :ok, :f :read, :value [:slow -1]}}\n");
    text
}

#[test]
fn a_key_past_the_time_limit_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let history = write(dir.path(), "slow.edn", &slow_history(24));
    let args = ["--model", "register", "--time-limit", "100ms"];
    let (code, results, output) = check(dir.path(), &history, &args);
    assert_eq!(code, 2, "{}", stderr(&output));
    let checker = &results["checkers"]["register"];
    assert_eq!(checker["valid"], "unknown");
    let unknown = &checker["stats"]["unknown-keys"][0];
    assert_eq!(unknown["key"], "slow", "{checker}");
    assert!(unknown["reason"].as_str().unwrap().contains("time bound"));

    let args = ["--model", "register", "--memo-limit", "1000"];
    let (code, results, _) = check(dir.path(), &history, &args);
    assert_eq!(code, 2);
    let reason = &results["checkers"]["register"]["stats"]["unknown-keys"][0]["reason"];
    assert!(
        reason.as_str().unwrap().contains("memory bound"),
        "{reason}"
    );
}

/// A splitbrain history whose header names a linearizability model and its options.
fn header_history(dir: &Path, model_options: Value) -> PathBuf {
    let header = json!({
        "splitbrain_history": 1,
        "version": "0.1.0",
        "name": "register",
        "model": "cas-register",
        "model_options": model_options,
        "seed": 1,
        "started_at": "2026-01-01T00:00:00Z",
        "workload": "",
    });
    // A first read of 0: fine from 0 (Knossos, init 0), not from nil (Porcupine).
    let events = [
        json!({"index": 0, "time": 0, "process": 0, "type": "invoke", "f": "read", "value": null}),
        json!({"index": 1, "time": 1, "process": 0, "type": "ok", "f": "read", "value": 0}),
    ];
    let lines: Vec<String> = std::iter::once(header)
        .chain(events)
        .map(|v| v.to_string())
        .collect();
    write(dir, "history.jsonl", &(lines.join("\n") + "\n"))
}

#[test]
fn a_recheck_judges_with_the_options_the_header_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        json!({"semantics": "knossos", "init": 0, "time_limit": "5s", "memo_limit": 1000});
    let history = header_history(dir.path(), options);
    let (code, _, output) = check(dir.path(), &history, &[]);
    assert_eq!(code, 0, "{}", stderr(&output));
    // The command line wins over the header.
    let (code, _, _) = check(dir.path(), &history, &["--semantics", "porcupine"]);
    assert_eq!(code, 1);

    let bad = header_history(dir.path(), json!({"semantics": "elle"}));
    let (code, _, output) = check(dir.path(), &bad, &[]);
    assert_eq!(code, 3);
    let message = stderr(&output);
    assert!(message.contains("model_options.semantics"), "{message}");
}

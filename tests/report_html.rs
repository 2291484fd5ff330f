//! End to end: the real `splitbrain` binary turns a recorded history with anomalies and a
//! partition into `report.html` (through `check --out` and `report RUN_DIR`), and the page
//! holds the verdict, the anomaly with its witnesses, the timeline, the charts, each checker
//! and the run, with everything from the system under test escaped.

mod common;

use std::io::BufWriter;
use std::path::Path;

use common::splitbrain;
use splitbrain::history::{
    Event, EventKind, FORMAT_VERSION, Header, HistoryWriter, Process, Value,
};

const XSS: &str = "<img src=x onerror=alert(1)>";

/// A set run of 300 ops on 4 workers: element 17 vanishes from the reads after a partition
/// starts, and the last read returns a value nobody added (markup).
fn write_history(path: &Path) {
    let header = Header {
        splitbrain_history: FORMAT_VERSION,
        version: env!("CARGO_PKG_VERSION").into(),
        name: "report-e2e".into(),
        model: "set".into(),
        model_options: serde_json::Map::new(),
        seed: 42,
        started_at: "2026-11-30T09:00:00Z".into(),
        workload: "name = \"report-e2e\"\n".into(),
    };
    let file = std::fs::File::create(path).expect("create history.jsonl");
    let mut w = HistoryWriter::new(BufWriter::new(file), &header).expect("header");
    let mut index = 0;
    let mut push = |time: u64, process: Process, kind: EventKind, f: &str, value: Value| {
        let event = Event {
            index,
            time,
            process,
            kind,
            f: f.into(),
            value,
            node: matches!(process, Process::Client(_)).then(|| "orders-1".into()),
            error: (kind == EventKind::Info).then(|| "timeout after 2s".to_owned()),
        };
        w.append(&event).expect("append");
        index += 1;
    };
    let mut added: Vec<i64> = Vec::new();
    let ms = 1_000_000;
    for k in 0..300u64 {
        let t = k * 20 * ms;
        let p = Process::Client(k % 4);
        if k == 100 {
            let cut = serde_json::json!({"nodes": [["orders-1"], ["orders-2", "orders-3"]]});
            let cut = Value::from_json(&cut);
            push(t, Process::Nemesis, EventKind::Info, "start-partition", cut);
        }
        if k == 200 {
            push(
                t,
                Process::Nemesis,
                EventKind::Info,
                "stop-partition",
                Value::Nil,
            );
        }
        if k % 4 == 3 {
            push(t, p, EventKind::Invoke, "read", Value::Nil);
            let mut seen: Vec<Value> = added
                .iter()
                .filter(|&&e| k < 110 || e != 17)
                .map(|&e| Value::Int(e))
                .collect();
            if k == 299 {
                seen.push(XSS.into());
            }
            push(t + 5 * ms, p, EventKind::Ok, "read", Value::list(seen));
        } else {
            let e = k as i64;
            push(t, p, EventKind::Invoke, "add", Value::Int(e));
            let kind = if k % 37 == 5 {
                EventKind::Info
            } else {
                EventKind::Ok
            };
            push(t + 7 * ms, p, kind, "add", Value::Int(e));
            added.push(e);
        }
    }
    w.sync().expect("sync");
}

fn assert_report(html: &str) {
    for id in [
        "verdict",
        "anomalies",
        "timeline",
        "charts",
        "checkers",
        "run",
        "data",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} is missing"
        );
    }
    assert!(html.contains("class=\"verdict invalid\""));
    assert!(html.contains("Anomalies found"));
    assert!(
        html.contains("element 17 was added"),
        "the lost explanation"
    );
    assert!(
        html.contains("partition [orders-1] | [orders-2 orders-3]"),
        "the fault"
    );
    assert!(html.contains("data-anomaly=\"0\""), "the focus link");
    assert!(html.contains("<table class=\"ops\">"), "the witness table");
    assert!(html.contains("report-e2e"));
    assert!(html.contains("Content-Security-Policy"));
    assert!(
        !html.to_lowercase().contains("<img"),
        "markup from the history is escaped"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
}

#[test]
fn check_writes_a_report_with_every_section() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let history = dir.path().join("history.jsonl");
    write_history(&history);
    let out = dir.path().join("out");
    let run = splitbrain(&[
        "check",
        history.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(stdout.contains("report: "), "{stdout}");
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert_report(&html);
    assert!(html.contains("splitbrain report "), "how to re-render it");

    // The check folder holds no history: `report --history` names it.
    std::fs::remove_file(out.join("report.html")).expect("remove");
    let out_arg = out.to_str().unwrap();
    let without = splitbrain(&["report", out_arg]);
    assert_eq!(without.status.code(), Some(3), "{without:?}");
    let with = splitbrain(&["report", out_arg, "--history", history.to_str().unwrap()]);
    assert_eq!(with.status.code(), Some(1), "{with:?}");
    assert_report(&std::fs::read_to_string(out.join("report.html")).expect("report.html"));
}

#[test]
fn report_re_renders_a_run_folder_and_checks_one_without_results() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write_history(&dir.path().join("history.jsonl"));
    std::fs::write(
        dir.path().join("workload.toml"),
        format!("# {XSS}\nname = \"report-e2e\"\n"),
    )
    .expect("workload.toml");
    let dir_arg = dir.path().to_str().unwrap();
    let first = splitbrain(&["report", dir_arg]);
    assert_eq!(first.status.code(), Some(1), "{first:?}");
    assert!(dir.path().join("results.json").is_file(), "checked first");
    let html = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
    assert_report(&html);
    assert!(
        html.contains("# &lt;img src=x"),
        "the folder's workload.toml is shown"
    );

    std::fs::remove_file(dir.path().join("report.html")).expect("remove");
    let again = splitbrain(&["report", dir_arg]);
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    let html2 = std::fs::read_to_string(dir.path().join("report.html")).expect("report.html");
    assert_eq!(html, html2, "rendering is deterministic");
}

#[test]
fn report_of_a_folder_without_a_history_is_bad_input() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let out = splitbrain(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no history.jsonl"));
}

//! report.html in a real browser (Debian's headless Chromium, through tests/common/browser.rs):
//! the report of a real run with anomalies and faults opens with no console error, no
//! exception and no network request, shows the verdict, the anomaly table and a drawn
//! timeline, and focusing an anomaly on the timeline works; a value from the system under
//! test that is markup stays text. The screenshot is saved into the run folder.

mod common;

use std::path::Path;
use std::process::Command;

use common::{browser, free_port, toyset_bin};
use serde_json::Value;

/// A toyset node that acknowledges one add in 20 without keeping it, paused now and then by
/// the nemesis: lost elements, with faults around them.
fn workload(port: u16) -> String {
    format!(
        r#"
name = "report-browser"
seed = 7
time_limit = "6s"
concurrency = 16
rate = 100

[target]
base_url = "http://127.0.0.1:{port}"
preflight = "/health"

[[nodes]]
name = "toyset-1"
command = ["{toyset}", "--listen", "127.0.0.1:{port}"]

[nemesis]
faults = ["pause"]
target = "all"
interval = "1s"
duration = "1s"

[model]
kind = "set"
mix = {{ add = 0.9, read = 0.1 }}

[model.ops.add]
method = "PUT"
path = "/v1/items/{{{{value}}}}"
body = '{{"data": {{"n": {{{{value}}}}}}}}'
ok = [200, 201]
timeout = "500ms"

[model.ops.read]
method = "GET"
path = "/v1/items"
records = "/data"
element = "/n"
timeout = "1s"

[phases]
quiet = "1s"
final_reads = 2
"#,
        toyset = toyset_bin().display()
    )
}

/// The text of the first element matching `selector` ('' if none).
fn text(page: &browser::Page, selector: &str) -> String {
    page.eval(&format!(
        "(document.querySelector({selector:?}) || {{}}).textContent || ''"
    ))
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

#[test]
fn the_report_of_a_real_run_with_anomalies_opens_clean_and_shows_what_went_wrong() {
    if !browser::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workload.toml");
    std::fs::write(&file, workload(free_port())).unwrap();
    let run = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            run.to_str().unwrap(),
        ])
        .env("TOYSET_BUGS", "lose-every=20")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let report = run.join("report.html");
    assert!(stdout.contains("report.html"), "{stdout}");

    let mut page = browser::open(&report, Some(&run.join("report.png")));
    page.assert_clean();
    eprintln!("report.html loaded in {} ms", page.load_ms);
    let verdict = text(&page, "#verdict");
    assert!(
        verdict.contains("lost"),
        "the verdict names the anomaly: {verdict}"
    );
    // The anomaly table: witness ops with their index, f and outcome.
    let rows = page.eval("document.querySelectorAll('#anomalies table.ops tbody tr').length");
    assert!(rows.as_u64().unwrap_or(0) > 0, "no witness rows");
    assert!(text(&page, "#anomalies table.ops").contains("add"));
    // The timeline is drawn: op bars and shaded fault windows.
    let bars = page.eval("document.querySelectorAll('#timeline-svg rect.op').length");
    assert!(bars.as_u64().unwrap_or(0) > 50, "timeline bars: {bars}");
    let faults = page.eval("document.querySelectorAll('#timeline-svg rect.fault-rect').length");
    assert!(
        faults.as_u64().unwrap_or(0) > 0,
        "no fault window shaded: {faults}"
    );
    // "Show on timeline" zooms onto the anomaly's witnesses, outlined.
    let range_before = text(&page, "#range");
    page.eval("document.querySelector('a.focus[data-anomaly]').click()");
    page.settle();
    page.assert_clean();
    let witnesses = page
        .eval("document.querySelectorAll('#timeline-svg .witness, #timeline-svg .wmark').length");
    assert!(
        witnesses.as_u64().unwrap_or(0) > 0,
        "no witness outlined after focusing"
    );
    assert_ne!(
        text(&page, "#range"),
        range_before,
        "the timeline did not zoom"
    );
    page.screenshot(&run.join("report.png"));
    let png = std::fs::read(run.join("report.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}

#[test]
fn markup_from_the_system_under_test_shows_as_text() {
    if !browser::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let evil = "<img src=x onerror=alert(1)>";
    // A set history whose element read back is markup, which was never added: unexpected.
    let header = serde_json::json!({"splitbrain_history": 1, "version": "0.1.0", "name": "evil",
        "model": "set", "seed": 1, "started_at": "2026-11-30T00:00:00Z", "workload": ""});
    let events: Vec<Value> = vec![
        header,
        serde_json::json!({"index": 0, "time": 0, "type": "invoke", "process": 0, "f": "add", "value": 1}),
        serde_json::json!({"index": 1, "time": 1000, "type": "ok", "process": 0, "f": "add", "value": 1}),
        serde_json::json!({"index": 2, "time": 2000, "type": "invoke", "process": 1, "f": "read", "value": null}),
        serde_json::json!({"index": 3, "time": 3000, "type": "ok", "process": 1, "f": "read", "value": [1, evil]}),
    ];
    let history = dir.path().join("history.jsonl");
    let text: String = events.iter().map(|e| format!("{e}\n")).collect();
    std::fs::write(&history, text).unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "check",
            history.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        Path::new(&out.join("report.html")).exists(),
        "no report.html: {stdout}\n{stderr}"
    );
    let page = browser::open(&out.join("report.html"), None);
    page.assert_clean();
    // No element came from the value, and the value is on the page as text.
    let imgs = page.eval("document.querySelectorAll('img').length");
    assert_eq!(imgs, 0, "an <img> element was made from the data");
    let body = page.eval("document.body.textContent");
    assert!(
        body.as_str().unwrap_or_default().contains(evil),
        "the markup is not shown as text"
    );
}

//! report.html for a linearizability violation: a real nonlinearizable etcd history from the
//! peer corpus (`../shared/corpus/linearizability/etcd-jepsen/etcd_000.log`, labelled not
//! linearizable), checked as a cas-register under Porcupine's etcd semantics and written by
//! `report::html::write`, as `splitbrain check` writes it. The page carries the diagram's
//! data and the step list; in headless Chromium the diagram is drawn (a lane per process of
//! the window, the blocked op in red) with no console error, exception or request.
//! `SPLITBRAIN_SCREENSHOTS=DIR` keeps the screenshot of the diagram in DIR.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::browser;
use serde_json::Value;
use splitbrain::checker::linear::{self, Bounds, LinearModel, Semantics};
use splitbrain::checker::{Results, Verdict};
use splitbrain::history::read_history;
use splitbrain::report::html::{RunInfo, write};

const ETCD_000: &str = "linearizability/etcd-jepsen/etcd_000.log";

/// The corpus file, or `None` (after saying so) when the corpus is not there.
fn corpus_file() -> Option<PathBuf> {
    common::corpus("", "the linearizability report").map(|dir| dir.join(ETCD_000))
}

/// Checks etcd_000 and writes its report into `dir`; returns the page and the anomaly's
/// details.
fn report(file: &Path, dir: &Path) -> (String, Value) {
    let model = LinearModel::CasRegister(Semantics::PorcupineEtcd);
    report_of(file, model, dir)
}

/// Checks a nonlinearizable corpus file and writes its report into `dir`.
fn report_of(file: &Path, model: LinearModel, dir: &Path) -> (String, Value) {
    let (history, _) = read_history(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let result = linear::check(&history, model, Bounds::default()).expect("check");
    assert_eq!(result.valid, Verdict::Invalid, "the corpus labels it so");
    let details = result.anomalies[0].details.clone();
    let results = Results::from_checkers(BTreeMap::from([(model.name().to_owned(), result)]));
    let path = write(dir, &results, &history, RunInfo::default()).expect("write report.html");
    (
        std::fs::read_to_string(path).expect("read report.html"),
        details,
    )
}

/// The page's JSON data.
fn page_data(html: &str) -> Value {
    let json = html
        .split_once("id=\"data\">")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map(|(json, _)| json)
        .expect("the data element");
    serde_json::from_str(json).expect("the data is JSON")
}

#[test]
fn a_real_etcd_violation_gets_a_linearization_diagram_and_its_steps_in_words() {
    let Some(file) = corpus_file() else { return };
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (html, details) = report(&file, dir.path());

    // The diagram's data: the ops around the failure and the linearization's last steps.
    let data = page_data(&html);
    let diagram = &data["linear"][0];
    assert_eq!(diagram["anomaly"], 0);
    assert_eq!(diagram["ops"], details["ops"]);
    assert_eq!(diagram["linearization"], details["linearization"]);
    let ops = details["ops"].as_array().expect("details.ops");
    assert!(!ops.is_empty() && ops.len() <= 61, "{}", details["ops"]);
    let blocked = &details["blocked"];
    assert!(
        ops.iter()
            .any(|o| o["invoke"] == blocked["invoke"] && o["order"].is_null()),
        "the blocked op is in the window, unlinearized"
    );
    let steps = details["linearization"].as_array().expect("steps");
    let last = steps.last().expect("a non-empty prefix");
    assert_eq!(last["order"], details["prefix-length"]);

    // The anomaly's card holds the frame the script draws into, and the steps in words.
    assert!(html.contains("<svg class=\"linear-svg\" data-anomaly=\"0\""));
    assert!(html.contains("<ol class=\"linear-steps\">"));
    let op = blocked["op"].as_str().unwrap().replace('>', "&gt;");
    assert!(
        html.contains(&format!(
            "<code>{op}</code> (invoked at index {}) cannot take effect here",
            blocked["invoke"]
        )),
        "the step list names the blocked op"
    );
    assert!(
        html.contains(&format!("<li value=\"{}\">", last["order"])),
        "numbered in linearization order"
    );
    // The checker's section says how its keys were decided.
    let summary = html
        .split("class=\"linear-summary\">")
        .nth(1)
        .unwrap_or_default();
    eprintln!(
        "etcd_000: {}",
        summary.split('<').next().unwrap_or_default()
    );
    assert!(
        html.contains("class=\"linear-summary\""),
        "the renderer's section"
    );
    assert!(
        html.contains("1 not linearizable"),
        "the key counts in words"
    );
}

#[test]
fn the_linearization_diagram_draws_in_a_real_browser() {
    let Some(file) = corpus_file() else { return };
    if !browser::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (_, details) = report(&file, dir.path());
    assert_diagram(dir.path(), &details, "report_linear.png");
}

#[test]
fn a_kv_violation_with_long_string_states_draws_in_a_real_browser() {
    let Some(file) = corpus_file() else { return };
    if !browser::available() {
        return;
    }
    // Labelled not linearizable in MANIFEST.tsv: 10 keys, appends of strings.
    let corpus = file.ancestors().nth(3).expect("the corpus folder");
    let file = corpus.join("linearizability/kv-append/c50-bad.txt");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (_, details) = report_of(&file, LinearModel::Kv, dir.path());
    assert_diagram(dir.path(), &details, "report_linear_kv.png");
}

/// Opens `dir/report.html` and checks the diagram of the anomaly with `details`; saves a
/// screenshot of it (kept as `keep_as` in `SPLITBRAIN_SCREENSHOTS`).
fn assert_diagram(dir: &Path, details: &Value, keep_as: &str) {
    let processes: BTreeSet<u64> = details["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["process"].as_u64().unwrap())
        .collect();

    let mut page = browser::open(&dir.join("report.html"), None);
    page.assert_clean();
    let svg = "#anomalies svg.linear-svg";
    let count = |selector: &str| {
        page.eval(&format!("document.querySelectorAll({selector:?}).length"))
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(
        count(&format!("{svg} .lane-label")),
        processes.len() as u64,
        "one lane per process of the window"
    );
    assert_eq!(
        count(&format!("{svg} .lop.blocked .bar")),
        1,
        "the blocked op's bar"
    );
    let linearized = details["ops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| !o["order"].is_null())
        .count() as u64;
    assert_eq!(
        count(&format!("{svg} .lin-point")),
        linearized,
        "each linearized op numbered"
    );
    let note = page.eval(&format!(
        "document.querySelector('{svg} .blocked-note').textContent"
    ));
    let op = details["blocked"]["op"].as_str().unwrap();
    assert!(
        note.as_str().unwrap_or_default().contains(op)
            && note
                .as_str()
                .unwrap_or_default()
                .contains("cannot take effect here"),
        "{note}"
    );
    let steps =
        page.eval("document.querySelector('#anomalies ol.linear-steps li.blocked').textContent");
    assert!(steps.as_str().unwrap_or_default().contains(op), "{steps}");

    // The diagram is wider than nothing and fits its lanes.
    let size = page.eval(&format!(
        "(r => [r.width, r.height])(document.querySelector('{svg}').getBoundingClientRect())"
    ));
    assert!(size[0].as_f64().unwrap_or(0.0) > 400.0, "{size}");
    assert!(
        size[1].as_f64().unwrap_or(0.0) >= 50.0 * processes.len() as f64,
        "{size}"
    );

    page.eval("document.querySelector('figure.linear').scrollIntoView()");
    page.settle();
    page.assert_clean();
    let png = dir.join("linear.png");
    page.screenshot(&png);
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    if let Some(keep) = std::env::var_os("SPLITBRAIN_SCREENSHOTS") {
        let kept = Path::new(&keep).join(keep_as);
        std::fs::copy(&png, &kept).expect("keep the screenshot");
        eprintln!("screenshot: {}", kept.display());
    }
}

#[test]
fn a_linearizable_etcd_history_gets_its_keys_counted_and_no_diagram() {
    let Some(file) = corpus_file() else { return };
    // etcd_002 is labelled linearizable in MANIFEST.tsv.
    let file = file.with_file_name("etcd_002.log");
    let (history, _) = read_history(&file).expect("read etcd_002");
    let model = LinearModel::CasRegister(Semantics::PorcupineEtcd);
    let result = linear::check(&history, model, Bounds::default()).expect("check etcd_002");
    assert_eq!(result.valid, Verdict::Valid);
    let ops = result.counts["ops"];
    let results = Results::from_checkers(BTreeMap::from([(model.name().to_owned(), result)]));
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = write(dir.path(), &results, &history, RunInfo::default()).expect("write");
    let html = std::fs::read_to_string(path).expect("read report.html");
    assert!(
        html.contains(&format!("{ops} ops on 1 key: 1 linearizable.")),
        "the key counted in words"
    );
    assert!(!html.contains("<svg class=\"linear-svg\""), "no diagram");
    assert_eq!(page_data(&html)["linear"], serde_json::json!([]));
}

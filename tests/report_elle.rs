//! report.html for the transactional checkers: Elle's paper example from the peer corpus
//! (`../shared/corpus/transactional/elle-cli/elle/paper-example.edn`; skipped, loudly, when
//! it is absent), checked by `splitbrain check --model list-append --consistency-models
//! serializable`. Each cycle's card draws the cycle as inline SVG (a node per transaction,
//! a labelled arrow per step) beside its steps in words; the checker's section names the
//! models the history rules out. In headless Chromium the page loads clean and the live DOM
//! has the nodes and arrows; markup in a transaction's key or value stays text.
//! `SPLITBRAIN_SCREENSHOTS=DIR` keeps the screenshot of the first cycle in DIR.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{browser, check};
use serde_json::{Value, json};

const PAPER_EXAMPLE: &str = "elle-cli/elle/paper-example.edn";
const XSS: &str = "<img src=x onerror=alert(1)>";

/// Checks the paper example into `dir/out`; returns the results and the page.
fn paper_example(dir: &Path) -> Option<(Value, String)> {
    let corpus = common::corpus("transactional", "the transactional report")?;
    let args = [
        "--model",
        "list-append",
        "--consistency-models",
        "serializable",
    ];
    let (code, results, output) = check(dir, &corpus.join(PAPER_EXAMPLE), &args);
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&output.stderr));
    let html = std::fs::read_to_string(dir.join("out/report.html")).expect("report.html");
    Some((results, html))
}

/// Text as the page writes it: HTML-escaped.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The `k`th anomaly's cycle figure in the page.
fn figure(html: &str, k: usize) -> &str {
    let start = format!("<figure class=\"elle\" id=\"elle-{k}\">");
    let rest = html.split_once(&start).map(|(_, r)| r).unwrap_or_default();
    rest.split_once("</figure>").map_or("", |(f, _)| f)
}

fn cycles(results: &Value) -> Vec<&Vec<Value>> {
    results["checkers"]["list-append"]["anomalies"]
        .as_array()
        .expect("anomalies")
        .iter()
        .map(|a| a["details"]["cycle"].as_array().expect("a cycle"))
        .collect()
}

#[test]
fn each_cycle_of_the_paper_example_is_drawn_beside_its_steps_and_the_models_it_rules_out() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let Some((results, html)) = paper_example(dir.path()) else {
        return;
    };
    let cycles = cycles(&results);
    assert!(!cycles.is_empty(), "{results}");
    for (k, cycle) in cycles.iter().enumerate() {
        let fig = figure(&html, k);
        let txns: BTreeSet<&str> = cycle.iter().map(|s| s["from"].as_str().unwrap()).collect();
        assert_eq!(
            fig.matches("<g class=\"elle-node\">").count(),
            txns.len(),
            "one node per transaction: {fig}"
        );
        for txn in &txns {
            assert!(fig.contains(&format!(">{txn}</text></g>")), "{txn}: {fig}");
        }
        assert_eq!(fig.matches("<g class=\"elle-edge").count(), cycle.len());
        for (i, s) in cycle.iter().enumerate() {
            let (from, to, edge) = (&s["from"], &s["to"], s["edge"].as_str().unwrap());
            let n = i + 1;
            assert!(
                fig.contains(&format!(
                    "data-edge=\"{edge}\" data-step=\"{n}\"><title>{n}. {} →{edge} {}</title>",
                    from.as_str().unwrap(),
                    to.as_str().unwrap()
                )),
                "step {n}'s arrow: {fig}"
            );
            assert!(fig.contains(&format!(
                "<tspan class=\"step-n\">{n}</tspan> {edge}</text>"
            )));
            let words = format!(
                "<li data-step=\"{n}\">{}, so <b>{} <span class=\"ek-text ek-{edge}\">→{edge}</span> {}</b></li>",
                esc(s["why"].as_str().unwrap()),
                from.as_str().unwrap(),
                to.as_str().unwrap()
            );
            assert!(fig.contains(&words), "{words} in {fig}");
            let ops = format!("<code>{}</code>", esc(s["ops"].as_str().unwrap()));
            assert!(fig.contains(&ops), "the micro-ops of {from}");
        }
        let first = cycle[0]["from"].as_str().unwrap();
        assert!(fig.contains(&format!("So {first} would have to come before itself")));
    }

    let stats = &results["checkers"]["list-append"]["stats"];
    let models = |key: &str| -> Vec<String> {
        let list = stats[key].as_array().expect(key);
        assert!(!list.is_empty(), "{key}: {stats}");
        list.iter()
            .map(|m| format!("<code>{}</code>", m.as_str().unwrap()))
            .collect()
    };
    let not = html
        .split("<p class=\"elle-not\">")
        .nth(1)
        .expect("the models ruled out");
    let not = not.split("</p>").next().unwrap_or_default();
    let (weakest, stronger) = not.split_once("elle-also-not").expect("also-not");
    for m in models("not") {
        assert!(weakest.contains(&m), "{m} in {weakest}");
    }
    for m in models("also-not") {
        assert!(stronger.contains(&m), "{m} in {stronger}");
    }
    assert!(html.contains("against <code>serializable</code>"));
}

#[test]
fn the_cycle_diagrams_draw_in_a_real_browser() {
    if !browser::available() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary folder");
    let Some((results, _)) = paper_example(dir.path()) else {
        return;
    };
    let cycles = cycles(&results);
    let mut page = browser::open(&dir.path().join("out/report.html"), None);
    page.assert_clean();
    let count = |selector: &str| {
        page.eval(&format!("document.querySelectorAll({selector:?}).length"))
            .as_u64()
            .unwrap_or(0)
    };
    let steps: usize = cycles.iter().map(|c| c.len()).sum();
    assert_eq!(count("#anomalies svg.elle-svg"), cycles.len() as u64);
    assert_eq!(count("#anomalies svg.elle-svg .elle-node"), steps as u64);
    assert_eq!(
        count("#anomalies svg.elle-svg .elle-edge path"),
        steps as u64
    );
    let labels = page
        .eval("[...document.querySelectorAll('#elle-0 .elle-edge text')].map(t => t.textContent)");
    let expected: Vec<String> = cycles[0]
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} {}", i + 1, s["edge"].as_str().unwrap()))
        .collect();
    assert_eq!(labels, json!(expected));
    let size = page.eval(
        "(r => [r.width, r.height])(document.querySelector('#elle-0 svg').getBoundingClientRect())",
    );
    assert!(size[0].as_f64().unwrap_or(0.0) > 200.0, "{size}");

    page.eval("document.querySelector('#anomaly-0').scrollIntoView()");
    page.settle();
    page.assert_clean();
    let png = dir.path().join("elle.png");
    page.screenshot(&png);
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    if let Some(keep) = std::env::var_os("SPLITBRAIN_SCREENSHOTS") {
        let kept = PathBuf::from(keep).join("report_elle.png");
        std::fs::copy(&png, &kept).expect("keep the screenshot");
        eprintln!("screenshot: {}", kept.display());
    }
}

/// Write skew on a key and values that are markup: T0 and T1 each read the key the other
/// appends to and miss the append; T2 sees both.
fn hostile_history(path: &Path) {
    let header = json!({
        "splitbrain_history": 1, "version": "0", "name": XSS, "model": "list-append",
        "model_options": {"consistency_models": ["serializable"]},
        "seed": 1, "started_at": "2026-11-30T00:00:00Z", "workload": ""
    });
    let (x, y, v) = (XSS, "y", "<b>v</b>");
    let events = [
        json!({"index": 0, "type": "invoke", "process": 0, "time": 0, "f": "txn",
               "value": [["r", x, null], ["append", y, v]]}),
        json!({"index": 1, "type": "invoke", "process": 1, "time": 1, "f": "txn",
               "value": [["r", y, null], ["append", x, v]]}),
        json!({"index": 2, "type": "ok", "process": 0, "time": 2, "f": "txn",
               "value": [["r", x, []], ["append", y, v]]}),
        json!({"index": 3, "type": "ok", "process": 1, "time": 3, "f": "txn",
               "value": [["r", y, []], ["append", x, v]]}),
        json!({"index": 4, "type": "invoke", "process": 0, "time": 4, "f": "txn",
               "value": [["r", x, null], ["r", y, null]]}),
        json!({"index": 5, "type": "ok", "process": 0, "time": 5, "f": "txn",
               "value": [["r", x, [v]], ["r", y, [v]]]}),
    ];
    let lines: Vec<String> = std::iter::once(&header)
        .chain(&events)
        .map(|v| v.to_string())
        .collect();
    std::fs::write(path, lines.join("\n") + "\n").expect("write the history");
}

#[test]
fn markup_in_a_transaction_s_key_or_value_renders_as_text() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let history = dir.path().join("history.jsonl");
    hostile_history(&history);
    let (code, results, output) = check(dir.path(), &history, &[]);
    assert_eq!(code, 1, "{}", String::from_utf8_lossy(&output.stderr));
    let ops = cycles(&results)[0][0]["ops"].as_str().unwrap().to_owned();
    assert!(ops.contains(XSS), "the cycle names the key: {ops}");

    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    let fig = figure(&html, 0);
    assert!(fig.contains("<svg class=\"elle-svg\""), "a diagram: {fig}");
    assert!(fig.contains(&esc(&ops)), "the micro-ops, escaped: {fig}");
    assert!(
        !html.to_lowercase().contains("<img"),
        "raw <img in the page"
    );
    assert!(!html.contains("<b>v</b>"), "raw <b> in the page");

    if !browser::available() {
        return;
    }
    let page = browser::open(&dir.path().join("out/report.html"), None);
    page.assert_clean();
    assert_eq!(
        page.eval("document.querySelectorAll('img, b > b').length"),
        0
    );
    let text = page.eval("document.querySelector('#elle-0 .elle-txns').textContent");
    assert!(text.as_str().unwrap_or_default().contains(XSS), "{text}");
}

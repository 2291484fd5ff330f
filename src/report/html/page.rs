//! The document: head with the Content-Security-Policy and the inline style, the sections in
//! the order a person on call reads them, the data as JSON, and the inline script.

use std::fmt::Write;

use super::escape::{esc, script_json};
use super::{RunInfo, checkers, data, sections, select};
use crate::checker::Results;
use crate::history::History;

const STYLE: &str = include_str!("style.css");
const SCRIPT: &str = include_str!("app.js");

/// No network load of any kind: everything is inline, images only as `data:`.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

/// The whole page.
pub fn render(results: &Results, history: &History, run: &RunInfo) -> String {
    let page_data = data::build(history, results);
    let json = serde_json::to_string(&page_data).expect("page data always serialises");
    let witnesses = select::witnesses(history, results);
    let title = history
        .header
        .as_ref()
        .map_or("history".to_owned(), |h| h.name.clone());
    let mut out = String::with_capacity(json.len() + 256 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · {} · splitbrain</title><style>{STYLE}</style></head><body>\
         <header class=\"top\"><span class=\"brand\">splitbrain</span> <span>{}</span>\
         <nav><a href=\"#verdict\">verdict</a><a href=\"#anomalies\">anomalies</a>\
         <a href=\"#timeline\">timeline</a><a href=\"#charts\">charts</a>\
         <a href=\"#checkers\">checkers</a><a href=\"#run\">run</a></nav></header><main>",
        results.valid.as_str(),
        esc(&title),
        esc(&title)
    );
    out.push_str(&sections::verdict(results, history, page_data.faults.len()));
    out.push_str(&sections::anomalies(results, history, &witnesses));
    out.push_str(TIMELINE);
    out.push_str(CHARTS);
    out.push_str(&checkers::sections(&results.checkers));
    out.push_str(&sections::run(history, run));
    let _ = write!(
        out,
        "</main><footer>splitbrain {} · the report shows what the checkers decided; \
         results.json is the record.</footer>\
         <script type=\"application/json\" id=\"data\">{}</script>\
         <script>{SCRIPT}</script></body></html>",
        env!("CARGO_PKG_VERSION"),
        script_json(&json)
    );
    out.push('\n');
    out
}

const TIMELINE: &str = "<section id=\"timeline\"><h2>Timeline</h2>\
<div class=\"toolbar\"><button type=\"button\" data-zoom=\"in\">+</button>\
<button type=\"button\" data-zoom=\"out\">−</button><button type=\"button\" data-zoom=\"reset\">\
whole run</button><span class=\"range\" id=\"range\"></span><span class=\"legend\">\
<i class=\"sw ok\"></i>ok <i class=\"sw fail\"></i>fail <i class=\"sw info\"></i>info \
<i class=\"sw fault\"></i>fault <i class=\"sw witness\"></i>witness</span></div>\
<p class=\"hint muted\" id=\"timeline-note\">Scroll to zoom, drag to pan, hover for the op.</p>\
<div class=\"timeline-wrap\" id=\"timeline-wrap\"><svg id=\"timeline-svg\" \
xmlns=\"http://www.w3.org/2000/svg\"></svg></div><div class=\"tip\" id=\"tip\" hidden></div>\
<noscript><p>The timeline and charts need JavaScript; the tables above do not.</p></noscript>\
</section>";

const CHARTS: &str = "<section id=\"charts\"><h2>Over time</h2>\
<figure class=\"chart\"><figcaption>Throughput by outcome (ops/s), fault windows shaded\
</figcaption><svg id=\"chart-throughput\" xmlns=\"http://www.w3.org/2000/svg\"></svg></figure>\
<figure class=\"chart\"><figcaption>Latency (log scale): sampled ops, p50 / p95 / p99\
</figcaption><svg id=\"chart-latency\" xmlns=\"http://www.w3.org/2000/svg\"></svg></figure>\
<figure class=\"chart\" id=\"chart-rounds-fig\" hidden><figcaption>Convergence rounds: records \
per view (solid) and ids differing from the first view (dashed)</figcaption>\
<svg id=\"chart-rounds\" xmlns=\"http://www.w3.org/2000/svg\"></svg></figure></section>";

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::checker::{Anomaly, CheckerResult, Verdict};
    use crate::history::{Event, EventKind, FORMAT_VERSION, Header, Process, Value};

    const XSS: &str = "<img src=x onerror=alert(1)>";

    fn event(index: u64, process: Process, kind: EventKind, f: &str, value: Value) -> Event {
        Event {
            index,
            time: (index + 1) * 1_000_000,
            process,
            kind,
            f: f.into(),
            value,
            node: Some(XSS.into()),
            error: (kind == EventKind::Info).then(|| XSS.to_owned()),
        }
    }

    /// A history whose every text field, and the results' too, carries markup.
    fn hostile() -> (Results, History) {
        let header = Header {
            splitbrain_history: FORMAT_VERSION,
            version: "0.1.0".into(),
            name: XSS.into(),
            model: "set".into(),
            model_options: serde_json::Map::new(),
            seed: 7,
            started_at: XSS.into(),
            workload: format!("name = \"{XSS}\"\n[target]\nbase_url = \"{XSS}\"\n"),
        };
        let c = Process::Client;
        let events = [
            event(0, c(0), EventKind::Invoke, "add", XSS.into()),
            event(
                1,
                Process::Nemesis,
                EventKind::Info,
                "start-partition",
                XSS.into(),
            ),
            event(2, c(0), EventKind::Info, XSS, XSS.into()),
            event(3, c(1), EventKind::Invoke, "read", Value::Nil),
            event(4, c(1), EventKind::Ok, "read", Value::list([XSS.into()])),
        ];
        let mut events = events.to_vec();
        events[2].f = "add".into();
        let history = History::from_events(Some(header), events).unwrap();
        let anomaly = Anomaly {
            kind: XSS.into(),
            ops: vec![0, 2, 3, 4],
            explanation: format!("element {XSS} was lost"),
            faults: vec![XSS.into()],
            details: json!({"element": XSS}),
            window: None,
        };
        let result = CheckerResult {
            valid: Verdict::Invalid,
            anomaly_types: vec![XSS.into()],
            anomalies: vec![anomaly],
            counts: BTreeMap::from([(XSS.to_owned(), 1)]),
            stats: BTreeMap::from([(XSS.to_owned(), json!(XSS))]),
        };
        let results = Results::from_checkers(BTreeMap::from([(XSS.to_owned(), result)]));
        (results, history)
    }

    #[test]
    fn markup_from_the_system_under_test_appears_only_escaped() {
        let (results, history) = hostile();
        let run = RunInfo {
            workload: Some(format!("# {XSS}\n")),
            dir: Some(XSS.into()),
            history: Some(XSS.into()),
        };
        let html = render(&results, &history, &run);
        assert!(
            !html.to_lowercase().contains("<img"),
            "raw <img in the page"
        );
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("\\u003cimg src=x onerror=alert(1)\\u003e"));
        let (data_start, _) = html.split_once("id=\"data\">").expect("the data element");
        assert_eq!(
            data_start.matches("<script").count(),
            1,
            "only the data script opens"
        );
        assert_eq!(
            html.matches("</script>").count(),
            2,
            "nothing closes a script early"
        );
    }

    #[test]
    fn the_page_forbids_every_network_load_and_has_its_sections() {
        let (results, history) = hostile();
        let html = render(&results, &history, &RunInfo::default());
        assert!(html.contains(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
        ));
        for id in [
            "verdict",
            "anomalies",
            "timeline",
            "charts",
            "checkers",
            "run",
        ] {
            assert!(html.contains(&format!("id=\"{id}\"")), "section {id}");
        }
        assert!(html.contains("class=\"verdict invalid\""));
        for forbidden in ["http://", "https://", "src=\"", "href=\"http"] {
            let outside_data = html.split("id=\"data\">").next().unwrap_or_default();
            let outside_data = outside_data.replace("http://www.w3.org/2000/svg", "");
            assert!(!outside_data.contains(forbidden), "{forbidden} in the page");
        }
    }

    #[test]
    fn a_large_history_is_summarised_but_its_witnesses_are_carried_in_full() {
        use crate::history::{Op, Outcome};
        let n = 3 * select::DETAIL_LIMIT as u64;
        let ops = (0..n)
            .map(|k| Op {
                process: k % 8,
                f: "add".into(),
                value: Value::Int(k as i64),
                outcome: Outcome::Ok,
                invoke: 2 * k,
                complete: Some(2 * k + 1),
                invoke_time: 1_000_000 * k,
                complete_time: Some(1_000_000 * k + 400_000),
                extra: None,
            })
            .collect();
        let history = History {
            ops,
            ..History::default()
        };
        let (mut results, _) = hostile();
        let result = results.checkers.values_mut().next().unwrap();
        result.anomalies[0].ops = vec![2 * 12_345, 2 * 54_321 + 1];
        let html = render(&results, &history, &RunInfo::default());
        let json = html
            .split_once("id=\"data\">")
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map(|(json, _)| json)
            .expect("the data element");
        let data: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(data["summarised"], true);
        assert_eq!(data["total_ops"], n);
        let carried = data["ops"]["i"].as_array().unwrap();
        assert!(carried.len() < select::DETAIL_LIMIT);
        let witnesses: Vec<u64> = data["anomalies"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| carried[p.as_u64().unwrap() as usize].as_u64().unwrap())
            .collect();
        assert_eq!(witnesses, vec![2 * 12_345, 2 * 54_321]);
        let counted: u64 = data["agg"]["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .sum();
        assert_eq!(counted, n, "the aggregates count every op");
    }

    #[test]
    fn the_data_parses_and_every_witness_is_carried() {
        let (results, history) = hostile();
        let html = render(&results, &history, &RunInfo::default());
        let json = html
            .split_once("id=\"data\">")
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map(|(json, _)| json)
            .expect("the data element");
        let data: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
        assert_eq!(data["anomalies"], json!([[0, 1]]));
        assert_eq!(data["ops"]["i"], json!([0, 3]));
        assert_eq!(data["faults"][0]["name"], "partition");
    }
}

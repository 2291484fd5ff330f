//! One section per checker: its verdict, counts and stats, and what its kind adds (the set's
//! lost elements and latency quantiles, the queue's deliveries, the bank's totals over time,
//! a relation's differences). A new checker plugs in by adding its [`Kind`] and a renderer;
//! an unknown one still gets the generic part.

use std::fmt::Write;

use serde_json::Value as Json;

use super::escape::esc;
use super::{elle, linear};
use crate::checker::{CheckerResult, Verdict};

/// Which renderer a checker's section uses, from its name in `results.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Set,
    Counter,
    Queue,
    UniqueIds,
    Bank,
    Agree,
    Covers,
    Unique,
    Matches,
    Conserved,
    /// The linearizability checkers, named after their model.
    Linear,
    /// The transactional checkers (Elle's list-append and rw-register).
    Elle,
    Other,
}

impl Kind {
    /// `set`, `bank`, `agree(a,b)`, `relation covers(add→b)`, `conserved(stock.n) #2`, ...
    pub fn of(name: &str) -> Kind {
        let name = name.strip_prefix("relation ").unwrap_or(name);
        let head = name.split(['(', ' ']).next().unwrap_or(name);
        match head {
            "set" => Kind::Set,
            "counter" => Kind::Counter,
            "queue" => Kind::Queue,
            "unique-ids" => Kind::UniqueIds,
            "bank" => Kind::Bank,
            "agree" => Kind::Agree,
            "covers" => Kind::Covers,
            "unique" => Kind::Unique,
            "matches" => Kind::Matches,
            "conserved" => Kind::Conserved,
            "register" | "cas-register" | "kv" | "mutex" | "multi-register" => Kind::Linear,
            "list-append" | "rw-register" => Kind::Elle,
            _ => Kind::Other,
        }
    }

    /// The columns of this kind's anomaly-details table: (heading, key in `details`).
    fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Set => &[
                ("element", "element"),
                ("known at", "known"),
                ("absent reads", "absent-reads"),
                ("first absent read", "first-absent-read"),
                ("last present read", "last-present-read"),
                ("lost latency ms", "lost-latency-ms"),
                ("read", "read"),
            ],
            Kind::Counter => &[
                ("read index", "read-index"),
                ("read", "read"),
                ("lower", "lower"),
                ("upper", "upper"),
                ("definite", "definite"),
            ],
            Kind::Queue => &[
                ("element", "element"),
                ("enqueued ok", "enqueued-ok"),
                ("enqueue attempts", "enqueue-attempts"),
                ("dequeued", "dequeued"),
            ],
            Kind::UniqueIds => &[
                ("id", "id"),
                ("times", "times"),
                ("completions", "completions"),
            ],
            Kind::Bank => &[
                ("read", "read-index"),
                ("sum", "sum"),
                ("total", "total"),
                ("negative", "negative"),
                ("unexpected", "unexpected"),
                ("badness", "badness"),
            ],
            Kind::Agree => &[
                ("round", "round"),
                ("agreed round", "agreed-round"),
                ("differed round", "differed-round"),
            ],
            Kind::Covers => &[
                ("id", "id"),
                ("view", "view"),
                ("write", "write"),
                ("read", "read"),
                ("record", "record"),
                ("filter", "filter"),
            ],
            Kind::Unique => &[
                ("view", "view"),
                ("key", "key"),
                ("value", "value"),
                ("read", "read"),
                ("records", "records"),
                ("reads showing", "reads-showing"),
            ],
            Kind::Matches => &[
                ("view", "view"),
                ("record", "record"),
                ("other", "other"),
                ("matches", "matches"),
            ],
            Kind::Conserved => &[
                ("view", "view"),
                ("read", "read"),
                ("sum", "sum"),
                ("total", "total"),
                ("id", "id"),
                ("field", "field"),
                ("value", "value"),
                ("floor", "floor"),
            ],
            Kind::Linear => &[("key", "key"), ("linearized ops", "prefix-length")],
            Kind::Elle => &[("transactions", "transactions")],
            Kind::Other => &[],
        }
    }
}

/// Anomaly rows in a checker's details table, at most.
const ROWS: usize = 50;

/// Every checker's section.
pub fn sections<'r>(checkers: impl IntoIterator<Item = (&'r String, &'r CheckerResult)>) -> String {
    let mut out = String::from("<section id=\"checkers\"><h2>Checkers</h2>");
    for (name, result) in checkers {
        out.push_str(&section(name, result));
    }
    out.push_str("</section>");
    out
}

/// One checker's section.
pub fn section(name: &str, result: &CheckerResult) -> String {
    let kind = Kind::of(name);
    let verdict = match result.valid {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Unknown => "unknown",
    };
    let mut out = format!(
        "<article class=\"checker\"><h3><span class=\"checker-name\">{}</span> \
         <span class=\"pill {verdict}\">{verdict}</span></h3>",
        esc(name)
    );
    if !result.counts.is_empty() {
        out.push_str("<div class=\"counts\">");
        for (k, v) in &result.counts {
            let hot = if result.anomaly_types.contains(k) && *v > 0 {
                " hot"
            } else {
                ""
            };
            let _ = write!(
                out,
                "<div class=\"count{hot}\"><b>{v}</b><span>{}</span></div>",
                esc(k)
            );
        }
        out.push_str("</div>");
    }
    match kind {
        Kind::Queue => out.push_str(&deliveries(result)),
        Kind::Bank => out.push_str(&totals_chart(result)),
        Kind::Agree => out.push_str(&differences(result)),
        Kind::Linear => out.push_str(&linear::summary(result)),
        Kind::Elle => out.push_str(&elle::summary(result)),
        _ => {}
    }
    out.push_str(&details_table(kind, result));
    out.push_str(&stats(kind, result));
    out.push_str("</article>");
    out
}

/// The anomalies' details as a table with the kind's columns (only those present).
fn details_table(kind: Kind, result: &CheckerResult) -> String {
    let present: Vec<&(&str, &str)> = kind
        .columns()
        .iter()
        .filter(|(_, key)| result.anomalies.iter().any(|a| !a.details[*key].is_null()))
        .collect();
    if present.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<div class=\"table-wrap\"><table class=\"details\"><thead><tr><th>anomaly</th>",
    );
    for (heading, _) in &present {
        let _ = write!(out, "<th>{heading}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for anomaly in result.anomalies.iter().take(ROWS) {
        let _ = write!(
            out,
            "<tr><td><span class=\"badge kind\">{}</span></td>",
            esc(&anomaly.kind)
        );
        for (_, key) in &present {
            let _ = write!(out, "<td>{}</td>", esc(&text(&anomaly.details[*key], 200)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    if result.anomalies.len() > ROWS {
        let _ = write!(
            out,
            "<p class=\"muted\">The first {ROWS} of {} listed anomalies.</p>",
            result.anomalies.len()
        );
    }
    out
}

/// A queue's deliveries as bars: enqueued, acknowledged, dequeued, lost, duplicated.
fn deliveries(result: &CheckerResult) -> String {
    let keys = [
        "attempted",
        "acknowledged",
        "dequeued",
        "lost",
        "duplicated",
        "unexpected",
    ];
    let max = keys
        .iter()
        .filter_map(|k| result.counts.get(*k))
        .max()
        .copied()
        .unwrap_or(0)
        .max(1);
    let mut out = String::from("<div class=\"bars\">");
    for k in keys {
        let Some(&v) = result.counts.get(k) else {
            continue;
        };
        let class = if matches!(k, "lost" | "duplicated" | "unexpected") && v > 0 {
            "bad"
        } else {
            ""
        };
        let _ = write!(
            out,
            "<div class=\"bar-row\"><span>{k}</span><div class=\"bar {class}\" \
             style=\"width:{:.1}%\"></div><b>{v}</b></div>",
            v as f64 * 100.0 / max as f64
        );
    }
    out.push_str("</div>");
    out
}

/// A bank's read totals over time, with the expected total: an inline SVG line.
fn totals_chart(result: &CheckerResult) -> String {
    let Some(points) = result.stats.get("totals").and_then(Json::as_array) else {
        return String::new();
    };
    let points: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
        .collect();
    if points.is_empty() {
        return String::new();
    }
    let expected = result
        .anomalies
        .iter()
        .find_map(|a| a.details["total"].as_f64());
    let (w, h) = (800.0, 160.0);
    let t_max = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let values = points.iter().map(|p| p.1).chain(expected);
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1.0);
    let y = |v: f64| h - 10.0 - (v - lo) / span * (h - 20.0);
    let path: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{:.1},{:.1}", t / t_max * w, y(*v)))
        .collect();
    let mut out = format!(
        "<figure class=\"mini\"><svg viewBox=\"0 0 {w} {h}\" preserveAspectRatio=\"none\" \
         role=\"img\"><polyline class=\"series\" points=\"{}\"/>",
        path.join(" ")
    );
    if let Some(total) = expected {
        let _ = write!(
            out,
            "<line class=\"expected\" x1=\"0\" x2=\"{w}\" y1=\"{0:.1}\" y2=\"{0:.1}\"/>",
            y(total)
        );
    }
    let _ = write!(
        out,
        "</svg><figcaption>Sum of balances in each ok read over time ({lo}–{hi}){}</figcaption>\
         </figure>",
        expected.map_or(String::new(), |t| format!(
            "; the dashed line is the total {t}"
        ))
    );
    out
}

/// An agree relation's differences: per anomaly, each view against the reference.
fn differences(result: &CheckerResult) -> String {
    let rows: Vec<(&str, &Json)> = result
        .anomalies
        .iter()
        .flat_map(|a| {
            a.details["differences"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |d| (a.kind.as_str(), d))
        })
        .take(ROWS)
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<div class=\"table-wrap\"><table class=\"details\"><thead><tr><th>anomaly</th>\
         <th>view</th><th>against</th><th>lacks</th><th>extra</th><th>changed</th></tr></thead><tbody>",
    );
    for (kind, d) in rows {
        let counted = |key: &str| {
            format!(
                "{} {}",
                d[format!("{key}-count")].as_u64().unwrap_or(0),
                text(&d[key], 200)
            )
        };
        let _ = write!(
            out,
            "<tr><td><span class=\"badge kind\">{}</span></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td></tr>",
            esc(kind),
            esc(&text(&d["view"], 80)),
            esc(&text(&d["reference"], 80)),
            esc(&counted("lacks")),
            esc(&counted("extra")),
            esc(&counted("changed")),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

/// Stats as a definition list (less those the kind's renderer says in words); latency
/// quantiles as a row of numbers.
fn stats(kind: Kind, result: &CheckerResult) -> String {
    let in_words = |k: &str| kind == Kind::Elle && elle::STATS_IN_WORDS.contains(&k);
    let shown: Vec<(&String, &Json)> = result
        .stats
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "totals" | "reason" | "unknown-keys"))
        .filter(|(k, _)| !in_words(k))
        .filter(|(_, v)| !v.is_null())
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    let mut out = String::from("<dl class=\"stats\">");
    for (k, v) in shown {
        let value = match v {
            Json::Object(q) if q.contains_key("p50") => ["p0", "p50", "p95", "p99", "p100"]
                .iter()
                .filter_map(|p| Some(format!("{p} {}", q.get(*p)?)))
                .collect::<Vec<_>>()
                .join(" · "),
            other => text(other, 400),
        };
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&value));
    }
    out.push_str("</dl>");
    out
}

/// A JSON value as a person reads it: strings bare, lists space-separated, cut at `max`.
pub fn text(value: &Json, max: usize) -> String {
    let s = match value {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Array(items) => items
            .iter()
            .map(|i| text(i, max))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::checker::Anomaly;

    fn result(kind: &str, details: Json) -> CheckerResult {
        CheckerResult {
            valid: Verdict::Invalid,
            anomaly_types: vec![kind.into()],
            anomalies: vec![Anomaly {
                kind: kind.into(),
                ops: vec![1],
                explanation: "x".into(),
                faults: vec![],
                details,
                window: None,
            }],
            counts: BTreeMap::from([(kind.to_owned(), 1)]),
            stats: BTreeMap::new(),
        }
    }

    #[test]
    fn checker_names_pick_their_renderer() {
        assert_eq!(Kind::of("set"), Kind::Set);
        assert_eq!(Kind::of("unique-ids"), Kind::UniqueIds);
        assert_eq!(Kind::of("agree(primary,replica)"), Kind::Agree);
        assert_eq!(Kind::of("relation covers(add→b)"), Kind::Covers);
        assert_eq!(Kind::of("conserved(stock.n, settled) #2"), Kind::Conserved);
        assert_eq!(Kind::of("cas-register"), Kind::Linear);
        assert_eq!(Kind::of("elle"), Kind::Other);
    }

    #[test]
    fn a_set_section_lists_the_lost_element_with_its_latency() {
        let r = result(
            "lost",
            json!({"element": 17, "known": 3, "lost-latency-ms": 420}),
        );
        let html = section("set", &r);
        assert!(
            html.contains("<th>element</th>") && html.contains("<td>17</td>"),
            "{html}"
        );
        assert!(html.contains("<td>420</td>"), "{html}");
        assert!(
            !html.contains("<th>read</th>"),
            "absent columns are left out"
        );
    }

    #[test]
    fn an_agree_section_tables_the_differences() {
        let d = json!({"round": 4, "differences": [{"reference": "a", "view": "b",
            "lacks": ["17"], "lacks-count": 1, "extra": [], "extra-count": 0,
            "changed": [], "changed-count": 0}]});
        let html = section("agree(a,b)", &result("unconverged", d));
        assert!(html.contains("<td>b</td><td>a</td><td>1 17</td>"), "{html}");
    }

    #[test]
    fn a_queue_section_draws_deliveries_and_a_bank_its_totals() {
        let mut q = result("lost", json!({"element": 5, "dequeued": 0}));
        q.counts.insert("attempted".into(), 10);
        assert!(section("queue", &q).contains("class=\"bar-row\""));
        let mut b = result("wrong-total", json!({"total": 100, "sum": 90}));
        b.stats
            .insert("totals".into(), json!([[1000, 100], [2000, 90]]));
        let html = section("bank", &b);
        assert!(
            html.contains("<polyline") && html.contains("class=\"expected\""),
            "{html}"
        );
    }

    #[test]
    fn details_from_the_system_are_escaped() {
        let r = result("lost", json!({"element": "<img src=x onerror=alert(1)>"}));
        let html = section("set", &r);
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }
}

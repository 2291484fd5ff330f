//! The transactional checkers' part of the page (`list-append`, `rw-register`; Elle, Kingsbury
//! & Alvaro 2020). The checker's section gives the verdict in the model's terms: the
//! consistency models promised, the anomalies found that they forbid, the models the history
//! rules out (the weakest, then the stronger ones), the anomalies found but allowed, and the
//! dependency graph's figures. Each cycle anomaly's card gets the cycle drawn
//! (`cycle_svg.rs`) beside its steps in words, each transaction's micro-ops and the closing
//! contradiction; the first [`DIAGRAMS`] of each type are drawn, the rest listed as steps.

use std::fmt::Write;

use serde_json::Value as Json;

use super::checkers::Kind;
use super::cycle_svg::{self, EDGE_KINDS, Step};
use super::escape::esc;
use crate::checker::{Anomaly, CheckerResult};

/// Cycles drawn per anomaly type in a checker; the others are listed as steps only.
pub const DIAGRAMS: usize = 20;
/// Steps past which a cycle is listed, not drawn: its circle would be wider than a screen.
pub const MAX_DRAWN: usize = 24;

/// The stats this part says in words, left out of the generic stats list.
pub const STATS_IN_WORDS: [&str; 5] = [
    "model",
    "consistency-models",
    "not",
    "also-not",
    "allowed-anomalies",
];

/// One step of a cycle as the checker wrote it (`details.cycle[i]`).
struct CycleStep<'a> {
    from: &'a str,
    to: &'a str,
    edge: &'a str,
    why: &'a str,
    ops: &'a str,
}

fn cycle(anomaly: &Anomaly) -> Vec<CycleStep<'_>> {
    anomaly.details["cycle"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| CycleStep {
            from: step["from"].as_str().unwrap_or("?"),
            to: step["to"].as_str().unwrap_or("?"),
            edge: step["edge"].as_str().unwrap_or("?"),
            why: step["why"].as_str().unwrap_or(""),
            ops: step["ops"].as_str().unwrap_or(""),
        })
        .collect()
}

/// Whether this anomaly of a transactional checker is a cycle to show as one.
pub fn is_cycle(checker: &str, anomaly: &Anomaly) -> bool {
    Kind::of(checker) == Kind::Elle
        && anomaly.details["cycle"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
}

/// The cycle's figure for anomaly `k`; drawn when `draw` (the first [`DIAGRAMS`] of its type)
/// and not longer than [`MAX_DRAWN`], else its steps only, saying why.
pub fn figure(k: usize, anomaly: &Anomaly, draw: bool) -> String {
    let steps = cycle(anomaly);
    let n = steps.len();
    let mut out = format!(
        "<figure class=\"elle\" id=\"elle-{k}\"><figcaption>A cycle of {n} dependencies: each \
         arrow says its transaction must come before the next; together they would put \
         {} before itself.</figcaption><div class=\"elle-body\">",
        esc(steps.first().map_or("?", |s| s.from))
    );
    let note = if !draw {
        Some(format!(
            "Not drawn: the first {DIAGRAMS} cycles of this type are; this one is listed."
        ))
    } else if n > MAX_DRAWN {
        Some(format!(
            "Not drawn: a cycle of {n} steps (over {MAX_DRAWN}) reads better as a list."
        ))
    } else {
        let drawn: Vec<Step> = steps
            .iter()
            .map(|s| Step {
                from: s.from,
                to: s.to,
                edge: s.edge,
            })
            .collect();
        let _ = write!(
            out,
            "<div class=\"elle-wrap\">{}{}</div>",
            cycle_svg::draw(k, &drawn),
            legend()
        );
        None
    };
    out.push_str("<div class=\"elle-text\">");
    if let Some(note) = note {
        let _ = write!(out, "<p class=\"muted elle-note\">{note}</p>");
    }
    out.push_str(&step_list(&steps));
    out.push_str(&txn_table(&steps));
    out.push_str("</div></div></figure>");
    out
}

/// Each edge kind's stroke and what it says.
fn legend() -> String {
    let mut out = String::from("<ul class=\"elle-legend\">");
    for (kind, says) in EDGE_KINDS {
        let _ = write!(
            out,
            "<li><svg width=\"30\" height=\"10\" aria-hidden=\"true\"><line class=\"ek-{kind}\" \
             x1=\"1\" y1=\"5\" x2=\"29\" y2=\"5\"/></svg><b>{kind}</b> {says}</li>"
        );
    }
    out.push_str("</ul>");
    out
}

/// "1. T6 read 255 = [2 3 4 5] without 8, which T2 appended next, so T6 →rw T2", then the
/// contradiction.
fn step_list(steps: &[CycleStep]) -> String {
    let mut out = String::from("<ol class=\"elle-steps\">");
    for (i, s) in steps.iter().enumerate() {
        let why = if s.why.is_empty() {
            String::new()
        } else {
            format!("{}, so ", esc(s.why))
        };
        let _ = write!(
            out,
            "<li data-step=\"{}\">{why}<b>{} <span class=\"ek-text ek-{}\">→{}</span> {}</b></li>",
            i + 1,
            esc(s.from),
            esc(s.edge),
            esc(s.edge),
            esc(s.to),
        );
    }
    let first = steps.first().map_or("?", |s| s.from);
    let _ = write!(
        out,
        "</ol><p class=\"elle-contradiction\">So {} would have to come before itself: a \
         contradiction.</p>",
        esc(first)
    );
    out
}

/// Each transaction of the cycle with its micro-ops, in cycle order.
fn txn_table(steps: &[CycleStep]) -> String {
    let mut out = String::from(
        "<div class=\"table-wrap\"><table class=\"details elle-txns\"><thead><tr>\
         <th>transaction</th><th>micro-ops</th></tr></thead><tbody>",
    );
    for s in steps {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td></tr>",
            esc(s.from),
            esc(s.ops)
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

/// "a", "a and b", "a, b and c", each in `<code>`.
fn names(list: &[&str]) -> String {
    let coded: Vec<String> = list
        .iter()
        .map(|n| format!("<code>{}</code>", esc(n)))
        .collect();
    match coded.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn strings(value: Option<&Json>) -> Vec<&str> {
    value
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .collect()
}

/// "G-single ×1, G2-item ×2".
fn counted<'a>(kinds: impl Iterator<Item = (&'a str, u64)>) -> String {
    kinds
        .map(|(k, n)| format!("<span class=\"badge kind\">{}</span> ×{n}", esc(k)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The checker's own block: the verdict in the model's terms and the graph's figures.
pub fn summary(result: &CheckerResult) -> String {
    let promised = strings(result.stats.get("consistency-models"));
    let model = result
        .stats
        .get("model")
        .and_then(Json::as_str)
        .unwrap_or("");
    let mut out = format!(
        "<div class=\"elle-summary\"><p>Checked as <b>{}</b> transactions against {}.</p>",
        esc(model),
        names(&promised)
    );
    let forbidden = result
        .anomaly_types
        .iter()
        .map(|k| (k.as_str(), result.counts.get(k).copied().unwrap_or(0)));
    if result.anomaly_types.is_empty() {
        out.push_str("<p>Found no anomaly they forbid.</p>");
    } else {
        let _ = write!(
            out,
            "<p class=\"elle-forbidden\">Found, and forbidden: {}.</p>",
            counted(forbidden)
        );
    }
    out.push_str(&ruled_out(result));
    let allowed = result
        .stats
        .get("allowed-anomalies")
        .and_then(Json::as_object);
    if let Some(allowed) = allowed.filter(|a| !a.is_empty()) {
        let _ = write!(
            out,
            "<p class=\"elle-allowed\">Found but allowed by {}: {}.</p>",
            names(&promised),
            counted(
                allowed
                    .iter()
                    .map(|(k, n)| (k.as_str(), n.as_u64().unwrap_or(0)))
            )
        );
    }
    out.push_str(&graph_figures(result));
    out.push_str("</div>");
    out
}

/// The models the history rules out: the weakest, then the stronger ones.
fn ruled_out(result: &CheckerResult) -> String {
    let not = strings(result.stats.get("not"));
    let also = strings(result.stats.get("also-not"));
    if not.is_empty() {
        return "<p class=\"elle-not\">The history rules out no consistency model.</p>".into();
    }
    let mut out = format!(
        "<p class=\"elle-not\">The history is not {} (the weakest models it rules out)",
        names(&not)
    );
    if !also.is_empty() {
        let _ = write!(
            out,
            ", <span class=\"elle-also-not\">nor, being stronger, {}</span>",
            names(&also)
        );
    }
    out.push_str(".</p>");
    out
}

/// "4 transactions on 4 keys; 3 ww, 4 wr, 2 rw edges; 1 cycle-bearing component of 3".
fn graph_figures(result: &CheckerResult) -> String {
    let count = |k: &str| result.counts.get(k).copied().unwrap_or(0);
    let edges: Vec<String> = EDGE_KINDS
        .iter()
        .map(|(kind, _)| format!("{} {kind}", count(&format!("{kind}-edges"))))
        .collect();
    format!(
        "<p class=\"elle-graph\">{} transactions on {} keys; dependency edges: {}; {} strongly \
         connected component(s), the largest of {} transactions.</p>",
        count("transactions"),
        count("keys"),
        edges.join(", "),
        count("components"),
        count("largest-component"),
    )
}

#[cfg(test)]
#[path = "elle_tests.rs"]
mod tests;

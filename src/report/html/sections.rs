//! The parts of the page rendered in Rust, readable without the script: the verdict and key
//! figures, each anomaly with its witness ops, and the run. Every text from the system under
//! test or the checkers goes through [`esc`].

use std::collections::BTreeMap;
use std::fmt::Write;

use super::RunInfo;
use super::charts::latency_us;
use super::escape::{esc, shorten};
use super::{elle, linear};
use crate::checker::{Anomaly, Results, Verdict};
use crate::history::{History, Outcome};
use crate::report::Figures;

/// Anomalies of one kind in one checker drawn as cards; the rest are counted.
const CARDS_PER_KIND: usize = 100;
/// Of those, the ones shown before "more" is opened.
const OPEN_PER_KIND: usize = 3;
/// Characters of a witness op's value shown at first, and at most when opened.
const VALUE_SHORT: usize = 120;
const VALUE_CHARS: usize = 4000;

/// The verdict in words and colour, the count of each anomaly type, and the key figures.
pub fn verdict(results: &Results, history: &History, faults: usize) -> String {
    let (class, word, sub) = match results.valid {
        Verdict::Valid => ("valid", "Valid", "No checker found an anomaly."),
        Verdict::Invalid => (
            "invalid",
            "Anomalies found",
            "The history shows the system broke a guarantee it was checked for.",
        ),
        Verdict::Unknown => (
            "unknown",
            "Unknown",
            "A checker could not decide; see its reason below.",
        ),
    };
    let mut out = format!(
        "<section class=\"verdict {class}\" id=\"verdict\"><div class=\"verdict-word\">{word}</div>\
         <p class=\"verdict-sub\">{sub}</p>"
    );
    let kinds = anomaly_counts(results);
    if !kinds.is_empty() {
        out.push_str("<ul class=\"kinds\">");
        for (kind, n) in &kinds {
            let _ = write!(
                out,
                "<li><span class=\"badge kind\">{}</span> <b>{n}</b></li>",
                esc(kind)
            );
        }
        out.push_str("</ul>");
    }
    for (name, result) in &results.checkers {
        if let Some(reason) = result.stats.get("reason").and_then(|r| r.as_str()) {
            let _ = write!(
                out,
                "<p class=\"reason\"><b>{}</b>: {}</p>",
                esc(name),
                esc(reason)
            );
        }
    }
    out.push_str("</section>");
    out.push_str(&figures(results, history, faults));
    out
}

/// Each anomaly type with its count over all checkers (the full count, not only the listed).
fn anomaly_counts(results: &Results) -> BTreeMap<&str, u64> {
    let mut kinds = BTreeMap::new();
    for result in results.checkers.values() {
        for kind in &result.anomaly_types {
            let listed = result.anomalies.iter().filter(|a| &a.kind == kind).count() as u64;
            let n = result
                .counts
                .get(kind)
                .copied()
                .unwrap_or(listed)
                .max(listed);
            *kinds.entry(kind.as_str()).or_insert(0) += n;
        }
    }
    kinds
}

fn figures(results: &Results, history: &History, faults: usize) -> String {
    let f = Figures::of(history);
    let rate = if f.seconds > 0.0 {
        f.ops as f64 / f.seconds
    } else {
        0.0
    };
    let converge =
        results
            .convergence
            .as_ref()
            .map(|c| match (c.converged, c.time_to_converge_ns) {
                (true, Some(ns)) => (
                    format!("{:.1} s", ns as f64 / 1e9),
                    format!("{} rounds", c.rounds),
                ),
                (true, None) => ("converged".into(), format!("{} rounds", c.rounds)),
                (false, _) => ("never".into(), format!("not in {} rounds", c.rounds)),
            });
    let mut cards = vec![
        ("ops", f.ops.to_string(), format!("{rate:.0} ops/s"), ""),
        ("ok", f.ok.to_string(), pct(f.ok, f.ops), "ok"),
        ("fail", f.fail.to_string(), pct(f.fail, f.ops), "fail"),
        (
            "info",
            f.info.to_string(),
            match f.pending {
                0 => pct(f.info, f.ops),
                n => format!("{} · {n} never completed", pct(f.info, f.ops)),
            },
            "info",
        ),
        ("duration", format!("{:.1} s", f.seconds), String::new(), ""),
        ("faults injected", faults.to_string(), String::new(), ""),
    ];
    if let Some((value, note)) = converge {
        cards.push(("time to converge", value, note, ""));
    }
    let mut out = String::from("<section class=\"figures\">");
    for (label, value, note, class) in cards {
        let _ = write!(
            out,
            "<div class=\"figure {class}\"><div class=\"figure-value\">{}</div>\
             <div class=\"figure-label\">{label}</div><div class=\"figure-note\">{}</div></div>",
            esc(&value),
            esc(&note)
        );
    }
    out.push_str("</section>");
    out
}

fn pct(part: u64, whole: u64) -> String {
    match whole {
        0 => String::new(),
        _ => format!("{:.1} %", part as f64 * 100.0 / whole as f64),
    }
}

/// Every listed anomaly as a card: explanation, faults, witness table, and a link that
/// focuses the timeline on it (`data-anomaly` is its place in page order).
pub fn anomalies(results: &Results, history: &History, witnesses: &[Vec<usize>]) -> String {
    let mut out = String::from("<section id=\"anomalies\"><h2>Anomalies</h2>");
    let mut k = 0;
    let mut any = false;
    for (name, result) in &results.checkers {
        let mut by_kind: BTreeMap<&str, Vec<(usize, &Anomaly)>> = BTreeMap::new();
        for anomaly in &result.anomalies {
            by_kind.entry(&anomaly.kind).or_default().push((k, anomaly));
            k += 1;
        }
        for (kind, list) in by_kind {
            any = true;
            let total = result
                .counts
                .get(kind)
                .copied()
                .unwrap_or(0)
                .max(list.len() as u64);
            let _ = write!(
                out,
                "<h3><span class=\"badge kind\">{}</span> in <span class=\"checker-name\">{}</span> \
                 <span class=\"muted\">{total} found</span></h3>",
                esc(kind),
                esc(name)
            );
            for (i, (k, anomaly)) in list.iter().take(CARDS_PER_KIND).enumerate() {
                if i == OPEN_PER_KIND {
                    let _ = write!(
                        out,
                        "<details class=\"more\"><summary>{} more {}</summary>",
                        list.len().min(CARDS_PER_KIND) - OPEN_PER_KIND,
                        esc(kind)
                    );
                }
                let figure = figure(*k, name, anomaly, i);
                out.push_str(&card(*k, name, anomaly, history, &witnesses[*k], &figure));
            }
            if list.len() > OPEN_PER_KIND {
                out.push_str("</details>");
            }
            out.push_str(&undrawn_cycles(name, &list));
            if total > CARDS_PER_KIND.min(list.len()) as u64 {
                let _ = write!(
                    out,
                    "<p class=\"muted\">{} more {} are not drawn here: every listed one is in \
                     results.json, and its witnesses are on the timeline.</p>",
                    total - CARDS_PER_KIND.min(list.len()) as u64,
                    esc(kind)
                );
            }
        }
    }
    if !any {
        out.push_str("<p class=\"muted\">None: no checker listed an anomaly.</p>");
    }
    out.push_str("</section>");
    out
}

/// The diagram the `nth` anomaly of its type gets, if any: a linearization or a cycle.
fn figure(k: usize, checker: &str, anomaly: &Anomaly, nth: usize) -> String {
    if linear::diagrammed(checker, anomaly, nth) {
        linear::figure(k, anomaly)
    } else if elle::is_cycle(checker, anomaly) {
        elle::figure(k, anomaly, nth < elle::DIAGRAMS)
    } else {
        String::new()
    }
}

/// How many of a type's listed cycles have no diagram (past the first [`elle::DIAGRAMS`]).
fn undrawn_cycles(checker: &str, list: &[(usize, &Anomaly)]) -> String {
    let cycles = list
        .iter()
        .take(CARDS_PER_KIND)
        .filter(|(_, a)| elle::is_cycle(checker, a))
        .count();
    if cycles <= elle::DIAGRAMS {
        return String::new();
    }
    format!(
        "<p class=\"muted\">The first {} cycles are drawn; the other {} are listed as steps.</p>",
        elle::DIAGRAMS,
        cycles - elle::DIAGRAMS
    )
}

fn card(
    k: usize,
    checker: &str,
    anomaly: &Anomaly,
    history: &History,
    ops: &[usize],
    figure: &str,
) -> String {
    let mut out = format!(
        "<article class=\"anomaly\" id=\"anomaly-{k}\"><div class=\"anomaly-head\">\
         <span class=\"badge kind\">{}</span><span class=\"checker-name\">{}</span>\
         <a class=\"focus\" href=\"#timeline\" data-anomaly=\"{k}\">show on timeline ▸</a></div>\
         <p class=\"explanation\">{}</p>",
        esc(&anomaly.kind),
        esc(checker),
        esc(&anomaly.explanation)
    );
    if anomaly.faults.is_empty() {
        out.push_str("<p class=\"faults none\">No nemesis fault was active around it.</p>");
    } else {
        out.push_str("<p class=\"faults\">During ");
        for fault in &anomaly.faults {
            let _ = write!(out, "<span class=\"fault\">{}</span> ", esc(fault));
        }
        out.push_str("</p>");
    }
    out.push_str(figure);
    out.push_str(&op_table(history, ops));
    out.push_str("</article>");
    out
}

/// The witness ops as a table: index, time, process, node, f, value, outcome, latency.
pub fn op_table(history: &History, ops: &[usize]) -> String {
    let mut out = String::from(
        "<div class=\"table-wrap\"><table class=\"ops\"><thead><tr><th>index</th><th>time</th>\
         <th>process</th><th>node</th><th>f</th><th>value</th><th>outcome</th>\
         <th>latency</th></tr></thead><tbody>",
    );
    for &p in ops {
        let op = &history.ops[p];
        let index = match op.complete {
            Some(c) => format!("{}→{c}", op.invoke),
            None => op.invoke.to_string(),
        };
        let (class, outcome) = match op.outcome {
            Outcome::Ok => ("ok", "ok"),
            Outcome::Fail => ("fail", "fail"),
            Outcome::Info if op.complete.is_none() => ("info", "never completed"),
            Outcome::Info => ("info", "info"),
        };
        let error = op
            .error()
            .map_or(String::new(), |e| format!(" · {}", esc(e)));
        let latency = latency_us(op).map_or("—".to_owned(), ms);
        let _ = write!(
            out,
            "<tr><td class=\"num\">{index}</td><td class=\"num\">{:.3} s</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"value\">{}</td>\
             <td><span class=\"outcome {class}\">{outcome}</span>{error}</td><td class=\"num\">{latency}</td></tr>",
            op.invoke_time as f64 / 1e9,
            op.process,
            op.node().map_or("—".to_owned(), |n| esc(n)),
            esc(&op.f),
            value_cell(&op.value),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A value, opened on click when it is long (a read of the whole set).
fn value_cell(value: &crate::history::Value) -> String {
    let short = shorten(value, VALUE_SHORT);
    if !short.ends_with('…') {
        return esc(&short);
    }
    format!(
        "<details><summary>{}</summary>{}</details>",
        esc(&short),
        esc(&shorten(value, VALUE_CHARS))
    )
}

/// Microseconds as milliseconds for people.
fn ms(us: u64) -> String {
    match us {
        0..10_000 => format!("{:.2} ms", us as f64 / 1000.0),
        _ => format!("{:.0} ms", us as f64 / 1000.0),
    }
}

/// The run: name, model, seed, version, target, the workload file, and how to re-run it.
pub fn run(history: &History, run: &RunInfo) -> String {
    let mut out = String::from("<section id=\"run\"><h2>The run</h2><dl class=\"run\">");
    let header = history.header.as_ref();
    let workload = run
        .workload
        .as_deref()
        .or(header.map(|h| h.workload.as_str()))
        .filter(|w| !w.is_empty());
    let target = workload.and_then(target_of);
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(h) = header {
        rows.push(("workload", h.name.clone()));
        rows.push(("model", h.model.clone()));
        rows.push(("seed", h.seed.to_string()));
        rows.push(("splitbrain version", h.version.clone()));
        rows.push(("started", h.started_at.clone()));
    } else {
        rows.push((
            "history",
            "no splitbrain header (e.g. recorded by Jepsen)".into(),
        ));
    }
    if let Some(target) = target {
        rows.push(("target", target));
    }
    rows.push(("events", history.event_count.to_string()));
    for (k, v) in rows {
        let _ = write!(out, "<dt>{k}</dt><dd>{}</dd>", esc(&v));
    }
    out.push_str("</dl><h3>Re-run, re-check, re-render</h3><pre class=\"commands\">");
    let dir = run
        .dir
        .as_deref()
        .map_or(".".into(), |d| d.display().to_string());
    match (header.filter(|_| workload.is_some()), &run.workload) {
        (Some(h), Some(_)) => {
            let _ = writeln!(
                out,
                "splitbrain run {}/workload.toml --seed {}",
                esc(&shell_word(&dir)),
                h.seed
            );
        }
        (Some(h), None) => {
            let _ = writeln!(
                out,
                "# save the workload file below (from the history's header) as workload.toml\n\
                 splitbrain run workload.toml --seed {}",
                h.seed
            );
        }
        _ => {}
    }
    let history_path = run
        .history
        .as_deref()
        .map_or(format!("{dir}/history.jsonl"), |p| p.display().to_string());
    let report_history = match &run.history {
        Some(_) => format!(" --history {}", shell_word(&history_path)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "splitbrain check {}\nsplitbrain report {}{}",
        esc(&shell_word(&history_path)),
        esc(&shell_word(&dir)),
        esc(&report_history)
    );
    out.push_str("</pre>");
    if let Some(text) = workload {
        let _ = write!(
            out,
            "<h3>Workload file</h3><pre class=\"workload\">{}</pre>",
            esc(text)
        );
    }
    out.push_str("</section>");
    out
}

/// `target.base_url` of a workload file, if it parses and has one.
fn target_of(workload: &str) -> Option<String> {
    let doc: toml::Table = workload.parse().ok()?;
    Some(doc.get("target")?.get("base_url")?.as_str()?.to_owned())
}

/// A path as one shell word: quoted when it holds anything but plain characters.
fn shell_word(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

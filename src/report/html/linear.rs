//! The linearizability checkers' part of the page (`register`, `cas-register`, `kv`, `mutex`,
//! `multi-register`). For each nonlinearizable key, after Porcupine's visualisation: a diagram
//! (a lane per process, each op a bar from invocation to completion, the linearized ones
//! numbered in linearization order and joined at their linearization points, the op that
//! cannot take effect in red), which `app.js` draws from the page data, and the last steps in
//! words with the state after each, rendered here so they read without the script. The
//! checker's section says how the keys were decided and why any is unknown.

use std::fmt::Write;

use serde_json::{Value as Json, json};

use super::checkers::Kind;
use super::escape::esc;
use crate::checker::linear::NONLINEARIZABLE;
use crate::checker::{Anomaly, CheckerResult, Results};

/// Diagrams drawn per checker, at most (one per nonlinearizable key; the search stops at the
/// first unless told otherwise).
pub const DIAGRAMS: usize = 20;

/// Whether the `nth` anomaly of its kind in `checker` gets a diagram.
pub fn diagrammed(checker: &str, anomaly: &Anomaly, nth: usize) -> bool {
    Kind::of(checker) == Kind::Linear
        && anomaly.kind == NONLINEARIZABLE
        && nth < DIAGRAMS
        && anomaly.details["ops"].is_array()
}

/// The diagrams' data for the page's JSON, each naming its anomaly's place in page order
/// (the `data-anomaly` of its card).
pub fn data(results: &Results) -> Vec<Json> {
    let mut out = Vec::new();
    let mut k = 0;
    for (name, result) in &results.checkers {
        let mut nth = 0;
        for anomaly in &result.anomalies {
            if anomaly.kind == NONLINEARIZABLE {
                if diagrammed(name, anomaly, nth) {
                    let d = &anomaly.details;
                    out.push(json!({
                        "anomaly": k,
                        "key": d["key"],
                        "blocked": d["blocked"],
                        "ops": d["ops"],
                        "linearization": d["linearization"],
                        "states": d["states"],
                        "prefix-length": d["prefix-length"],
                    }));
                }
                nth += 1;
            }
            k += 1;
        }
    }
    out
}

/// A state as a person reads it: `nil` for a missing register, strings quoted.
fn state_text(state: &Json) -> String {
    match state {
        Json::Null => "nil".to_owned(),
        other => other.to_string(),
    }
}

/// "4", "4 or nil", "1, 2 or 3".
fn states_text(states: &Json) -> String {
    let all: Vec<String> = states
        .as_array()
        .into_iter()
        .flatten()
        .map(state_text)
        .collect();
    match all.split_last() {
        None => "none".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The diagram's frame (drawn by the script) and the steps in words, for anomaly `k`.
pub fn figure(k: usize, anomaly: &Anomaly) -> String {
    let d = &anomaly.details;
    let steps = d["linearization"].as_array().map_or(&[][..], Vec::as_slice);
    let total = d["prefix-length"].as_u64().unwrap_or(steps.len() as u64);
    let on_key = match d["key"].as_str() {
        Some("") | None => String::new(),
        Some(key) => format!(" on key {}", esc(&format!("{key:?}"))),
    };
    let mut out = format!(
        "<figure class=\"linear\" id=\"linear-{k}\"><figcaption>The ops{on_key} around the \
         failure: the last {} of {total} linearized ops numbered in the order they take effect, \
         joined at their linearization points; the op that cannot take effect in red. Hover an \
         op for the state after it.</figcaption><div class=\"linear-wrap\">\
         <svg class=\"linear-svg\" data-anomaly=\"{k}\" xmlns=\"http://www.w3.org/2000/svg\" \
         role=\"img\" aria-label=\"linearization diagram\"></svg></div>\
         <p class=\"linear-legend\"><i class=\"sw lin\"></i>linearized <i class=\"sw pending\"></i>\
         not linearized <i class=\"sw blocked\"></i>cannot take effect <i class=\"sw open\"></i>\
         result unknown (may take effect until the end)</p>",
        steps.len(),
    );
    out.push_str(&step_list(d, steps, total));
    out.push_str("</figure>");
    out
}

/// "41. p3 write(4) → state 4 … ✗ p1 read() -> 3 cannot take effect here: …".
fn step_list(d: &Json, steps: &[Json], total: u64) -> String {
    let mut out = String::from("<ol class=\"linear-steps\">");
    let first = steps.first().and_then(|s| s["order"].as_u64()).unwrap_or(1);
    let before = state_text(&d["state-before"]);
    if first > 1 {
        let _ = write!(
            out,
            "<li class=\"note\">… {} earlier steps, after which the state is \
             <code>{}</code></li>",
            first - 1,
            esc(&before)
        );
    } else {
        let _ = write!(
            out,
            "<li class=\"note\">from the initial state <code>{}</code></li>",
            esc(&before)
        );
    }
    for step in steps {
        let _ = write!(
            out,
            "<li value=\"{}\"><b>p{}</b> <code>{}</code> → state <code>{}</code></li>",
            step["order"].as_u64().unwrap_or(0),
            step["process"].as_u64().unwrap_or(0),
            esc(step["op"].as_str().unwrap_or("")),
            esc(&state_text(&step["state"])),
        );
    }
    let blocked = &d["blocked"];
    let process = blocked["process"]
        .as_u64()
        .map_or(String::new(), |p| format!("p{p} "));
    let _ = write!(
        out,
        "<li class=\"blocked\">✗ <b>{process}</b><code>{}</code> (invoked at index {}) cannot take \
         effect here: after any order of the {total} ops before it, the state could only be \
         <code>{}</code></li></ol>",
        esc(blocked["op"].as_str().unwrap_or("")),
        blocked["invoke"],
        esc(&states_text(&d["states"])),
    );
    out
}

/// The checker's own block: how its keys were decided, and why any is unknown.
pub fn summary(result: &CheckerResult) -> String {
    let count = |k: &str| result.counts.get(k).copied().unwrap_or(0);
    let keys = count("keys");
    let parts: Vec<String> = [
        ("keys-linearizable", "linearizable"),
        ("keys-nonlinearizable", "not linearizable"),
        ("keys-unknown", "unknown (the search passed its bound)"),
        (
            "keys-skipped",
            "not searched (the search stops at the first nonlinearizable key)",
        ),
    ]
    .iter()
    .filter(|(k, _)| count(k) > 0)
    .map(|(k, words)| format!("{} {words}", count(k)))
    .collect();
    let mut out = format!(
        "<p class=\"linear-summary\">{} ops on {keys} key{}: {}.</p>",
        count("ops"),
        if keys == 1 { "" } else { "s" },
        if parts.is_empty() {
            "nothing to check".to_owned()
        } else {
            parts.join(", ")
        }
    );
    let unknown = result.stats.get("unknown-keys").and_then(Json::as_array);
    if let Some(unknown) = unknown.filter(|u| !u.is_empty()) {
        out.push_str(
            "<div class=\"table-wrap\"><table class=\"details unknown-keys\"><thead><tr>\
             <th>unknown key</th><th>why</th></tr></thead><tbody>",
        );
        for u in unknown {
            let key = match u["key"].as_str() {
                Some("") => "(the register)".to_owned(),
                Some(key) => format!("{key:?}"),
                None => u["key"].to_string(),
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&key),
                esc(u["reason"].as_str().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table></div>");
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::checker::Verdict;

    fn anomaly() -> Anomaly {
        Anomaly {
            kind: NONLINEARIZABLE.into(),
            ops: vec![4, 3],
            explanation: "x".into(),
            faults: vec![],
            details: json!({
                "key": "<k>",
                "blocked": {"invoke": 6, "complete": 9, "process": 2, "op": "read() -> 1"},
                "prefix-length": 42,
                "states": [2, null],
                "state-before": 7,
                "ops": [],
                "linearization": [
                    {"order": 41, "invoke": 2, "process": 0, "op": "write(<b>)", "state": 2},
                    {"order": 42, "invoke": 4, "process": 1, "op": "cas(2, 3) -> fail",
                     "state": 2},
                ],
            }),
            window: None,
        }
    }

    #[test]
    fn the_steps_read_in_words_with_their_states_and_the_blocked_op() {
        let html = figure(3, &anomaly());
        assert!(html.contains("data-anomaly=\"3\""), "{html}");
        assert!(html.contains("… 40 earlier steps, after which the state is <code>7</code>"));
        assert!(
            html.contains("<li value=\"41\"><b>p0</b> <code>write(&lt;b&gt;)</code> → state"),
            "{html}"
        );
        assert!(html.contains(
            "✗ <b>p2 </b><code>read() -&gt; 1</code> (invoked at index 6) cannot take effect here"
        ));
        assert!(
            html.contains("the state could only be <code>2 or nil</code>"),
            "{html}"
        );
        assert!(html.contains("on key &quot;&lt;k&gt;&quot;"), "{html}");
    }

    #[test]
    fn only_nonlinearizable_anomalies_of_linear_checkers_get_a_diagram() {
        let mut other = anomaly();
        other.kind = "lost".into();
        let checkers = BTreeMap::from([
            (
                "cas-register".to_owned(),
                result(vec![anomaly(), anomaly()]),
            ),
            ("set".to_owned(), result(vec![anomaly()])),
            ("zz-kv".to_owned(), result(vec![other])),
        ]);
        let data = data(&Results::from_checkers(checkers));
        let at: Vec<&Json> = data.iter().map(|d| &d["anomaly"]).collect();
        assert_eq!(at, [&json!(0), &json!(1)]);
        assert_eq!(Kind::of("kv"), Kind::Linear);
        assert_eq!(Kind::of("multi-register"), Kind::Linear);
    }

    fn result(anomalies: Vec<Anomaly>) -> CheckerResult {
        CheckerResult {
            valid: Verdict::Invalid,
            anomaly_types: vec![NONLINEARIZABLE.into()],
            anomalies,
            counts: BTreeMap::new(),
            stats: BTreeMap::new(),
        }
    }

    #[test]
    fn unknown_keys_are_listed_with_their_reasons_and_counts_said_in_words() {
        let mut r = result(vec![]);
        r.valid = Verdict::Unknown;
        r.counts = BTreeMap::from([
            ("ops".to_owned(), 12),
            ("keys".to_owned(), 3),
            ("keys-linearizable".to_owned(), 2),
            ("keys-unknown".to_owned(), 1),
        ]);
        r.stats.insert(
            "unknown-keys".into(),
            json!([{"key": "a<", "reason": "the search ran out of time (the time bound)"}]),
        );
        let html = summary(&r);
        assert!(
            html.contains("12 ops on 3 keys: 2 linearizable, 1 unknown"),
            "{html}"
        );
        assert!(html.contains("<td>&quot;a&lt;&quot;</td><td>the search ran out of time"));
    }
}

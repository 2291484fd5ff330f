//! The terminal summary printed at the end of `run` and `check`: the verdict in words first,
//! then each checker's anomalies (the first few, with their witnesses), then the run's figures.

use std::fmt::Write;

use crate::checker::relations::Convergence;
use crate::checker::{Results, Verdict};
use crate::history::{History, Outcome, Value};

/// How many anomalies of each checker the summary spells out.
const SHOWN: usize = 5;

/// Key figures of a history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub ops: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    /// Operations that never completed (counted in `info` too).
    pub pending: u64,
    /// Seconds from the first to the last event.
    pub seconds: f64,
}

impl Figures {
    /// Counts a history's operations by outcome.
    pub fn of(history: &History) -> Figures {
        let mut f = Figures::default();
        let mut last = 0;
        for op in &history.ops {
            f.ops += 1;
            match op.outcome {
                Outcome::Ok => f.ok += 1,
                Outcome::Fail => f.fail += 1,
                Outcome::Info => f.info += 1,
            }
            f.pending += u64::from(op.complete.is_none());
            last = last.max(op.complete_time.unwrap_or(op.invoke_time));
        }
        let first = history.ops.first().map_or(0, |op| op.invoke_time);
        f.seconds = last.saturating_sub(first) as f64 / 1e9;
        f
    }
}

/// The summary as text.
pub fn summary(results: &Results, history: &History) -> String {
    let mut out = String::new();
    let headline = match results.valid {
        Verdict::Valid => "VALID: no anomalies found",
        Verdict::Invalid => "INVALID: anomalies found",
        Verdict::Unknown => "UNKNOWN: a checker could not decide",
    };
    let _ = writeln!(out, "\n{headline}");
    for (name, result) in &results.checkers {
        let counts: Vec<String> = result
            .anomaly_types
            .iter()
            .map(|t| format!("{t} {}", result.counts.get(t).copied().unwrap_or(0)))
            .collect();
        let _ = writeln!(
            out,
            "  {name}: {}  {}",
            result.valid.as_str(),
            counts.join(", ")
        );
        for note in ["reason", "warning"] {
            if let Some(text) = result.stats.get(note) {
                let text = text
                    .as_str()
                    .map_or_else(|| text.to_string(), str::to_owned);
                let _ = writeln!(out, "    {note}: {}", one_line(&text));
            }
        }
        if let Some(stale) = result.counts.get("stale").filter(|n| **n > 0)
            && result.valid != Verdict::Invalid
        {
            let _ = writeln!(
                out,
                "    note: {stale} stale reads (allowed: the set is not declared linearizable)"
            );
        }
        for anomaly in result.anomalies.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "    {}: {}",
                anomaly.kind,
                one_line(&anomaly.explanation)
            );
            if !anomaly.faults.is_empty() {
                let _ = writeln!(out, "      during: {}", anomaly.faults.join("; "));
            }
        }
        if result.anomalies.len() > SHOWN {
            let _ = writeln!(
                out,
                "    ... and {} more in results.json",
                result.anomalies.len() - SHOWN
            );
        }
    }
    if let Some(convergence) = &results.convergence {
        let _ = writeln!(out, "  {}", convergence_line(convergence, history));
    }
    let f = Figures::of(history);
    let _ = writeln!(
        out,
        "  ops: {} (ok {}, fail {}, info {}{}) over {:.1} s, {:.0} ops/s",
        f.ops,
        f.ok,
        f.fail,
        f.info,
        if f.pending > 0 {
            format!(", {} never completed", f.pending)
        } else {
            String::new()
        },
        f.seconds,
        if f.seconds > 0.0 {
            f.ops as f64 / f.seconds
        } else {
            0.0
        }
    );
    out
}

/// `converged after 2.4 s (7 rounds)`, or `did NOT converge within 30 s: <unmet lines>`, the
/// time being how long the convergence phase polled (from its first read to its last).
fn convergence_line(convergence: &Convergence, history: &History) -> String {
    let rounds = match convergence.rounds {
        1 => "1 round".to_owned(),
        n => format!("{n} rounds"),
    };
    match (convergence.converged, convergence.time_to_converge_ns) {
        (true, Some(ns)) => format!("converged after {:.1} s ({rounds})", ns as f64 / 1e9),
        (true, None) => format!("converged ({rounds})"),
        (false, _) => {
            let polled = polling_seconds(history);
            let unmet = if convergence.unmet.is_empty() {
                "no round read every view".to_owned()
            } else {
                one_line(&convergence.unmet.join("; "))
            };
            format!("did NOT converge within {polled:.0} s ({rounds}): {unmet}")
        }
    }
}

/// Seconds from the first convergence-phase read's invocation to the last one's completion.
fn polling_seconds(history: &History) -> f64 {
    let is_round = |value: &Value| match value {
        Value::Map(entries) => entries.iter().any(|(k, _)| k.as_str() == Some("round")),
        _ => false,
    };
    let polls = history
        .ops
        .iter()
        .filter(|op| op.f.starts_with("view:") && is_round(&op.value));
    let (first, last) = polls.fold((u64::MAX, 0), |(first, last), op| {
        (
            first.min(op.invoke_time),
            last.max(op.complete_time.unwrap_or(op.invoke_time)),
        )
    });
    last.saturating_sub(first) as f64 / 1e9
}

/// `text` on one line: control characters (a newline in a value from the system under test)
/// are shown escaped, so no line of the summary can be forged, e.g. as a CI runner's
/// `::command::` line.
fn one_line(text: &str) -> String {
    if !text.contains(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            '\r' => vec!['\\', 'r'],
            c if c.is_control() => format!("\\u{{{:x}}}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convergence(converged: bool, ns: Option<u64>, unmet: &[&str]) -> Convergence {
        Convergence {
            converged,
            rounds: 7,
            time_to_converge_ns: ns,
            unmet: unmet.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn the_convergence_line_gives_the_time_and_rounds_or_what_is_unmet() {
        let empty = History::default();
        assert_eq!(
            convergence_line(&convergence(true, Some(2_400_000_000), &[]), &empty),
            "converged after 2.4 s (7 rounds)"
        );
        assert_eq!(
            convergence_line(
                &convergence(
                    false,
                    None,
                    &["agree(a,b): 17 only in a", "covers(add→b): 3 lost"]
                ),
                &empty
            ),
            "did NOT converge within 0 s (7 rounds): agree(a,b): 17 only in a; covers(add→b): 3 lost"
        );
    }

    #[test]
    fn a_newline_from_the_system_cannot_start_a_line_of_its_own() {
        let forged = one_line("value \"x\n::error::forged\r\u{7}\"");
        assert_eq!(forged, "value \"x\\n::error::forged\\r\\u{7}\"");
        assert!(!forged.contains('\n'));
        assert_eq!(one_line("plain"), "plain");
    }
}

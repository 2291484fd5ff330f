//! GitHub Actions: the Markdown summary appended to `$GITHUB_STEP_SUMMARY`, and one
//! `::error` workflow command per checker that found anomalies (`::warning` for one that could
//! not decide), escaped by the runner's rules (actions/toolkit `command.ts`: `%`, `\r`, `\n`
//! in the message; also `:` and `,` in a property such as `title`). What the system under test
//! returned reaches these outputs only inside explanations, and is escaped there; secrets
//! never do (they are resolved inside the client and never recorded).

use std::fmt::Write;

use super::text::witness_line;
use super::{Run, WITNESSES, anomaly_counts, counts_text, note, run_name};
use crate::checker::{Results, Verdict};
use crate::report::Figures;

/// How many witnesses an `::error` line carries (annotations are short).
const ANNOTATION_WITNESSES: usize = 3;

/// Escapes a workflow command's message: `%`, `\r`, `\n`.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error title=…::…` for each invalid checker, `::warning title=…::…` for each unknown one,
/// one a line.
pub fn workflow_commands(results: &Results) -> String {
    let mut out = String::new();
    for (name, result) in &results.checkers {
        let (command, message) = match result.valid {
            Verdict::Valid => continue,
            Verdict::Invalid => {
                let mut lines = vec![format!(
                    "anomalies: {}",
                    counts_text(&anomaly_counts(result))
                )];
                lines.extend(
                    result
                        .anomalies
                        .iter()
                        .take(ANNOTATION_WITNESSES)
                        .map(witness_line),
                );
                ("error", lines.join("\n"))
            }
            Verdict::Unknown => (
                "warning",
                format!(
                    "unknown: {}",
                    note(result, "reason").unwrap_or_else(|| "no reason given".into())
                ),
            ),
        };
        let title = format!("splitbrain {name}: {}", result.valid.as_str());
        let _ = writeln!(
            out,
            "::{command} title={}::{}",
            escape_property(&title),
            escape_data(&message)
        );
    }
    out
}

/// The run as Markdown: the verdict, a table of checkers with their anomaly counts, the first
/// witnesses of each invalid checker, the key figures and where the run folder is.
pub fn step_summary(run: &Run<'_>) -> String {
    let results = run.results;
    let verdict = match results.valid {
        Verdict::Valid => "✅ valid: no anomalies found",
        Verdict::Invalid => "❌ invalid: anomalies found",
        Verdict::Unknown => "⚠️ unknown: a checker could not decide",
    };
    let name = run_name(run.history, run.dir);
    let mut md = format!("### splitbrain {}: {verdict}\n\n", markdown(&name));
    md.push_str("| checker | verdict | anomalies |\n| --- | --- | --- |\n");
    for (checker, result) in &results.checkers {
        let detail = match result.valid {
            Verdict::Unknown => note(result, "reason").unwrap_or_default(),
            _ => counts_text(&anomaly_counts(result)),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            markdown(checker),
            result.valid.as_str(),
            markdown(&detail)
        );
    }
    for (checker, result) in results
        .checkers
        .iter()
        .filter(|(_, r)| !r.anomalies.is_empty())
    {
        let _ = writeln!(md, "\n**{}**, first witnesses:\n", markdown(checker));
        for anomaly in result.anomalies.iter().take(WITNESSES) {
            let _ = writeln!(md, "- {}", markdown(&witness_line(anomaly)));
        }
        if result.anomalies.len() > WITNESSES {
            let more = result.anomalies.len() - WITNESSES;
            let _ = writeln!(md, "- … and {more} more in results.json");
        }
    }
    let _ = writeln!(md, "\n{}", figures_line(run));
    let _ = writeln!(
        md,
        "\nRun folder: {}\n",
        markdown(&run.dir.display().to_string())
    );
    md
}

/// `2 ops (ok 2, fail 0, info 0) over 1.5 s · seed 42 · converged after 2.4 s`.
fn figures_line(run: &Run<'_>) -> String {
    let f = Figures::of(run.history);
    let mut line = format!(
        "{} ops (ok {}, fail {}, info {}) over {:.1} s",
        f.ops, f.ok, f.fail, f.info, f.seconds
    );
    if let Some(header) = &run.history.header {
        let _ = write!(line, " · seed {}", header.seed);
    }
    if let Some(c) = &run.results.convergence {
        match c.time_to_converge_ns {
            Some(ns) if c.converged => {
                let _ = write!(line, " · converged after {:.1} s", ns as f64 / 1e9);
            }
            _ if c.converged => line.push_str(" · converged"),
            _ => line.push_str(" · did NOT converge"),
        }
    }
    line
}

/// Text that stays text in GitHub Markdown, on one line and inside a table cell.
fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' | '\n' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ci::tests::{example, example_history};

    #[test]
    fn workflow_command_escaping_follows_the_runner_rules() {
        assert_eq!(escape_data("100%\r\nnext"), "100%25%0D%0Anext");
        assert_eq!(escape_property("a: b, c%\n"), "a%3A b%2C c%25%0A");
    }

    #[test]
    fn an_error_line_per_invalid_checker_and_a_warning_per_unknown_one() {
        let out = workflow_commands(&example());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(
            lines[0].starts_with("::warning title=splitbrain conserved(stock)%3A unknown::"),
            "{out}"
        );
        assert!(
            lines[1].starts_with(
                "::error title=splitbrain covers(place→orders)%3A invalid::anomalies: lost 3%0Alost: order"
            ),
            "{out}"
        );
        assert_eq!(lines[1].matches("%0Alost:").count(), ANNOTATION_WITNESSES);
    }

    #[test]
    fn the_step_summary_has_the_verdict_a_table_and_escaped_witnesses() {
        let (results, history) = (example(), example_history());
        let run = Run {
            dir: std::path::Path::new("reports/shop/2026-11-30T02-40-12Z"),
            reports: None,
            results: &results,
            history: &history,
        };
        let md = step_summary(&run);
        assert!(
            md.starts_with("### splitbrain shop: ❌ invalid: anomalies found\n"),
            "{md}"
        );
        assert!(
            md.contains("| covers(place→orders) | invalid | lost 3 |"),
            "{md}"
        );
        assert!(
            md.contains("| conserved(stock) | unknown | no convergence rounds |"),
            "{md}"
        );
        assert!(
            md.contains("- lost: order &lt;b&gt;&amp;7&lt;/b&gt; was placed"),
            "{md}"
        );
        assert!(!md.contains('\u{1b}'));
        assert!(
            md.contains("2 ops (ok 2, fail 0, info 0) over 1.5 s · seed 42"),
            "{md}"
        );
        assert!(
            md.contains("Run folder: reports/shop/2026-11-30T02-40-12Z"),
            "{md}"
        );
    }

    #[test]
    fn markdown_keeps_table_cells_and_markup_as_text() {
        assert_eq!(markdown("a|b\n*c*"), "a\\|b \\*c\\*");
    }
}

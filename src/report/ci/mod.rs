//! What a CI job reads from a run: `junit.xml` in the run folder (GitLab, Jenkins and GitHub
//! test reporters read it as is), a Markdown summary appended to `$GITHUB_STEP_SUMMARY`,
//! `::error` workflow commands under GitHub Actions, and `reports/index.html`, every run in
//! the reports folder newest first. Like the rest of `report/`, it shows what the checkers
//! decided and never decides anything itself.

mod github;
mod index;
mod junit;
mod text;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use github::{escape_data, escape_property, step_summary, workflow_commands};
pub use index::{IndexEntry, index_html, scan, write_index};
pub use junit::{junit, write_junit};

use crate::checker::{CheckerResult, Results};
use crate::history::History;

/// How many anomalies per checker the CI outputs spell out (the rest are in results.json).
pub const WITNESSES: usize = 5;

/// One finished run or check, as the CI outputs see it.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    /// The run folder, where results.json already is.
    pub dir: &'a Path,
    /// The reports folder whose index.html lists this run; `None` when the run folder lies
    /// outside one (`--out` elsewhere).
    pub reports: Option<&'a Path>,
    pub results: &'a Results,
    pub history: &'a History,
}

/// Why a CI output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CiError {
    #[error("failed to write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("failed to serialise junit.xml: {0}")]
    Junit(#[from] quick_junit::SerializeError),
}

/// Writes every CI output of a run: `junit.xml`; with `GITHUB_STEP_SUMMARY` set (read through
/// `env`), the Markdown summary appended to that file; with `GITHUB_ACTIONS=true`, the
/// `::error` lines on `stdout`; and the reports folder's `index.html`. One output failing does
/// not stop the others: the errors come back for the caller to show as warnings.
pub fn write_all(
    run: &Run<'_>,
    env: impl Fn(&str) -> Option<String>,
    stdout: &mut impl Write,
) -> Vec<CiError> {
    let mut errors = Vec::new();
    if let Err(e) = write_junit(run) {
        errors.push(e);
    }
    if let Some(path) = env("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if let Err(source) = append(&path, &step_summary(run)) {
            errors.push(CiError::Write { path, source });
        }
    }
    if env("GITHUB_ACTIONS").as_deref() == Some("true") {
        let _ = stdout.write_all(workflow_commands(run.results).as_bytes());
        let _ = stdout.flush();
    }
    if let Some(reports) = run.reports
        && let Err(e) = write_index(reports)
    {
        errors.push(e);
    }
    errors
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())
}

/// `(type, count)` for each anomaly type a checker found: its count in `counts`, else the
/// number of witnessed anomalies of that type.
pub fn anomaly_counts(result: &CheckerResult) -> Vec<(String, u64)> {
    result
        .anomaly_types
        .iter()
        .map(|t| {
            let witnessed = result.anomalies.iter().filter(|a| &a.kind == t).count() as u64;
            let n = result.counts.get(t).copied().unwrap_or(witnessed);
            (t.clone(), n)
        })
        .collect()
}

/// `lost 3, unexpected 1`.
pub fn counts_text(counts: &[(String, u64)]) -> String {
    let parts: Vec<String> = counts.iter().map(|(t, n)| format!("{t} {n}")).collect();
    parts.join(", ")
}

/// The workload's name from the history header; for a history without one (Jepsen's), the
/// name of the folder above the run folder (`reports/check/<history name>/<timestamp>/`).
pub fn run_name(history: &History, dir: &Path) -> String {
    if let Some(header) = history.header.as_ref().filter(|h| !h.name.is_empty()) {
        return header.name.clone();
    }
    dir.parent().and_then(Path::file_name).map_or_else(
        || "history".to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Why a checker said unknown, or warned, from its stats.
fn note(result: &CheckerResult, key: &str) -> Option<String> {
    result
        .stats
        .get(key)
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use crate::checker::{Anomaly, CheckerResult, Results, Verdict};
    use crate::history::History;

    fn checker(valid: Verdict, anomalies: Vec<Anomaly>) -> CheckerResult {
        let mut types: Vec<String> = anomalies.iter().map(|a| a.kind.clone()).collect();
        types.dedup();
        CheckerResult {
            valid,
            anomaly_types: types,
            anomalies,
            counts: BTreeMap::new(),
            stats: BTreeMap::new(),
        }
    }

    fn lost(n: u64) -> Anomaly {
        Anomaly {
            kind: "lost".into(),
            ops: vec![1, 3],
            explanation: format!("order <b>&{n}</b> was placed\u{1b}[31m but is not in orders"),
            faults: vec!["partition orders-1 | orders-2,orders-3".into()],
            details: serde_json::Value::Null,
            window: None,
        }
    }

    /// Three checkers: valid, invalid (3 lost, one with markup in it), unknown.
    pub(crate) fn example() -> Results {
        let mut checkers = BTreeMap::new();
        checkers.insert("set".to_owned(), checker(Verdict::Valid, vec![]));
        let mut covers = checker(Verdict::Invalid, vec![lost(7), lost(8), lost(9)]);
        covers.counts.insert("lost".into(), 3);
        checkers.insert("covers(place→orders)".to_owned(), covers);
        let mut conserved = checker(Verdict::Unknown, vec![]);
        conserved
            .stats
            .insert("reason".into(), "no convergence rounds".into());
        checkers.insert("conserved(stock)".to_owned(), conserved);
        Results::from_checkers(checkers)
    }

    /// A header (workload "shop", seed 42) and two operations.
    pub(crate) fn example_history() -> History {
        let text = concat!(
            r#"{"splitbrain_history":1,"version":"0.1.0","name":"shop","model":"set","seed":42,"started_at":"2026-11-30T02:40:12Z","workload":"name = \"shop\""}"#,
            "\n",
            r#"{"index":0,"time":0,"process":0,"type":"invoke","f":"add","value":1}"#,
            "\n",
            r#"{"index":1,"time":1000000,"process":0,"type":"ok","f":"add","value":1}"#,
            "\n",
            r#"{"index":2,"time":2000000,"process":1,"type":"invoke","f":"read","value":null}"#,
            "\n",
            r#"{"index":3,"time":1500000000,"process":1,"type":"ok","f":"read","value":[1]}"#,
            "\n",
        );
        crate::history::read_jsonl_from(text.as_bytes(), std::path::Path::new("h.jsonl"))
            .expect("a valid history")
            .0
    }
}

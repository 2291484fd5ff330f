//! `report.html`: one self-contained file a person opens when a run failed. Verdict first,
//! then each anomaly with its witnesses and the faults around it, a timeline of every lane
//! with the nemesis' windows, charts over time, each checker's details, and the run.
//!
//! Inline CSS, JS and SVG only, under a Content-Security-Policy that forbids any network
//! load, so it opens from `file://`, offline. What came from the system under test is
//! escaped (`escape.rs`); the script's data is one JSON object (`data.rs`), summarised for
//! drawing beyond `select::DETAIL_LIMIT` ops but always carrying every witness op.
//! Like the rest of `report/`, it never decides validity: it shows what the checkers decided.

mod charts;
mod checkers;
mod cycle_svg;
mod data;
mod elle;
mod escape;
mod lanes;
mod linear;
mod page;
mod sections;
mod select;

use std::path::{Path, PathBuf};

pub use checkers::Kind;
pub use escape::{esc, script_json};
pub use page::render;
pub use select::DETAIL_LIMIT;

use crate::checker::Results;
use crate::history::History;

/// What the report says about the run beyond the history and the results.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// The workload file's text (the run folder's `workload.toml`); without it, the history
    /// header's copy is shown.
    pub workload: Option<String>,
    /// The run folder, for the commands that re-run, re-check and re-render it.
    pub dir: Option<PathBuf>,
    /// The history file, when it is not the folder's `history.jsonl`.
    pub history: Option<PathBuf>,
}

/// Renders the report and writes it to `dir/report.html`, returning that path.
pub fn write(
    dir: &Path,
    results: &Results,
    history: &History,
    mut run: RunInfo,
) -> std::io::Result<PathBuf> {
    run.dir = Some(dir.to_path_buf());
    let path = dir.join("report.html");
    std::fs::write(&path, render(results, history, &run))?;
    Ok(path)
}

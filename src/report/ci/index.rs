//! `reports/index.html`: every run under the reports folder (`<name>/<timestamp>/`, and
//! `check/<history>/<timestamp>/`) with its verdict, anomaly counts by type and key figures,
//! newest first, each linking to its `report.html` (to its folder when a run has none), and a
//! strip of verdicts per workload so trends show. It reads what the runs left: `results.json`
//! for the verdicts and `junit.xml`'s properties for the figures (a run from before junit.xml
//! shows none). One self-contained file: inline CSS, a Content-Security-Policy that forbids
//! every load, every text escaped. Rewritten whole after each run, through a temporary file.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{CiError, anomaly_counts};
use crate::checker::{Results, Verdict};
use crate::report::html::esc as html;

/// How deep under the reports folder run folders are looked for (`check/<history>/<ts>/`).
const DEPTH: usize = 3;
/// Verdicts per workload in the trend strip.
const TREND: usize = 40;

/// What a path segment keeps unencoded in a link.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One run found under the reports folder.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    /// The run folder, relative to the reports folder.
    pub rel: PathBuf,
    /// The workload's name (junit.xml's suite), else the folders above the run folder.
    pub name: String,
    /// From the folder's timestamp name, else results.json's modification time.
    pub when: SystemTime,
    /// `None` when results.json cannot be read.
    pub verdict: Option<Verdict>,
    /// Anomaly counts by type, summed over checkers.
    pub anomalies: BTreeMap<String, u64>,
    /// junit.xml's properties: ops, ok, fail, info, duration_s, time_to_converge_s.
    pub figures: BTreeMap<String, String>,
    /// Whether the run folder has a report.html.
    pub has_report: bool,
}

/// Every run under `reports`, newest first.
pub fn scan(reports: &Path) -> Vec<IndexEntry> {
    let mut entries = Vec::new();
    visit(reports, reports, DEPTH, &mut entries);
    entries.sort_by(|a, b| b.when.cmp(&a.when).then_with(|| b.rel.cmp(&a.rel)));
    entries
}

fn visit(reports: &Path, dir: &Path, depth: usize, entries: &mut Vec<IndexEntry>) {
    let Ok(children) = std::fs::read_dir(dir) else {
        return;
    };
    for child in children.flatten() {
        // `latest` links and anything else linked would list a run twice.
        let is_dir = child.file_type().is_ok_and(|t| t.is_dir());
        let path = child.path();
        if !is_dir {
            continue;
        }
        if path.join("results.json").is_file() {
            entries.push(entry(reports, &path));
        } else if depth > 1 {
            visit(reports, &path, depth - 1, entries);
        }
    }
}

fn entry(reports: &Path, dir: &Path) -> IndexEntry {
    let rel = dir.strip_prefix(reports).unwrap_or(dir).to_path_buf();
    let results: Option<Results> = std::fs::read_to_string(dir.join("results.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let mut anomalies = BTreeMap::new();
    for result in results.iter().flat_map(|r| r.checkers.values()) {
        for (kind, n) in anomaly_counts(result) {
            *anomalies.entry(kind).or_insert(0) += n;
        }
    }
    let (suite, figures) = junit_properties(dir);
    let name = suite.unwrap_or_else(|| {
        rel.parent()
            .map_or_else(String::new, |p| p.display().to_string())
    });
    IndexEntry {
        when: when(dir),
        name,
        verdict: results.map(|r| r.valid),
        anomalies,
        figures,
        has_report: dir.join("report.html").is_file(),
        rel,
    }
}

/// The suite's name and properties from the run's junit.xml, if it has one.
fn junit_properties(dir: &Path) -> (Option<String>, BTreeMap<String, String>) {
    let Some(report) = std::fs::read_to_string(dir.join("junit.xml"))
        .ok()
        .and_then(|xml| quick_junit::Report::deserialize_from_str(&xml).ok())
    else {
        return (None, BTreeMap::new());
    };
    let Some(suite) = report.test_suites.first() else {
        return (None, BTreeMap::new());
    };
    let props = suite
        .properties
        .iter()
        .map(|p| (p.name.as_str().to_owned(), p.value.as_str().to_owned()))
        .collect();
    (Some(suite.name.as_str().to_owned()), props)
}

/// `2026-11-30T02-40-12Z` (and `…Z-2`) as a time; else results.json's modification time.
fn when(dir: &Path) -> SystemTime {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let stamp = name.as_deref().and_then(|n| n.get(..20)).and_then(|s| {
        let mut bytes = s.as_bytes().to_vec();
        if bytes[13] != b'-' || bytes[16] != b'-' {
            return None;
        }
        (bytes[13], bytes[16]) = (b':', b':');
        humantime::parse_rfc3339(std::str::from_utf8(&bytes).ok()?).ok()
    });
    stamp.unwrap_or_else(|| {
        std::fs::metadata(dir.join("results.json"))
            .and_then(|m| m.modified())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    })
}

/// Rewrites `reports/index.html` from what is under `reports` now.
pub fn write_index(reports: &Path) -> Result<PathBuf, CiError> {
    let page = index_html(&scan(reports), reports);
    let path = reports.join("index.html");
    let tmp = reports.join(".index.html.tmp");
    std::fs::write(&tmp, page)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| CiError::Write {
            path: path.clone(),
            source,
        })?;
    Ok(path)
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1b1f24}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}\
table{border-collapse:collapse}th,td{padding:.3em .7em;border-bottom:1px solid #d0d7de;\
text-align:left;vertical-align:top}th{background:#f6f8fa}td.n{text-align:right}\
.valid{color:#1a7f37}.invalid{color:#cf222e;font-weight:600}.unknown{color:#9a6700}\
.trend a{display:inline-block;width:.8em;height:1.2em;margin-right:2px;text-decoration:none}\
.trend a.valid{background:#2da44e}.trend a.invalid{background:#cf222e}\
.trend a.unknown,.trend a.none{background:#d4a72c}.muted{color:#6e7781}";

/// The page for `entries` (newest first) found under `reports`.
pub fn index_html(entries: &[IndexEntry], reports: &Path) -> String {
    let mut page = String::from(concat!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n",
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ",
        "style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<title>splitbrain runs</title>\n<style>",
    ));
    page.push_str(STYLE);
    let _ = write!(
        page,
        "</style></head><body>\n<h1>splitbrain runs</h1>\n\
         <p class=\"muted\">{} in {}, newest first.</p>\n",
        match entries.len() {
            1 => "1 run".to_owned(),
            n => format!("{n} runs"),
        },
        html(&reports.display().to_string())
    );
    trends(&mut page, entries);
    page.push_str(
        "<h2>Runs</h2>\n<table><thead><tr><th>When (UTC)</th><th>Workload</th><th>Verdict</th>\
         <th>Anomalies</th><th>Ops</th><th>ok / fail / info</th><th>Duration</th>\
         <th>Converged after</th></tr></thead><tbody>\n",
    );
    for e in entries {
        row(&mut page, e);
    }
    page.push_str("</tbody></table>\n</body></html>\n");
    page
}

/// Per workload, its verdicts newest first as coloured marks linking to each run.
fn trends(page: &mut String, entries: &[IndexEntry]) {
    let mut by_name: BTreeMap<&str, Vec<&IndexEntry>> = BTreeMap::new();
    for e in entries {
        by_name.entry(e.name.as_str()).or_default().push(e);
    }
    page.push_str(
        "<h2>By workload</h2>\n<table><thead><tr><th>Workload</th><th>Runs</th>\
                   <th>Invalid</th><th>Verdicts, newest first</th></tr></thead><tbody>\n",
    );
    for (name, runs) in by_name {
        let invalid = runs
            .iter()
            .filter(|e| e.verdict == Some(Verdict::Invalid))
            .count();
        let _ = write!(
            page,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{invalid}</td><td class=\"trend\">",
            html(name),
            runs.len()
        );
        for e in runs.iter().take(TREND) {
            let _ = write!(
                page,
                "<a class=\"{0}\" href=\"{1}\" title=\"{2}: {0}\"></a>",
                verdict_class(e.verdict),
                html(&link(e)),
                html(&stamp(e.when))
            );
        }
        page.push_str("</td></tr>\n");
    }
    page.push_str("</tbody></table>\n");
}

fn row(page: &mut String, e: &IndexEntry) {
    let anomalies: Vec<String> = e
        .anomalies
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(kind, n)| format!("{} {n}", html(kind)))
        .collect();
    let figure = |key: &str| e.figures.get(key).map_or("–".to_owned(), |v| html(v));
    let seconds = |key: &str| {
        e.figures
            .get(key)
            .and_then(|v| v.parse::<f64>().ok())
            .map_or("–".to_owned(), |s| format!("{s:.1} s"))
    };
    let _ = writeln!(
        page,
        "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td class=\"{}\">{}</td><td>{}</td>\
         <td class=\"n\">{}</td><td class=\"n\">{} / {} / {}</td><td class=\"n\">{}</td>\
         <td class=\"n\">{}</td></tr>",
        html(&link(e)),
        html(&stamp(e.when)),
        html(&e.name),
        verdict_class(e.verdict),
        e.verdict.map_or("unreadable", Verdict::as_str),
        anomalies.join(", "),
        figure("ops"),
        figure("ok"),
        figure("fail"),
        figure("info"),
        seconds("duration_s"),
        seconds("time_to_converge_s"),
    );
}

fn verdict_class(verdict: Option<Verdict>) -> &'static str {
    verdict.map_or("none", Verdict::as_str)
}

fn stamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// The run's report.html, or its folder when it has none, relative to the reports folder.
fn link(e: &IndexEntry) -> String {
    let mut href: Vec<String> = e
        .rel
        .components()
        .map(|c| utf8_percent_encode(&c.as_os_str().to_string_lossy(), SEGMENT).to_string())
        .collect();
    href.push(if e.has_report { "report.html" } else { "" }.to_owned());
    href.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ci::tests::example;

    fn run_folder(reports: &Path, rel: &str, results: &Results) -> PathBuf {
        let dir = reports.join(rel);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("results.json"),
            serde_json::to_string(results).unwrap(),
        )
        .unwrap();
        dir
    }

    #[test]
    fn the_index_lists_every_run_newest_first_and_skips_latest_links() {
        let reports = tempfile::tempdir().unwrap();
        let root = reports.path();
        let valid = Results::from_checkers(BTreeMap::from([(
            "set".to_owned(),
            example().checkers["set"].clone(),
        )]));
        run_folder(root, "a/2026-11-30T02-40-12Z", &valid);
        run_folder(root, "a/2026-11-30T02-40-12Z-2", &example());
        run_folder(root, "b/2026-11-29T23-00-00Z", &valid);
        run_folder(root, "check/h/2026-12-01T00-00-00Z", &valid);
        std::os::unix::fs::symlink("2026-11-30T02-40-12Z", root.join("a/latest")).unwrap();
        let order: Vec<String> = scan(root)
            .iter()
            .map(|e| e.rel.display().to_string())
            .collect();
        assert_eq!(
            order,
            [
                "check/h/2026-12-01T00-00-00Z",
                "a/2026-11-30T02-40-12Z-2",
                "a/2026-11-30T02-40-12Z",
                "b/2026-11-29T23-00-00Z",
            ]
        );
        let second = &scan(root)[1];
        assert_eq!(second.name, "a");
        assert_eq!(second.verdict, Some(Verdict::Invalid));
        assert_eq!(second.anomalies["lost"], 3);
    }

    #[test]
    fn a_folder_not_named_by_its_time_is_dated_by_its_results() {
        let reports = tempfile::tempdir().unwrap();
        let dir = run_folder(reports.path(), "staging/run-1234-1", &example());
        let modified = std::fs::metadata(dir.join("results.json"))
            .and_then(|m| m.modified())
            .unwrap();
        let entries = scan(reports.path());
        assert_eq!(entries[0].when, modified);
        assert_eq!(entries[0].name, "staging");
    }

    #[test]
    fn the_page_links_each_run_and_escapes_what_it_shows() {
        let reports = tempfile::tempdir().unwrap();
        let root = reports.path();
        let dir = run_folder(root, "<x>/2026-11-30T02-40-12Z", &example());
        run_folder(root, "y/2026-11-30T03-00-00Z", &example());
        std::fs::write(dir.join("report.html"), "").unwrap();
        let page_path = write_index(root).unwrap();
        let page = std::fs::read_to_string(page_path).unwrap();
        assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));
        assert!(page.contains("href=\"%3Cx%3E/2026-11-30T02-40-12Z/report.html\""));
        assert!(page.contains("href=\"y/2026-11-30T03-00-00Z/\""));
        assert!(page.contains("<td>&lt;x&gt;</td>"), "{page}");
        assert!(!page.contains("<x>"));
        let runs = &page[page.find("<h2>Runs").unwrap()..];
        assert!(runs.find("2026-11-30T03:00:00Z") < runs.find("2026-11-30T02:40:12Z"));
        assert!(!page.contains("src=") && !page.contains("://"), "no loads");
    }
}

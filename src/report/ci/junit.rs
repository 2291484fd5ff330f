//! `junit.xml`: the run as a JUnit report, built with quick-junit (nextest's model, which
//! GitLab, Jenkins and GitHub's test reporters read). One test suite per run, named after the
//! workload; one test case per checker, named as in results.json; an invalid checker is a
//! `<failure>` with its anomaly counts and first witnesses, an unknown one an `<error>` (the
//! check could not be decided, and the job fails on it too, with exit code 2).

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::text::witness_line;
use super::{CiError, Run, WITNESSES, anomaly_counts, counts_text, note, run_name};
use crate::checker::{CheckerResult, Verdict};
use crate::report::Figures;

/// The run as a JUnit report.
pub fn junit(run: &Run<'_>) -> Report {
    let name = run_name(run.history, run.dir);
    let figures = Figures::of(run.history);
    let mut suite = TestSuite::new(name.as_str());
    suite.set_time(Duration::from_secs_f64(figures.seconds.max(0.0)));
    if let Some(header) = &run.history.header {
        if let Ok(start) = chrono::DateTime::parse_from_rfc3339(&header.started_at) {
            suite.set_timestamp(start);
        }
        suite.add_properties([
            Property::new("seed", header.seed.to_string()),
            Property::new("model", header.model.as_str()),
            Property::new("splitbrain_version", header.version.as_str()),
        ]);
    }
    suite.add_properties(properties(run, &name, &figures));
    for (checker, result) in &run.results.checkers {
        let mut case = TestCase::new(checker.as_str(), status(result));
        case.set_classname(format!("splitbrain.{name}"));
        if let Some(warning) = note(result, "warning") {
            case.set_system_out(format!("warning: {warning}"));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("splitbrain");
    report.add_test_suite(suite);
    report
}

/// Writes `junit.xml` into the run folder.
pub fn write_junit(run: &Run<'_>) -> Result<(), CiError> {
    let xml = junit(run).to_string()?;
    let path = run.dir.join("junit.xml");
    std::fs::write(&path, xml).map_err(|source| CiError::Write { path, source })
}

/// The workload, the verdict and the key figures, which `index.html` reads back.
fn properties(run: &Run<'_>, name: &str, f: &Figures) -> Vec<Property> {
    let mut props = vec![
        Property::new("workload", name),
        Property::new("verdict", run.results.valid.as_str()),
        Property::new("ops", f.ops.to_string()),
        Property::new("ok", f.ok.to_string()),
        Property::new("fail", f.fail.to_string()),
        Property::new("info", f.info.to_string()),
        Property::new("duration_s", format!("{:.3}", f.seconds)),
        Property::new("run_folder", run.dir.display().to_string()),
    ];
    if let Some(ns) = run
        .results
        .convergence
        .as_ref()
        .and_then(|c| c.time_to_converge_ns)
    {
        props.push(Property::new(
            "time_to_converge_s",
            format!("{:.3}", ns as f64 / 1e9),
        ));
    }
    props
}

fn status(result: &CheckerResult) -> TestCaseStatus {
    match result.valid {
        Verdict::Valid => TestCaseStatus::success(),
        Verdict::Invalid => {
            let counts = anomaly_counts(result);
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(format!("anomalies: {}", counts_text(&counts)))
                .set_type(result.anomaly_types.join(","))
                .set_description(witnesses(result));
            status
        }
        Verdict::Unknown => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            let reason = note(result, "reason").unwrap_or_else(|| "no reason given".into());
            status
                .set_message(format!("unknown: {reason}"))
                .set_type("unknown");
            status
        }
    }
}

/// The first witnesses, one a line, and how many more results.json has.
fn witnesses(result: &CheckerResult) -> String {
    let mut lines: Vec<String> = result
        .anomalies
        .iter()
        .take(WITNESSES)
        .map(witness_line)
        .collect();
    if result.anomalies.len() > WITNESSES {
        lines.push(format!(
            "... and {} more in results.json",
            result.anomalies.len() - WITNESSES
        ));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use quick_junit::Report;

    use super::*;
    use crate::report::ci::tests::{example, example_history};

    fn parse_back(run: &Run<'_>) -> Report {
        let xml = junit(run).to_string().unwrap();
        Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"))
    }

    #[test]
    fn junit_has_a_suite_per_run_and_a_case_per_checker_with_the_right_status() {
        let (results, history) = (example(), example_history());
        let dir = std::path::Path::new("reports/shop/2026-11-30T02-40-12Z");
        let run = Run {
            dir,
            reports: None,
            results: &results,
            history: &history,
        };
        let report = parse_back(&run);
        assert_eq!((report.tests, report.failures, report.errors), (3, 1, 1));
        let suite = &report.test_suites[0];
        assert_eq!(suite.name.as_str(), "shop");
        let prop = |n: &str| {
            suite
                .properties
                .iter()
                .find(|p| p.name.as_str() == n)
                .map(|p| p.value.as_str().to_owned())
        };
        assert_eq!(prop("seed").as_deref(), Some("42"));
        assert_eq!(prop("workload").as_deref(), Some("shop"));
        assert_eq!(prop("ops").as_deref(), Some("2"));
        let case = |n: &str| suite.test_cases.iter().find(|c| c.name.as_str() == n);
        assert!(matches!(
            case("set").unwrap().status,
            TestCaseStatus::Success { .. }
        ));
        let TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            description,
            ..
        } = &case("covers(place→orders)").unwrap().status
        else {
            panic!("covers is a failure");
        };
        assert_eq!(message.as_ref().unwrap().as_str(), "anomalies: lost 3");
        let body = description.as_ref().unwrap().as_str();
        assert!(
            body.starts_with("lost: order <b>&7</b> was placed"),
            "{body}"
        );
        assert!(body.contains("[ops 1, 3] during: partition"), "{body}");
        let TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Error,
            message,
            ..
        } = &case("conserved(stock)").unwrap().status
        else {
            panic!("unknown is an error");
        };
        assert_eq!(
            message.as_ref().unwrap().as_str(),
            "unknown: no convergence rounds"
        );
    }

    #[test]
    fn markup_and_control_characters_from_the_system_stay_text() {
        let (results, history) = (example(), example_history());
        let run = Run {
            dir: std::path::Path::new("out"),
            reports: None,
            results: &results,
            history: &history,
        };
        let xml = junit(&run).to_string().unwrap();
        assert!(xml.contains("&lt;b&gt;&amp;7&lt;/b&gt;"), "{xml}");
        assert!(!xml.contains('\u{1b}'));
    }

    #[test]
    fn a_history_without_header_is_named_after_its_folder() {
        let results = example();
        let history = crate::history::History::default();
        let run = Run {
            dir: std::path::Path::new("reports/check/jepsen-set/2026-11-30T02-40-12Z"),
            reports: None,
            results: &results,
            history: &history,
        };
        assert_eq!(parse_back(&run).test_suites[0].name.as_str(), "jepsen-set");
    }
}

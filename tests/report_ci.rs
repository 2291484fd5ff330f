//! End-to-end: the real `splitbrain check` leaves what a CI job reads: junit.xml in the run
//! folder (with the failure), the Markdown summary appended to `$GITHUB_STEP_SUMMARY`, the
//! `::error` lines under GitHub Actions, and reports/index.html; `splitbrain index` rewrites
//! the index. No service is needed: the history is written by the test.

use std::path::Path;
use std::process::{Command, Output};

/// A set history whose final read lacks the acknowledged add of 2: one `lost`.
const LOST: &str = r#"{"splitbrain_history":1,"version":"0.1.0","name":"toy-set","model":"set","seed":42,"started_at":"2026-11-30T02:40:12Z","workload":""}
{"index":0,"time":0,"process":0,"type":"invoke","f":"add","value":1}
{"index":1,"time":1000000,"process":0,"type":"ok","f":"add","value":1}
{"index":2,"time":2000000,"process":0,"type":"invoke","f":"add","value":2}
{"index":3,"time":3000000,"process":0,"type":"ok","f":"add","value":2}
{"index":4,"time":4000000,"process":1,"type":"invoke","f":"read","value":null}
{"index":5,"time":5000000,"process":1,"type":"ok","f":"read","value":[1]}
"#;

/// `splitbrain ARGS` in `cwd`, with the GitHub variables given (and no others of theirs).
fn splitbrain(cwd: &Path, args: &[&str], github: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_splitbrain"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    for (var, value) in github {
        command.env(var, value);
    }
    command.output().expect("run splitbrain")
}

/// The one run folder under `reports/check/history/`.
fn run_folder(cwd: &Path) -> std::path::PathBuf {
    let parent = cwd.join("reports/check/history");
    let mut dirs: Vec<_> = std::fs::read_dir(&parent)
        .expect("the check's folder")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().expect("one run folder")
}

#[test]
fn check_writes_junit_with_the_failure_and_the_reports_index() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(tmp.path().join("history.jsonl"), LOST).expect("write the history");
    let out = splitbrain(tmp.path(), &["check", "history.jsonl"], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("::error"),
        "not under GitHub Actions: {stdout}"
    );

    let junit = std::fs::read_to_string(run_folder(tmp.path()).join("junit.xml")).expect("junit");
    let report = quick_junit::Report::deserialize_from_str(&junit).expect("valid JUnit XML");
    assert_eq!((report.tests, report.failures), (1, 1), "{junit}");
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "toy-set");
    assert_eq!(suite.test_cases[0].name.as_str(), "set");
    assert!(
        junit.contains(r#"<failure message="anomalies: lost 1" type="lost">lost: element 2"#),
        "{junit}"
    );

    let index = std::fs::read_to_string(tmp.path().join("reports/index.html")).expect("index");
    assert!(index.contains("<td>toy-set</td><td class=\"invalid\">invalid</td><td>lost 1</td>"));
}

#[test]
fn under_github_actions_the_summary_is_appended_and_error_lines_printed() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(tmp.path().join("history.jsonl"), LOST).expect("write the history");
    let summary = tmp.path().join("step_summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write the summary");
    let summary_var = summary.display().to_string();
    let out = splitbrain(
        tmp.path(),
        &["check", "history.jsonl"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", &summary_var),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let errors: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(errors.len(), 1, "{stdout}");
    assert!(
        errors[0].starts_with(
            "::error title=splitbrain set%3A invalid::anomalies: lost 1%0Alost: element 2"
        ),
        "{stdout}"
    );
    let md = std::fs::read_to_string(&summary).expect("the summary");
    assert!(
        md.starts_with("earlier step\n### splitbrain toy-set: ❌ invalid"),
        "{md}"
    );
    assert!(md.contains("| set | invalid | lost 1 |"), "{md}");
}

#[test]
fn index_rewrites_the_list_of_runs_and_refuses_a_missing_folder() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(tmp.path().join("history.jsonl"), LOST).expect("write the history");
    splitbrain(tmp.path(), &["check", "history.jsonl"], &[]);
    std::fs::remove_file(tmp.path().join("reports/index.html")).expect("an index");
    let out = splitbrain(tmp.path(), &["index"], &[]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(tmp.path().join("reports/index.html").is_file());
    let out = splitbrain(tmp.path(), &["index", "no-such-folder"], &[]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
}

#[test]
fn the_ci_examples_run_workloads_that_validate() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci");
    let mut tomls = 0;
    for entry in std::fs::read_dir(&examples).expect("examples/ci").flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "toml") {
            splitbrain::workload::Plan::from_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            tomls += 1;
        }
    }
    assert!(tomls >= 1, "no workload in examples/ci");
    for job in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(examples.join(job)).expect("a CI example");
        let workload = text
            .split_whitespace()
            .find(|w| w.starts_with("examples/ci/") && w.ends_with(".toml"))
            .unwrap_or_else(|| panic!("{job} runs no workload of examples/ci"));
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(root.join(workload).is_file(), "{job}: {workload}");
        assert!(
            text.contains("STAGING_TOKEN"),
            "{job} takes the token from secrets"
        );
        assert!(
            text.contains("--out \"reports/"),
            "{job} keeps the run under reports/"
        );
    }
}

/// Starts toyset, dropping one acknowledged add in `lose_every`, on a free loopback port in a
/// background thread; it lives as long as the test.
fn start_toyset(lose_every: u64) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("bound address");
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for toyset");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            let bugs = toyset::Bugs {
                lose_every,
                ..toyset::Bugs::default()
            };
            toyset::serve(listener, bugs).await.expect("toyset serves");
        });
    });
    addr
}

#[test]
fn a_run_that_loses_adds_leaves_junit_with_the_failure_and_lists_itself_in_the_index() {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let addr = start_toyset(20);
    let workload = format!(
        r#"name = "ci-set"
seed = 7
time_limit = "1s"
concurrency = 4
rate = 200

[target]
base_url = "http://{addr}"
preflight = "/health"

[model]
kind = "set"
mix = {{ add = 0.9, read = 0.1 }}

[model.ops.add]
method = "PUT"
path = "/v1/items/{{{{value}}}}"
body = '{{"data": {{"n": {{{{value}}}}}}}}'
ok = [200, 201]

[model.ops.read]
method = "GET"
path = "/v1/items"
records = "/data"
element = "/n"

[phases]
quiet = "100ms"
final_reads = 1
"#
    );
    std::fs::write(tmp.path().join("ci.toml"), workload).expect("write the workload");
    let out = splitbrain(tmp.path(), &["run", "ci.toml"], &[]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let run = std::fs::read_link(tmp.path().join("reports/ci-set/latest")).expect("latest");
    let junit = std::fs::read_to_string(
        tmp.path()
            .join("reports/ci-set")
            .join(run)
            .join("junit.xml"),
    )
    .expect("junit.xml in the run folder");
    let report = quick_junit::Report::deserialize_from_str(&junit).expect("valid JUnit XML");
    assert_eq!(report.test_suites[0].name.as_str(), "ci-set");
    assert_eq!(report.failures, 1, "{junit}");
    assert!(
        junit.contains("<failure message=\"anomalies: lost "),
        "{junit}"
    );
    assert!(
        junit.contains("<property name=\"seed\" value=\"7\"/>"),
        "{junit}"
    );
    let index = std::fs::read_to_string(tmp.path().join("reports/index.html")).expect("index");
    assert!(index.contains("<td>ci-set</td><td class=\"invalid\">invalid</td><td>lost "));
}

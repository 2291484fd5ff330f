//! The command line: parses arguments with clap, runs the pipeline stages, and is the only
//! place that turns errors into exit codes (DESIGN.md, "Exit codes"):
//! 0 valid · 1 anomalies · 2 unknown · 3 bad input · 4 system under test unreachable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use clap::{Parser, Subcommand};
use tokio::sync::watch;

use splitbrain::checker::relations::Relation;
use splitbrain::checker::{self, Results, Verdict};
use splitbrain::client::{AnyClient, ClientError};
use splitbrain::deploy::{self, Deployment};
use splitbrain::history::{FORMAT_VERSION, Header, History, read_history};
use splitbrain::nemesis::command::Hook;
use splitbrain::nemesis::{
    self, Backend, DockerNodeSpec, DockerNodes, FaultKind, NemesisPlan, NodeSpec, ProcessNodes,
    Proxies,
};
use splitbrain::report;
use splitbrain::runner::{self, Faults, Nemesis, Recorder, RunDir, RunLog};
use splitbrain::workload::Plan;

use crate::cli_model::{ModelArgs, choose_model};

#[derive(Parser)]
#[command(
    name = "splitbrain",
    version,
    about = "A Jepsen-style consistency checker for microservice systems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a workload file against the system, record the history, check it.
    Run {
        /// The workload file (TOML).
        workload: PathBuf,
        /// Write the run into this folder instead of reports/<name>/<timestamp>/.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Where run folders go.
        #[arg(long, default_value = "reports")]
        reports: PathBuf,
        /// Override the workload's seed (to reproduce or vary a run).
        #[arg(long)]
        seed: Option<u64>,
        /// Leave the containers of [deploy] up after the run (`splitbrain down` removes them).
        #[arg(long)]
        keep: bool,
    },
    /// Check a recorded history: splitbrain's history.jsonl, Jepsen's history.edn, elle-cli's
    /// JSON, a Jepsen console log (jepsen.util op lines) or a Porcupine kv log.
    Check {
        /// The history file.
        history: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
        /// Write results.json into this folder (default: reports/check/<history name>/<timestamp>/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Re-render report.html for a saved run folder (results.json and history.jsonl; a
    /// folder with only a history is checked first, with the model its header names).
    Report {
        /// The run folder.
        dir: PathBuf,
        /// The history, when it is not the folder's history.jsonl (a folder `check --out`
        /// wrote for a history kept elsewhere, e.g. Jepsen's history.edn).
        #[arg(long)]
        history: Option<PathBuf>,
    },
    /// Undo what a hard-killed run of this workload left behind (paused or running nodes).
    Heal {
        /// The workload file (TOML).
        workload: PathBuf,
    },
    /// Remove the containers, volumes and network that [deploy] started for this workload
    /// (left up by --keep, or by a run that was killed).
    Down {
        /// The workload file (TOML).
        workload: PathBuf,
    },
    /// Check a workload file without running it.
    Validate {
        /// The workload file (TOML).
        workload: PathBuf,
    },
    /// Rewrite REPORTS/index.html, the list of every run under it (each run does too).
    Index {
        /// The reports folder.
        #[arg(default_value = "reports")]
        reports: PathBuf,
    },
}

/// Why a command could not produce a verdict, with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn bad_input(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 3,
        error: error.into(),
    }
}

fn unreachable(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 4,
        error: error.into(),
    }
}

/// splitbrain itself could not finish (e.g. the run folder could not be written): whether the
/// system is valid stays unknown.
fn internal(error: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: error.into(),
    }
}

/// Parses arguments, runs the command, and returns the process exit code.
pub fn main() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            let _ = e.print(); // --help, --version
            return 0;
        }
        Err(e) => {
            let _ = e.print();
            return 3; // bad arguments are bad input
        }
    };
    let outcome = match cli.command {
        Command::Validate { workload } => validate(&workload),
        Command::Heal { workload } => heal(&workload),
        Command::Report { dir, history } => render_report(&dir, history),
        Command::Down { workload } => down(&workload),
        Command::Index { reports } => index(&reports),
        Command::Check {
            history,
            model,
            out,
        } => check(&history, &model, out),
        Command::Run {
            workload,
            out,
            reports,
            seed,
            keep,
        } => tokio::runtime::Runtime::new()
            .context("failed to start the async runtime")
            .map_err(internal)
            .and_then(|rt| rt.block_on(run(&workload, out, &reports, seed, keep))),
    };
    match outcome {
        Ok(verdict) => verdict.exit_code(),
        Err(Failure { code, error }) => {
            eprintln!("splitbrain: {error:#}");
            code
        }
    }
}

/// A keyed model's keys, values, recording and mix, for `validate`; `None` for other models.
fn keyed_summary(plan: &Plan) -> Option<String> {
    use splitbrain::workload::ValueSpec;
    let (keys, values) = match plan.values {
        ValueSpec::Register { keys, min, max } => (keys, format!("values {min}..={max}")),
        ValueSpec::Kv { keys, tokens } => (
            keys,
            match tokens {
                Some((min, max)) => format!("values \"x N y\", N in {min}..={max}"),
                None => "values \"x N y\", N fresh for each write".to_owned(),
            },
        ),
        _ => return None,
    };
    let mix: Vec<String> = (plan.mix.iter())
        .map(|(f, w)| format!("{f} {:.0}%", w * 100.0))
        .collect();
    let record = if plan.independent_keys() {
        "recorded as [key value]"
    } else {
        "recorded as the value alone"
    };
    Some(format!(
        "{keys} key(s), {values} ({record}); mix {}",
        mix.join(", ")
    ))
}

fn validate(path: &Path) -> Result<Verdict, Failure> {
    let plan = Plan::from_file(path).map_err(bad_input)?;
    println!(
        "{}: valid workload \"{}\": model {}, {} workers for {}, seed {}{}",
        path.display(),
        plan.name,
        plan.model,
        plan.concurrency,
        humantime::format_duration(plan.time_limit),
        plan.seed,
        if plan.relations.is_empty() {
            String::new()
        } else {
            format!(
                ", {} views, {} relations",
                plan.views.len(),
                plan.relations.len()
            )
        }
    );
    if let Some(keyed) = keyed_summary(&plan) {
        println!("  {keyed}");
    }
    if let Some(deploy) = &plan.deploy {
        let names: Vec<&str> = deploy.containers.iter().map(|c| c.name.as_str()).collect();
        println!(
            "  deploys {} on network {}",
            names.join(", "),
            deploy.network
        );
    }
    Ok(Verdict::Valid)
}

fn check(path: &Path, args: &ModelArgs, out: Option<PathBuf>) -> Result<Verdict, Failure> {
    let (history, report) = read_history(path).map_err(bad_input)?;
    for warning in &report.warnings {
        eprintln!("splitbrain: warning: {}: {warning}", path.display());
    }
    let header = history.header.as_ref();
    let model = choose_model(args, header).map_err(bad_input)?;
    let relations = relations_in_header(path, history.header.as_ref());
    let results = checker::check(&model, &relations, &history)
        .with_context(|| format!("failed to check {}", path.display()))
        .map_err(bad_input)?;
    let dir = match out {
        Some(dir) => dir,
        None => {
            let stem = path
                .file_stem()
                .map_or("history".into(), |s| s.to_string_lossy());
            PathBuf::from("reports/check")
                .join(stem.as_ref())
                .join(runner::timestamp(std::time::SystemTime::now()))
        }
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("failed to create {}", dir.display()))
        .map_err(internal)?;
    let results_path = dir.join("results.json");
    write_results(&results_path, &results).map_err(internal)?;
    print!("{}", report::summary(&results, &history));
    println!("results: {}", results_path.display());
    let run = report::html::RunInfo {
        history: Some(path.to_path_buf()),
        ..Default::default()
    };
    write_html(&dir, &results, &history, run);
    // After report.html, which the reports index links to.
    write_ci(&dir, Path::new("reports"), &results, &history);
    Ok(results.valid)
}

/// Writes `dir/report.html` and prints its path; a failure is a warning, as the verdict
/// stands in results.json whatever the report.
fn write_html(dir: &Path, results: &Results, history: &History, run: report::html::RunInfo) {
    match report::html::write(dir, results, history, run) {
        Ok(path) => println!("report: {}", path.display()),
        Err(e) => eprintln!(
            "splitbrain: warning: failed to write {}: {e}",
            dir.join("report.html").display()
        ),
    }
}

/// `report`: re-renders report.html of a saved run folder from its results.json and
/// history.jsonl (checking the history first when there are no results), and exits with the
/// results' verdict.
fn render_report(dir: &Path, history_file: Option<PathBuf>) -> Result<Verdict, Failure> {
    let history_path = history_file
        .clone()
        .unwrap_or_else(|| dir.join("history.jsonl"));
    if history_file.is_none() && !history_path.is_file() {
        return Err(bad_input(anyhow!(
            "{} holds no history.jsonl: is it a run folder (reports/<name>/<timestamp>/)? \
             For a history kept elsewhere, pass --history PATH",
            dir.display()
        )));
    }
    let (history, read) = read_history(&history_path).map_err(bad_input)?;
    for warning in &read.warnings {
        eprintln!("splitbrain: warning: {}: {warning}", history_path.display());
    }
    let results_path = dir.join("results.json");
    let results = if results_path.is_file() {
        let text = std::fs::read_to_string(&results_path)
            .with_context(|| format!("failed to read {}", results_path.display()))
            .map_err(bad_input)?;
        serde_json::from_str::<Results>(&text)
            .with_context(|| format!("failed to parse {}", results_path.display()))
            .map_err(bad_input)?
    } else {
        let header = history.header.as_ref();
        let model = choose_model(&ModelArgs::default(), header).map_err(|e| {
            bad_input(e.context(format!(
                "{} has no results.json; `splitbrain check --model MODEL --out {0}` makes one",
                dir.display()
            )))
        })?;
        let relations = relations_in_header(&history_path, history.header.as_ref());
        let results = checker::check(&model, &relations, &history)
            .with_context(|| format!("failed to check {}", history_path.display()))
            .map_err(bad_input)?;
        write_results(&results_path, &results).map_err(internal)?;
        println!("results: {}", results_path.display());
        results
    };
    let run = report::html::RunInfo {
        workload: std::fs::read_to_string(dir.join("workload.toml")).ok(),
        history: history_file,
        ..Default::default()
    };
    let path = report::html::write(dir, &results, &history, run)
        .with_context(|| format!("failed to write {}", dir.join("report.html").display()))
        .map_err(internal)?;
    println!("report: {}", path.display());
    Ok(results.valid)
}

/// The relations of the workload kept in a splitbrain history's header; none (with a
/// warning) when that workload no longer validates.
fn relations_in_header(path: &Path, header: Option<&Header>) -> Vec<Relation> {
    let Some(header) = header.filter(|h| !h.workload.is_empty()) else {
        return Vec::new();
    };
    let name = format!("{} (the workload in its header)", path.display());
    match Plan::from_toml(&header.workload, Path::new(&name)) {
        Ok(plan) => plan.relations,
        Err(e) => {
            eprintln!("splitbrain: warning: checking without relations: {e}");
            Vec::new()
        }
    }
}

fn write_results(path: &Path, results: &Results) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(results).context("failed to serialise results")?;
    std::fs::write(path, json + "\n").with_context(|| format!("failed to write {}", path.display()))
}

/// junit.xml, GitHub's step summary and `::error` lines, and `reports/index.html` when the
/// run folder lies under `reports` (report::ci); a failure there is a warning, not a verdict.
/// Called once the run folder's other files are written: index.html links to a run's
/// report.html only where it exists.
fn write_ci(dir: &Path, reports: &Path, results: &Results, history: &splitbrain::history::History) {
    let run = report::ci::Run {
        dir,
        reports: Some(reports).filter(|r| dir.starts_with(r)),
        results,
        history,
    };
    let env = |var: &str| std::env::var(var).ok();
    for e in report::ci::write_all(&run, env, &mut std::io::stdout()) {
        eprintln!("splitbrain: warning: {e}");
    }
}

/// `index`: rewrites REPORTS/index.html from the runs under it.
fn index(reports: &Path) -> Result<Verdict, Failure> {
    if !reports.is_dir() {
        return Err(bad_input(anyhow!(
            "{} is not a folder of runs",
            reports.display()
        )));
    }
    let path = report::ci::write_index(reports).map_err(internal)?;
    println!("{}", path.display());
    Ok(Verdict::Valid)
}

async fn run(
    workload: &Path,
    out: Option<PathBuf>,
    reports: &Path,
    seed: Option<u64>,
    keep: bool,
) -> Result<Verdict, Failure> {
    let mut plan = Plan::from_file(workload).map_err(bad_input)?;
    if let Some(seed) = seed {
        plan.seed = seed;
    }
    let client = http_client(&plan)?;
    let Some(deploy) = plan.deploy.clone() else {
        return run_plan(workload, plan, client, out, reports, &mut None).await;
    };
    eprintln!(
        "splitbrain: deploying {} containers on network {}",
        deploy.containers.len(),
        deploy.network
    );
    let deployment = Deployment::up(
        &deploy,
        |var| std::env::var(var).ok(),
        |line| eprintln!("splitbrain: {line}"),
    )
    .await
    .map_err(|e| match e {
        deploy::DeployError::MissingEnv { .. } => bad_input(e),
        e => unreachable(e),
    })?;
    plan.point_at(&deployment.published);
    let mut dir = None;
    let outcome = match http_client(&plan) {
        Ok(client) => run_plan(workload, plan, client, out, reports, &mut dir).await,
        Err(e) => Err(e),
    };
    if let Some(dir) = &dir
        && let Err(e) = deployment.save_logs(&dir.join("nodes")).await
    {
        eprintln!("splitbrain: failed to save the containers' logs: {e}");
    }
    if keep {
        println!(
            "left up (--keep): {}; `splitbrain down {}` removes them",
            deployment.container_names().join(", "),
            workload.display()
        );
    } else {
        let removed = deployment.remove().await;
        eprintln!("splitbrain: removed {}", removed.join(", "));
    }
    outcome
}

fn http_client(plan: &Plan) -> Result<AnyClient, Failure> {
    AnyClient::new(plan, |var| std::env::var(var).ok()).map_err(|e| match e {
        ClientError::Build { .. } => internal(e),
        _ => bad_input(e),
    })
}

/// Runs a plan whose system is up; `dir_slot` gets the run folder once it exists.
async fn run_plan(
    workload: &Path,
    plan: Plan,
    client: AnyClient,
    out: Option<PathBuf>,
    reports: &Path,
    dir_slot: &mut Option<PathBuf>,
) -> Result<Verdict, Failure> {
    let create_dir = || {
        match &out {
            Some(path) => RunDir::create_at(path),
            None => RunDir::create_under(reports, &plan.name),
        }
        .context("failed to create the run folder")
        .map_err(internal)
    };
    let (dir, nemesis) = match &plan.nemesis {
        None => {
            client.preflight().await.map_err(unreachable)?;
            (create_dir()?, None)
        }
        Some(nemesis_plan) => match &nemesis_plan.backend {
            Backend::Process(specs) => {
                let dir = create_dir()?;
                let nodes = start_nodes(&plan, specs, &dir)?;
                // On error, dropping the nodes stops them.
                let proxies = start_proxies(&plan, nemesis_plan).await?;
                wait_until_ready(&client).await.map_err(unreachable)?;
                let faults = Faults::Process(nodes);
                (dir, Some(nemesis_for(&plan, nemesis_plan, faults, proxies)))
            }
            Backend::Docker(specs) => {
                let nodes = connect_docker(&plan, nemesis_plan, specs).await?;
                let proxies = start_proxies(&plan, nemesis_plan).await?;
                client.preflight().await.map_err(unreachable)?;
                let faults = Faults::Docker(nodes);
                (
                    create_dir()?,
                    Some(nemesis_for(&plan, nemesis_plan, faults, proxies)),
                )
            }
            Backend::Command { hooks, .. } => {
                let proxies = start_proxies(&plan, nemesis_plan).await?;
                client.preflight().await.map_err(unreachable)?;
                let faults = Faults::Hooks(Arc::new(hooks.clone()));
                (
                    create_dir()?,
                    Some(nemesis_for(&plan, nemesis_plan, faults, proxies)),
                )
            }
        },
    };
    eprintln!("splitbrain: run folder {}", dir.path.display());
    *dir_slot = Some(dir.path.clone());
    std::fs::write(dir.workload(), &plan.source.text)
        .context("failed to copy the workload into the run folder")
        .map_err(internal)?;
    let log = Arc::new(
        RunLog::create(&dir.log())
            .context("failed to create run.log")
            .map_err(internal)?,
    );
    let recorder = Arc::new(
        Recorder::create(&dir.history(), &header(&plan))
            .context("failed to create history.jsonl")
            .map_err(internal)?,
    );
    log.line(format!(
        "workload {} (seed {}), target {}",
        workload.display(),
        plan.seed,
        plan.target.base_url
    ));
    let stats = record(
        &plan,
        client,
        nemesis.clone(),
        recorder.clone(),
        log.clone(),
    )
    .await;
    if let Some(nemesis) = nemesis.as_ref().filter(|n| !n.plan.proxies.is_empty()) {
        nemesis.proxies.shutdown().await;
        log.line("fault proxies stopped");
    }
    if let Some(Faults::Process(nodes)) = nemesis.as_ref().map(|n| &n.faults) {
        nodes.shutdown();
        log.line("nodes stopped");
    }
    recorder
        .healthy()
        .context("failed to write history.jsonl")
        .map_err(internal)?;
    let (history, _) = read_history(&dir.history())
        .context("failed to read back the run's own history")
        .map_err(internal)?;
    let results = checker::check(&plan.model, &plan.relations, &history)
        .context("failed to check the run's history")
        .map_err(internal)?;
    write_results(&dir.results(), &results).map_err(internal)?;
    log.line(format!("verdict: {}", results.valid.as_str()));
    print!("{}", report::summary(&results, &history));
    if stats.dropped > 0 {
        println!(
            "note: {} arrivals were dropped because every worker was busy; raise concurrency",
            stats.dropped
        );
    }
    println!("run folder: {}", dir.path.display());
    let run = report::html::RunInfo {
        workload: Some(plan.source.text.clone()),
        ..Default::default()
    };
    write_html(&dir.path, &results, &history, run);
    // After report.html, which the reports index links to.
    write_ci(&dir.path, reports, &results, &history);
    Ok(results.valid)
}

/// Runs the phases with a signal watcher (Ctrl-C, SIGTERM): a signal stops the run early.
async fn record(
    plan: &Plan,
    client: AnyClient,
    nemesis: Option<Arc<Nemesis>>,
    recorder: Arc<Recorder>,
    log: Arc<RunLog>,
) -> runner::RunStats {
    let (stop_tx, stop_rx) = watch::channel(false);
    let watcher = tokio::spawn(watch_signals(stop_tx, log.clone()));
    let stats = runner::execute(plan, client, nemesis, recorder, log, stop_rx).await;
    watcher.abort();
    stats
}

fn nemesis_for(
    plan: &Plan,
    nemesis: &NemesisPlan,
    faults: Faults,
    proxies: Arc<Proxies>,
) -> Arc<Nemesis> {
    Arc::new(Nemesis {
        plan: nemesis.clone(),
        faults,
        proxies,
        seed: plan.seed,
    })
}

/// Starts the workload's fault proxies before the preflight, which may go through them; a
/// proxy that cannot bind its address is exit 4, before the workload begins.
async fn start_proxies(plan: &Plan, nemesis: &NemesisPlan) -> Result<Arc<Proxies>, Failure> {
    let proxies = Proxies::start(&nemesis.proxies, plan.seed)
        .await
        .context("failed to start the fault proxies of [[nemesis.proxies]]")
        .map_err(unreachable)?;
    Ok(Arc::new(proxies))
}

/// Starts the workload's nodes (the process backend), refusing when a killed earlier run of
/// the same workload left nodes behind.
fn start_nodes(
    plan: &Plan,
    specs: &[NodeSpec],
    dir: &RunDir,
) -> Result<Arc<ProcessNodes>, Failure> {
    let state = nemesis::state_path(&plan.name);
    if state.exists() {
        return Err(unreachable(anyhow!(
            "an earlier run of {:?} left nodes behind ({}): run `splitbrain heal {}` first",
            plan.name,
            state.display(),
            plan.source.path.display()
        )));
    }
    let nodes = ProcessNodes::start(specs, &dir.path.join("nodes"), state)
        .context("failed to start the workload's nodes")
        .map_err(unreachable)?;
    Ok(Arc::new(nodes))
}

/// Finds the workload's containers, refusing (exit 4) when Docker cannot be reached, a
/// container is missing, paused or stopped, or partitions are asked for without the rights
/// to make them: all before any fault starts.
async fn connect_docker(
    plan: &Plan,
    nemesis: &NemesisPlan,
    specs: &[DockerNodeSpec],
) -> Result<Arc<DockerNodes>, Failure> {
    if nemesis.schedules(FaultKind::Partition) {
        nemesis::docker::check_netns_tools(&["iptables"]).map_err(unreachable)?;
    }
    if nemesis.qdisc_slow() {
        nemesis::docker::check_netns_tools(&["ip", "tc"]).map_err(unreachable)?;
        nemesis::docker::check_qdisc(&nemesis.slow)
            .await
            .map_err(unreachable)?;
    }
    let nodes = docker_nodes(nemesis, specs).await.map_err(unreachable)?;
    nodes
        .check_ready(&plan.source.path.display().to_string())
        .await
        .map_err(unreachable)?;
    Ok(Arc::new(nodes))
}

/// Nodes splitbrain just started need a moment: preflight every 200 ms for up to 10 s.
async fn wait_until_ready(client: &AnyClient) -> Result<(), ClientError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match client.preflight().await {
            Ok(()) => return Ok(()),
            Err(e) if std::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

/// `down`: removes what `[deploy]` started for the workload, found by its label.
fn down(path: &Path) -> Result<Verdict, Failure> {
    let plan = Plan::from_file(path).map_err(bad_input)?;
    let Some(deploy) = &plan.deploy else {
        return Err(bad_input(anyhow!(
            "{} has no [deploy] section: splitbrain started no containers for it",
            path.display()
        )));
    };
    let removed = tokio::runtime::Runtime::new()
        .context("failed to start the async runtime")
        .map_err(internal)?
        .block_on(deploy::down(&deploy.network))
        .map_err(unreachable)?;
    if removed.is_empty() {
        println!("nothing of deployment {:?} is left", deploy.network);
    }
    for line in removed {
        println!("removed {line}");
    }
    Ok(Verdict::Valid)
}

fn heal(path: &Path) -> Result<Verdict, Failure> {
    let plan = Plan::from_file(path).map_err(bad_input)?;
    if let Some(nemesis) = plan.nemesis.as_ref().filter(|n| !n.proxies.is_empty()) {
        println!(
            "the {} fault proxies of [[nemesis.proxies]] lived inside the splitbrain process: \
             a killed run leaves no toxic behind",
            nemesis.proxies.len()
        );
    }
    if let Some(NemesisPlan {
        backend: Backend::Command { nodes, hooks },
        ..
    }) = &plan.nemesis
    {
        return heal_hooks(nodes, hooks);
    }
    if let Some(
        nemesis @ NemesisPlan {
            backend: Backend::Docker(specs),
            ..
        },
    ) = &plan.nemesis
    {
        return heal_docker(&plan, nemesis, specs);
    }
    let state = nemesis::state_path(&plan.name);
    let done = nemesis::heal_from_state(&state)
        .context("failed to heal")
        .map_err(unreachable)?;
    if done.is_empty() {
        println!(
            "nothing to heal for {:?}: no run of it left anything behind",
            plan.name
        );
    }
    for line in done {
        println!("healed {line}");
    }
    Ok(Verdict::Valid)
}

/// The workload's containers, with slow as a qdisc when the plan makes it one.
async fn docker_nodes(
    nemesis: &NemesisPlan,
    specs: &[DockerNodeSpec],
) -> Result<DockerNodes, nemesis::NemesisError> {
    let nodes = DockerNodes::connect(specs).await?;
    Ok(if nemesis.qdisc_slow() {
        nodes.slow_with(nemesis.slow.clone())
    } else {
        nodes
    })
}

/// `heal` for containers: unpause, start, and remove the iptables chain (and the slow
/// qdisc), on every node.
fn heal_docker(
    plan: &Plan,
    nemesis: &NemesisPlan,
    specs: &[DockerNodeSpec],
) -> Result<Verdict, Failure> {
    let rt = tokio::runtime::Runtime::new()
        .context("failed to start the async runtime")
        .map_err(internal)?;
    let done = rt
        .block_on(async { docker_nodes(nemesis, specs).await?.heal_all().await })
        .context("failed to heal")
        .map_err(unreachable)?;
    if done.is_empty() {
        println!(
            "nothing to heal for {:?}: every container runs, none is paused or cut off",
            plan.name
        );
    }
    for line in done {
        println!("healed {line}");
    }
    Ok(Verdict::Valid)
}

/// `heal` for command hooks: splitbrain cannot know which faults a dead run left, so it runs
/// every fault's heal command on every node (heal commands must be safe to run when their
/// fault is not active).
fn heal_hooks(nodes: &[String], hooks: &BTreeMap<FaultKind, Hook>) -> Result<Verdict, Failure> {
    let rt = tokio::runtime::Runtime::new()
        .context("failed to start the async runtime")
        .map_err(internal)?;
    let mut failed = None;
    for (fault, hook) in hooks {
        for run in rt.block_on(hook.heal_each(nodes, &[], &[])) {
            match run {
                Ok(run) => println!("healed {fault}: `{}` exit {:?}", run.command, run.status),
                Err(e) => {
                    eprintln!("splitbrain: {e}");
                    failed = Some(e);
                }
            }
        }
    }
    match failed {
        Some(e) => Err(unreachable(anyhow!("failed to heal every fault: {e}"))),
        None => Ok(Verdict::Valid),
    }
}

async fn watch_signals(stop: watch::Sender<bool>, log: Arc<RunLog>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return;
    };
    let name = tokio::select! {
        _ = tokio::signal::ctrl_c() => "interrupt",
        _ = term.recv() => "terminate",
    };
    eprintln!("splitbrain: {name} signal: finishing the operations in flight, then checking");
    log.line(format!("{name} signal received"));
    let _ = stop.send(true);
}

fn header(plan: &Plan) -> Header {
    let model_options = crate::cli_model::model_options(&plan.model);
    Header {
        splitbrain_history: FORMAT_VERSION,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        name: plan.name.clone(),
        model: plan.model.name().to_owned(),
        model_options,
        seed: plan.seed,
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        workload: plan.source.text.clone(),
    }
}

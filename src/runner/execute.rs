//! The phases of a run: the main phase (workers drawing operations from the generator at the
//! workload's rate), the quiet period, then the final reads (or the drain of a queue), then,
//! when the workload declares relations, the convergence phase (rounds of view reads until
//! every relation holds; see `converge.rs`). Every operation is recorded as it is invoked and
//! as it completes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::checker::relations::{self, Round, Writes, view_f};
use crate::client::{AnyClient, Completion, Invocation};
use crate::generator::{FinalPhase, Generator, final_phase_of};
use crate::history::{EventKind, Name, Process, Value, read_history};
use crate::workload::Plan;

use super::converge::{Polled, describe, poll, records_of, round_value, with_round};
use super::nemesis::Nemesis;
use super::progress::Progress;
use super::rate::Arrivals;
use super::recorder::{Record, Recorder};
use super::run_log::RunLog;

/// What the run did, beyond the history itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    pub events: u64,
    pub duration: Duration,
    /// Arrivals dropped because every worker was busy (constant-rate runs only).
    pub dropped: u64,
    /// Whether Ctrl-C / SIGTERM cut the run short.
    pub interrupted: bool,
}

/// Shared by every worker.
struct Ctx {
    plan: Plan,
    client: AnyClient,
    recorder: Arc<Recorder>,
    generator: Mutex<Generator>,
    log: Arc<RunLog>,
}

/// A worker's identity: its slot, and its current process id (a new one after each `info`,
/// Jepsen's rule, so a process never has two operations in flight).
#[derive(Clone, Copy, Debug)]
struct Worker {
    process: u64,
    concurrency: u64,
}

impl Worker {
    fn after(self, kind: EventKind) -> Worker {
        match kind {
            EventKind::Info => Worker {
                process: self.process + self.concurrency,
                ..self
            },
            _ => self,
        }
    }
}

/// Runs every phase of the plan, recording into `recorder`. Returns when the last phase ends
/// or, after `stop` turns true (Ctrl-C), when the operations in flight have completed.
pub async fn execute(
    plan: &Plan,
    client: AnyClient,
    nemesis: Option<Arc<Nemesis>>,
    recorder: Arc<Recorder>,
    log: Arc<RunLog>,
    stop: watch::Receiver<bool>,
) -> RunStats {
    let started = Instant::now();
    let ctx = Arc::new(Ctx {
        plan: plan.clone(),
        client,
        generator: Mutex::new(Generator::new(plan)),
        recorder,
        log,
    });
    let flusher = tokio::spawn(flush_every_100ms(ctx.recorder.clone()));
    let progress = Progress::start(ctx.recorder.clone(), plan.time_limit);
    ctx.log.line(format!(
        "main phase: {} workers for {}, rate {}",
        plan.concurrency,
        humantime::format_duration(plan.time_limit),
        plan.rate
            .map_or("unlimited".to_owned(), |r| format!("{r} ops/s"))
    ));
    let arrivals = plan
        .rate
        .map(|r| Arc::new(Arrivals::new(Instant::now(), r)));
    let deadline = Instant::now() + plan.time_limit;
    let faults = nemesis.map(|nemesis| {
        let (recorder, log, stop) = (ctx.recorder.clone(), ctx.log.clone(), stop.clone());
        let task = nemesis.clone();
        let task = tokio::spawn(async move {
            super::nemesis::run(&task, recorder, log, started, deadline, stop).await;
        });
        (nemesis, task)
    });
    let workers = main_phase(&ctx, arrivals.clone(), deadline, stop.clone()).await;
    if let Some((nemesis, task)) = faults {
        // It heals everything before it returns; if it died instead, heal here.
        if let Err(e) = task.await {
            ctx.log.line(format!("nemesis task failed: {e}; healing"));
            let (recorder, log) = (ctx.recorder.clone(), ctx.log.clone());
            super::nemesis::heal_after_failure(&nemesis, recorder, log).await;
        }
    }
    ctx.recorder.sync();
    let interrupted = *stop.borrow();
    if interrupted {
        ctx.log
            .line("interrupted: skipping the quiet period and the final phase");
    } else {
        quiet(&ctx, &progress, stop.clone()).await;
        let workers = final_phase(&ctx, &progress, workers).await;
        if !ctx.plan.relations.is_empty() {
            converge(&ctx, &progress, &workers, stop.clone()).await;
        }
    }
    flusher.abort();
    ctx.recorder.sync();
    progress.finish();
    let stats = RunStats {
        events: ctx.recorder.event_count(),
        duration: started.elapsed(),
        dropped: arrivals.map_or(0, |a| a.dropped()),
        interrupted,
    };
    ctx.log.line(format!("run ended: {stats:?}"));
    stats
}

/// Pushes buffered events to the file at least every 100 ms, so a killed run loses little.
async fn flush_every_100ms(recorder: Arc<Recorder>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        recorder.flush();
    }
}

async fn main_phase(
    ctx: &Arc<Ctx>,
    arrivals: Option<Arc<Arrivals>>,
    deadline: Instant,
    stop: watch::Receiver<bool>,
) -> Vec<Worker> {
    let concurrency = ctx.plan.concurrency as u64;
    let tasks: Vec<_> = (0..concurrency)
        .map(|w| {
            let worker = Worker {
                process: w,
                concurrency,
            };
            let (ctx, arrivals, stop) = (ctx.clone(), arrivals.clone(), stop.clone());
            tokio::spawn(async move { work(ctx, worker, deadline, arrivals, stop).await })
        })
        .collect();
    let mut workers = Vec::with_capacity(tasks.len());
    for task in tasks {
        workers.push(
            task.await
                .expect("a worker never panics: clients return completions"),
        );
    }
    workers
}

/// One worker's main phase: claim an arrival, draw the next operation, perform it; until the
/// deadline or a stop.
async fn work(
    ctx: Arc<Ctx>,
    mut worker: Worker,
    deadline: Instant,
    arrivals: Option<Arc<Arrivals>>,
    mut stop: watch::Receiver<bool>,
) -> Worker {
    loop {
        if *stop.borrow() || Instant::now() >= deadline {
            return worker;
        }
        if let Some(arrivals) = &arrivals {
            let due = arrivals.claim(Instant::now());
            if due >= deadline {
                return worker;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                _ = stop.changed() => return worker,
            }
        }
        let (f, key, value) = ctx
            .generator
            .lock()
            .expect("generator lock is never poisoned")
            .next_keyed();
        let kind = perform_keyed(&ctx, worker.process, f, key, value).await;
        worker = worker.after(kind);
    }
}

/// Invokes one operation and records its invocation and completion.
async fn perform(ctx: &Ctx, process: u64, f: Name, value: Value) -> EventKind {
    perform_keyed(ctx, process, f, Value::Nil, value).await
}

/// [`perform`] of an op on a key. With independent keys (a register with keys > 1) every
/// value it records, invoked or completed, is Jepsen's tuple `[key value]`; a read that found
/// nothing records `[key nil]`.
async fn perform_keyed(ctx: &Ctx, process: u64, f: Name, key: Value, value: Value) -> EventKind {
    let invocation = Invocation {
        f,
        value,
        process,
        key,
    };
    let independent = ctx.plan.independent_keys();
    let shown = |v: Value| {
        if independent {
            Value::list(vec![invocation.key.clone(), v])
        } else {
            v
        }
    };
    record_invocation(ctx, &invocation, |v| v, shown).await.0
}

/// [`perform`], with `map` applied to an `ok` value before it is recorded; returns how the
/// op ended and the value recorded with its completion.
async fn perform_mapped(
    ctx: &Ctx,
    process: u64,
    f: Name,
    value: Value,
    map: impl FnOnce(Value) -> Value,
) -> (EventKind, Value) {
    let invocation = Invocation {
        f,
        value,
        process,
        key: Value::Nil,
    };
    record_invocation(ctx, &invocation, map, |v| v).await
}

/// Records `invocation`, sends it, and records its completion: `map` turns an `ok` value
/// into the op's result, `shown` every recorded value (invoked or completed) into the one
/// written.
async fn record_invocation(
    ctx: &Ctx,
    invocation: &Invocation,
    map: impl FnOnce(Value) -> Value,
    shown: impl Fn(Value) -> Value,
) -> (EventKind, Value) {
    let record = |kind, value, error| Record {
        process: Process::Client(invocation.process),
        kind,
        f: &invocation.f,
        value,
        error,
    };
    ctx.recorder.record(record(
        EventKind::Invoke,
        shown(invocation.value.clone()),
        None,
    ));
    let (kind, value, error) = match ctx.client.invoke(invocation).await {
        Completion::Ok(v) => (
            EventKind::Ok,
            map(v.unwrap_or_else(|| invocation.value.clone())),
            None,
        ),
        Completion::Fail(why) => (EventKind::Fail, invocation.value.clone(), Some(why)),
        Completion::Info(why) => (EventKind::Info, invocation.value.clone(), Some(why)),
    };
    let value = shown(value);
    ctx.recorder.record(record(kind, value.clone(), error));
    (kind, value)
}

async fn quiet(ctx: &Ctx, progress: &Progress, mut stop: watch::Receiver<bool>) {
    if ctx.plan.phases.quiet.is_zero() {
        return;
    }
    progress.phase("quiet");
    ctx.log.line(format!(
        "quiet period: {}",
        humantime::format_duration(ctx.plan.phases.quiet)
    ));
    tokio::select! {
        _ = tokio::time::sleep(ctx.plan.phases.quiet) => {}
        _ = stop.changed() => {}
    }
}

/// Final reads, spread over the workers; or a drain of the queue until a dequeue fails.
/// Returns the workers with their process ids after it.
async fn final_phase(ctx: &Arc<Ctx>, progress: &Progress, mut workers: Vec<Worker>) -> Vec<Worker> {
    let f: Name = match final_phase_of(&ctx.plan.model) {
        None => return workers,
        Some(FinalPhase::Drain(f)) => {
            progress.phase("final");
            workers[0] = drain(ctx, workers[0], f.into()).await;
            return workers;
        }
        Some(FinalPhase::Reads(_)) if ctx.plan.phases.final_reads == 0 => return workers,
        Some(FinalPhase::Reads(f)) => f.into(),
    };
    progress.phase("final");
    let reads = ctx.plan.phases.final_reads as usize;
    ctx.log.line(format!("final phase: {reads} reads"));
    let readers = workers.len().min(reads);
    let tasks: Vec<_> = workers
        .iter()
        .take(readers)
        .enumerate()
        .map(|(i, &worker)| {
            let (ctx, f) = (ctx.clone(), f.clone());
            let share = reads / readers + usize::from(i < reads % readers);
            tokio::spawn(async move {
                let mut worker = worker;
                for _ in 0..share {
                    let kind = perform(&ctx, worker.process, f.clone(), Value::Nil).await;
                    worker = worker.after(kind);
                }
                worker
            })
        })
        .collect();
    for (i, task) in tasks.into_iter().enumerate() {
        workers[i] = task.await.expect("a final read never panics");
    }
    workers
}

/// Dequeues until the queue says it is empty (a `fail`), at most `drain_limit` times, giving up
/// after 5 unknown outcomes in a row (the queue is unreachable: nothing more to learn).
async fn drain(ctx: &Ctx, mut worker: Worker, f: Name) -> Worker {
    ctx.log.line("final phase: draining the queue");
    let mut unknown_in_a_row = 0;
    for n in 0..ctx.plan.phases.drain_limit {
        let kind = perform(ctx, worker.process, f.clone(), Value::Nil).await;
        worker = worker.after(kind);
        match kind {
            EventKind::Fail => {
                ctx.log
                    .line(format!("queue drained after {} dequeues", n + 1));
                return worker;
            }
            EventKind::Info => unknown_in_a_row += 1,
            _ => unknown_in_a_row = 0,
        }
        if unknown_in_a_row == 5 {
            ctx.log
                .line("drain stopped: 5 dequeues in a row had unknown outcomes");
            return worker;
        }
    }
    ctx.log.line(format!(
        "drain stopped at the drain limit ({}) before the queue was empty",
        ctx.plan.phases.drain_limit
    ));
    worker
}

/// The convergence phase: the writes so far come from the history recorded so far; then
/// rounds of reads of every view, one reader each, until the relations hold or time is up.
async fn converge(
    ctx: &Arc<Ctx>,
    progress: &Progress,
    workers: &[Worker],
    stop: watch::Receiver<bool>,
) {
    progress.phase("converge");
    ctx.recorder.sync();
    let history = match read_history(ctx.recorder.path()) {
        Ok((history, _)) => history,
        Err(e) => {
            ctx.log.line(format!(
                "convergence phase skipped: failed to read back the history so far: {e}"
            ));
            return;
        }
    };
    let relations = &ctx.plan.relations;
    let writes = Writes::from_history(relations, &history);
    let phases = &ctx.plan.phases;
    ctx.log.line(format!(
        "convergence phase: {} views, {} relations, polling every {} for up to {}",
        ctx.plan.views.len(),
        relations.len(),
        humantime::format_duration(phases.poll_interval),
        humantime::format_duration(phases.converge_timeout)
    ));
    // Fresh process ids, above every one used so far, one reader per view.
    let first = workers.iter().map(|w| w.process + 1).max().unwrap_or(0);
    let count = ctx.plan.views.len() as u64;
    let readers: Vec<(String, Worker)> = (ctx.plan.views.keys().cloned())
        .zip((first..).map(|process| Worker {
            process,
            concurrency: count,
        }))
        .collect();
    let readers = Arc::new(Mutex::new(readers));
    let log = ctx.log.clone();
    let polled = poll(
        |round| read_round(ctx.clone(), readers.clone(), round),
        |round| relations::unmet(relations, &writes, round),
        |round, unmet| log.line(describe(round, unmet)),
        (phases.converge_timeout, phases.poll_interval),
        stop,
    )
    .await;
    ctx.recorder.sync();
    ctx.log.line(match polled {
        Polled {
            interrupted: true, ..
        } => "convergence phase interrupted".to_owned(),
        Polled {
            converged: true,
            rounds,
            ..
        } => format!("converged: every relation held in round {rounds}"),
        Polled { rounds, unmet, .. } => format!(
            "did not converge within {} ({rounds} rounds): {}",
            humantime::format_duration(phases.converge_timeout),
            unmet.join("; ")
        ),
    });
}

/// Reads every view once, concurrently, each read recorded with `"round": N`; the round
/// holds the views whose read ended `ok`.
async fn read_round(
    ctx: Arc<Ctx>,
    readers: Arc<Mutex<Vec<(String, Worker)>>>,
    round: u32,
) -> Round {
    let current = readers.lock().expect("never poisoned").clone();
    let tasks: Vec<_> = current
        .into_iter()
        .map(|(view, worker)| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let f = Name::from(view_f(&view).as_str());
                let (kind, value) =
                    perform_mapped(&ctx, worker.process, f, round_value(round), |v| {
                        with_round(v, round)
                    })
                    .await;
                let records = (kind == EventKind::Ok)
                    .then(|| records_of(&value))
                    .flatten();
                (view, worker.after(kind), records)
            })
        })
        .collect();
    let mut snapshot = Round::new();
    let mut next = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (view, worker, records) = task.await.expect("a view read never panics");
        if let Some(records) = records {
            snapshot.insert(view.clone(), records);
        }
        next.push((view, worker));
    }
    *readers.lock().expect("never poisoned") = next;
    snapshot
}

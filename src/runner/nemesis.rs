//! The nemesis task: follows the schedule during the main phase, injects each fault through
//! the backend, and records every start and heal as `nemesis` events (`start-kill` invoke,
//! then info with what was done; `stop-kill` likewise), the convention `checker::faults`
//! reads. Whatever ends the main phase (its deadline, Ctrl-C), every fault is healed before
//! this task returns.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tokio::sync::watch;

use crate::history::{EventKind, Name, Process, Value};
use crate::nemesis::command::{CommandRun, Hook, HookError};
use crate::nemesis::proxy::Toxic;
use crate::nemesis::{
    Cuts, DockerNodes, FaultKind, NemesisPlan, ProcessNodes, Proxies, Schedule, Shape, Step, Target,
};

use super::recorder::{Record, Recorder};
use super::run_log::RunLog;

/// A nemesis ready to run: its plan and the means to act on the nodes.
#[derive(Debug)]
pub struct Nemesis {
    pub plan: NemesisPlan,
    pub faults: Faults,
    /// The workload's fault proxies, where `slow` lands whatever the backend.
    pub proxies: Arc<Proxies>,
    /// The run's seed; the nemesis draws from its own stream of it.
    pub seed: u64,
}

/// How faults reach the nodes.
#[derive(Clone, Debug)]
pub enum Faults {
    /// Signals to processes splitbrain started.
    Process(Arc<ProcessNodes>),
    /// The Docker API and iptables in containers' network namespaces.
    Docker(Arc<DockerNodes>),
    /// Shell hooks, per fault.
    Hooks(Arc<BTreeMap<FaultKind, Hook>>),
}

/// Which half of a fault a backend is asked to do.
#[derive(Clone, Copy, Debug)]
enum Action {
    Start,
    Heal,
}

/// One fault aimed at its nodes.
#[derive(Clone, Debug)]
struct Hit {
    fault: FaultKind,
    /// The nodes it hits: the target, or for a partition shape that places every node, each
    /// node that loses a link.
    nodes: Vec<String>,
    /// The other nodes.
    peers: Vec<String>,
    /// For a partition: its shape and the links it cuts.
    partition: Option<(Shape, Cuts)>,
}

impl Hit {
    /// Picks the nodes (and a partition's links) with the nemesis' generator.
    fn aim(
        names: &[String],
        fault: FaultKind,
        target: &Target,
        shape: Shape,
        rng: &mut ChaCha8Rng,
    ) -> Hit {
        let side = target.select(names, rng);
        let (nodes, partition) = if fault == FaultKind::Partition {
            let cuts = shape.cuts(names, &side, rng);
            let nodes = if shape.uses_target() {
                side
            } else {
                cuts.nodes()
            };
            (nodes, Some((shape, cuts)))
        } else {
            (side, None)
        };
        let peers = names
            .iter()
            .filter(|n| !nodes.contains(n))
            .cloned()
            .collect();
        Hit {
            fault,
            nodes,
            peers,
            partition,
        }
    }

    /// What the history says of it.
    fn describe(&self) -> serde_json::Value {
        match &self.partition {
            Some((shape, cuts)) => json!({
                "nodes": self.nodes,
                "partition": shape.name(),
                "cuts": cuts.to_json(),
            }),
            None => json!({ "nodes": self.nodes }),
        }
    }
}

impl Faults {
    /// Starts or heals a fault; returns what was done and, if it failed, why.
    async fn act(&self, action: Action, hit: &Hit) -> Done {
        let (fault, nodes, peers) = (hit.fault, &hit.nodes, &hit.peers);
        match self {
            Faults::Process(backend) => {
                let (backend, nodes) = (backend.clone(), nodes.to_vec());
                let done = tokio::task::spawn_blocking(move || match action {
                    Action::Start => backend.inject(fault, &nodes),
                    Action::Heal => backend.heal(&nodes),
                })
                .await;
                flatten(done.map(|r| r.map_err(|e| e.to_string())))
            }
            Faults::Docker(backend) => {
                let cuts = hit.partition.as_ref().map(|(_, cuts)| cuts);
                let done = match (action, cuts) {
                    (Action::Start, _) => backend.inject(fault, nodes, cuts).await,
                    (Action::Heal, Some(cuts)) => backend.heal_partition(cuts).await,
                    (Action::Heal, None) => backend.heal(nodes).await,
                };
                flatten(Ok(done.map_err(|e| e.to_string())))
            }
            Faults::Hooks(hooks) => {
                let hook = hooks
                    .get(&fault)
                    .expect("validation requires a hook per fault");
                runs(match action {
                    Action::Start => hook.start_each(nodes, peers, &[]).await,
                    Action::Heal => hook.heal_each(nodes, peers, &[]).await,
                })
            }
        }
    }
}

/// What a backend did (for the history) and, if it failed, why.
type Done = (serde_json::Value, Option<String>);

fn flatten(done: Result<Result<serde_json::Value, String>, tokio::task::JoinError>) -> Done {
    match done {
        Ok(Ok(value)) => (value, None),
        Ok(Err(e)) => (serde_json::Value::Null, Some(e)),
        Err(e) => (serde_json::Value::Null, Some(e.to_string())),
    }
}

/// Each hook command's run, and the first failure.
fn runs(runs: Vec<Result<CommandRun, HookError>>) -> Done {
    let error = runs
        .iter()
        .find_map(|r| r.as_ref().err().map(ToString::to_string));
    let value = runs
        .iter()
        .map(|r| match r {
            Ok(run) => json!(run),
            Err(e) => json!({ "error": e.to_string() }),
        })
        .collect();
    (serde_json::Value::Array(value), error)
}

/// What the task needs from the run.
#[derive(Clone)]
struct Ctx {
    faults: Faults,
    proxies: Arc<Proxies>,
    /// What `slow` sets on the proxies, when the workload has proxies.
    slow: Option<Toxic>,
    names: Vec<String>,
    recorder: Arc<Recorder>,
    log: Arc<RunLog>,
}

impl Ctx {
    fn new(nemesis: &Nemesis, recorder: Arc<Recorder>, log: Arc<RunLog>) -> Ctx {
        Ctx {
            faults: nemesis.faults.clone(),
            proxies: nemesis.proxies.clone(),
            slow: (!nemesis.plan.proxies.is_empty()).then(|| nemesis.plan.slow.clone()),
            names: nemesis.plan.node_names(),
            recorder,
            log,
        }
    }
}

/// When the nemesis task died (a panic) instead of returning: heals what can be healed
/// without knowing which faults were active (processes and containers; hooks cannot be).
pub async fn heal_after_failure(nemesis: &Nemesis, recorder: Arc<Recorder>, log: Arc<RunLog>) {
    heal_everything(&Ctx::new(nemesis, recorder, log)).await;
}

/// Runs the schedule until `deadline` or a stop, then heals everything.
pub async fn run(
    nemesis: &Nemesis,
    recorder: Arc<Recorder>,
    log: Arc<RunLog>,
    start: Instant,
    deadline: Instant,
    stop: watch::Receiver<bool>,
) {
    let ctx = Ctx::new(nemesis, recorder, log);
    // Its own stream, so adding a fault does not change the workload's operations.
    let mut rng = ChaCha8Rng::seed_from_u64(nemesis.seed ^ 0x006e_656d_6573_6973);
    match &nemesis.plan.schedule {
        Schedule::Random {
            faults,
            target,
            partition,
            interval,
            duration,
        } => loop {
            if !pause(*interval, deadline, stop.clone()).await {
                break;
            }
            let fault = faults[rng.gen_range(0..faults.len())];
            let hit = Hit::aim(&ctx.names, fault, target, *partition, &mut rng);
            strike(&ctx, hit, *duration, deadline, stop.clone()).await;
        },
        Schedule::Timeline(steps) => timeline(&ctx, steps, start, deadline, stop, &mut rng).await,
    }
    heal_everything(&ctx).await;
}

async fn timeline(
    ctx: &Ctx,
    steps: &[Step],
    start: Instant,
    deadline: Instant,
    stop: watch::Receiver<bool>,
    rng: &mut ChaCha8Rng,
) {
    // Steps may overlap, so each waits for its own time.
    let tasks: Vec<_> = steps
        .iter()
        .map(|step| {
            let hit = Hit::aim(&ctx.names, step.fault, &step.target, step.partition, rng);
            let (ctx, step, stop) = (ctx.clone(), step.clone(), stop.clone());
            tokio::spawn(async move {
                let wait = (start + step.at).saturating_duration_since(Instant::now());
                if pause(wait, deadline, stop.clone()).await {
                    strike(&ctx, hit, step.duration, deadline, stop).await;
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

/// Sleeps `d`, cut short by the deadline or a stop; `true` if it slept the whole time.
async fn pause(d: Duration, deadline: Instant, mut stop: watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return false;
    }
    let wanted = Instant::now() + d;
    tokio::select! {
        _ = tokio::time::sleep_until(wanted.min(deadline).into()) => wanted < deadline,
        _ = stop.changed() => false,
    }
}

/// One fault: inject, hold for `duration` (or until the deadline / a stop), heal.
async fn strike(
    ctx: &Ctx,
    hit: Hit,
    duration: Duration,
    deadline: Instant,
    stop: watch::Receiver<bool>,
) {
    let empty = match &hit.partition {
        Some((_, cuts)) => cuts.is_empty(),
        None => hit.nodes.is_empty(),
    };
    if empty {
        return;
    }
    let (fault, nodes) = (hit.fault, &hit.nodes);
    let f: Name = format!("start-{fault}").into();
    record(ctx, EventKind::Invoke, &f, hit.describe(), None);
    let (done, error) = act(ctx, Action::Start, &hit).await;
    ctx.log
        .line(format!("nemesis: {fault} {nodes:?}: {done} {error:?}"));
    let mut value = hit.describe();
    value["applied"] = done;
    record(ctx, EventKind::Info, &f, value, error);
    pause(duration, deadline, stop).await;
    // Healed even when the start failed: a heal must be safe when the fault is not active.
    let f: Name = format!("stop-{fault}").into();
    record(ctx, EventKind::Invoke, &f, json!({ "nodes": nodes }), None);
    let (done, error) = act(ctx, Action::Heal, &hit).await;
    ctx.log.line(format!(
        "nemesis: healed {fault} {nodes:?}: {done} {error:?}"
    ));
    record(
        ctx,
        EventKind::Info,
        &f,
        json!({ "nodes": nodes, "healed": done }),
        error,
    );
}

/// Starts or heals a fault: `slow` on the fault proxies when the workload has them,
/// everything else through the backend.
async fn act(ctx: &Ctx, action: Action, hit: &Hit) -> Done {
    let Some(toxic) = ctx.slow.as_ref().filter(|_| hit.fault == FaultKind::Slow) else {
        return ctx.faults.act(action, hit).await;
    };
    let proxies = match action {
        Action::Start => ctx.proxies.inject(&hit.nodes, toxic),
        Action::Heal => ctx.proxies.heal(&hit.nodes),
    };
    let error = (proxies.as_array().is_some_and(Vec::is_empty)).then(|| {
        format!(
            "failed to slow {:?}: no [[nemesis.proxies]] lead to them",
            hit.nodes
        )
    });
    (json!({ "toxic": toxic, "proxies": proxies }), error)
}

/// The end of the fault phase: whatever is still broken is healed, and said so.
async fn heal_everything(ctx: &Ctx) {
    let cleared = ctx.proxies.heal_all();
    if !cleared.is_empty() {
        ctx.log.line(format!(
            "nemesis: cleared at the end of the fault phase: {cleared:?}"
        ));
        record(
            ctx,
            EventKind::Info,
            &"heal".into(),
            json!({ "proxies": cleared }),
            None,
        );
    }
    // Hooks heal each fault in `strike`; processes and containers can be left down (a
    // failed restart) or cut off (a failed heal).
    let healed = match &ctx.faults {
        Faults::Process(backend) => {
            let backend = backend.clone();
            tokio::task::spawn_blocking(move || backend.heal_all()).await
        }
        Faults::Docker(backend) => Ok(backend.heal_all().await),
        Faults::Hooks(_) => return,
    };
    match healed {
        Ok(Ok(names)) if names.is_empty() => {}
        Ok(Ok(names)) => {
            ctx.log.line(format!(
                "nemesis: healed at the end of the fault phase: {names:?}"
            ));
            record(
                ctx,
                EventKind::Info,
                &"heal".into(),
                json!({ "nodes": names }),
                None,
            );
        }
        Ok(Err(e)) => {
            ctx.log.line(format!(
                "nemesis: FAILED to heal at the end of the fault phase: {e}"
            ));
            record(
                ctx,
                EventKind::Info,
                &"heal".into(),
                json!(null),
                Some(e.to_string()),
            );
        }
        Err(e) => ctx.log.line(format!("nemesis: FAILED to heal: {e}")),
    }
}

fn record(ctx: &Ctx, kind: EventKind, f: &Name, value: serde_json::Value, error: Option<String>) {
    ctx.recorder.record(Record {
        process: Process::Nemesis,
        kind,
        f,
        value: Value::from_json(&value),
        error,
    });
}

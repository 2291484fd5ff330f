//! Validates `[[nodes]]` and `[nemesis]` into a [`NemesisPlan`]: nodes with commands are the
//! process backend, nodes with a container or label the docker backend, nodes with neither
//! are reached through `[nemesis.hooks]`; every fault names a
//! known fault the backend can inject, every node a known node, and the schedule fits in the
//! run. All of it is checked
//! before anything starts, so a bad schedule never leaves a fault half applied.

use std::time::Duration;

use toml::Spanned;

use std::collections::BTreeMap;

use crate::nemesis::command::{CommandTemplate, Hook, validate_node_name};
use crate::nemesis::{
    Backend, ContainerRef, DockerNodeSpec, FaultKind, NemesisPlan, NodeSpec, Schedule, Shape, Step,
    Target,
};

use super::WorkloadError;
use super::cx::Cx;
use super::proxies::{check_proxies, check_slow};
use super::raw::{RawHook, RawNemesis, RawNode, RawStep};

/// Jepsen's default pause between faults, and splitbrain's default fault length.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// How long a hook command may run when the workload does not say.
const DEFAULT_HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// The nemesis plan, or `None` when the workload has neither nodes nor faults. Nodes without
/// a `[nemesis]` are still started and stopped by splitbrain (a plan with no faults).
pub(super) fn check(
    cx: &Cx,
    nodes: Option<Vec<Spanned<RawNode>>>,
    nemesis: Option<RawNemesis>,
    time_limit: Duration,
) -> Result<Option<NemesisPlan>, WorkloadError> {
    let nodes = nodes.unwrap_or_default();
    if nodes.is_empty() && nemesis.is_none() {
        return Ok(None);
    }
    if nodes.is_empty() {
        return Err(cx.plain(
            "nemesis",
            "expected [[nodes]]: with a command each, splitbrain starts them and injects faults \
             itself; without, [nemesis.hooks] say how to reach them",
        ));
    }
    let raw = nemesis.unwrap_or_default();
    let backend = check_backend(cx, nodes, raw.hooks.as_ref())?;
    let names = match &backend {
        Backend::Process(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
        Backend::Docker(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
        Backend::Command { nodes, .. } => nodes.clone(),
    };
    let proxies = check_proxies(cx, raw.proxies.as_ref(), &names)?;
    check_hooks_or_proxies(cx, &raw, &proxies)?;
    let can = |fault: FaultKind| match &backend {
        _ if FaultKind::PROXY.contains(&fault) && !proxies.is_empty() => None,
        Backend::Process(_) if !FaultKind::PROCESS.contains(&fault) => Some(format!(
            "the process backend (nodes with a command) cannot inject {fault}: it does kill, \
             pause and restart; partition needs the docker backend (nodes with a container) \
             or [nemesis.hooks], slow needs [[nemesis.proxies]] (a fault proxy in front of \
             the node) or [nemesis.hooks]"
        )),
        Backend::Docker(_) if !FaultKind::DOCKER.contains(&fault) => Some(format!(
            "the docker backend (nodes with a container) cannot inject {fault}: it does kill, \
             pause, restart, partition and slow"
        )),
        Backend::Command { hooks, .. } if !hooks.contains_key(&fault) => Some(format!(
            "expected a [nemesis.hooks.{fault}] table saying how to start and heal it{}",
            if fault == FaultKind::Slow {
                ", or [[nemesis.proxies]] (a fault proxy in front of the node)"
            } else {
                ""
            }
        )),
        _ => None,
    };
    let schedule = match (&raw.faults, &raw.timeline) {
        (Some(_), Some(_)) => Err(cx.plain(
            "nemesis",
            "expected either faults (a random schedule) or [[nemesis.timeline]], not both",
        )),
        (None, None) => Ok(Schedule::Timeline(Vec::new())), // nodes, no faults
        (Some(faults), None) => random(cx, &raw, faults, &names, time_limit, &can),
        (None, Some(steps)) => timeline(cx, steps, &names, time_limit, &can),
    }?;
    let hooks = matches!(backend, Backend::Command { .. });
    check_shapes(cx, &raw, &schedule, names.len(), hooks)?;
    let slow = check_slow(cx, raw.slow.as_ref())?;
    let plan = NemesisPlan {
        backend,
        schedule,
        proxies,
        slow,
    };
    check_slow_used(cx, &raw, &plan)?;
    Ok(Some(plan))
}

/// `slow` comes from `[nemesis.hooks.slow]` or from the fault proxies, never both.
fn check_hooks_or_proxies(
    cx: &Cx,
    raw: &RawNemesis,
    proxies: &[crate::nemesis::ProxySpec],
) -> Result<(), WorkloadError> {
    let hook = raw
        .hooks
        .iter()
        .flatten()
        .find(|(name, _)| name.get_ref() == "slow");
    match hook {
        Some((name, _)) if !proxies.is_empty() => Err(cx.at(
            name,
            "nemesis.hooks.slow",
            "slow is injected either by [nemesis.hooks.slow] or by the fault proxies of \
             [[nemesis.proxies]], not both: remove [nemesis.hooks.slow] to slow the proxied \
             links, or [[nemesis.proxies]] to run the hook",
        )),
        _ => Ok(()),
    }
}

/// `[nemesis.slow]` says what `slow` does on the proxies: it needs both.
fn check_slow_used(cx: &Cx, raw: &RawNemesis, plan: &NemesisPlan) -> Result<(), WorkloadError> {
    let Some(table) = &raw.slow else {
        return Ok(());
    };
    let problem = if !plan.schedules(FaultKind::Slow) {
        "[nemesis.slow] says what the slow fault does, and no slow fault is scheduled: add \
         slow to the faults or the timeline, or remove [nemesis.slow]"
    } else if let Some(problem) = qdisc_problem(cx, raw, plan) {
        return Err(problem);
    } else if plan.proxies.is_empty() && !matches!(plan.backend, Backend::Docker(_)) {
        "[nemesis.slow] says what slow does on the fault proxies, and there are none: add \
         [[nemesis.proxies]], or remove [nemesis.slow] (with hooks, [nemesis.hooks.slow] says \
         what slow does)"
    } else {
        return Ok(());
    };
    Err(cx.at(table, "nemesis.slow", problem))
}

/// Containers without proxies slow their links with a qdisc, which can delay, drop or pace
/// what a node sends, but not reset connections or pick a direction.
fn qdisc_problem(cx: &Cx, raw: &RawNemesis, plan: &NemesisPlan) -> Option<WorkloadError> {
    if !plan.qdisc_slow() {
        return None;
    }
    let table = raw.slow.as_ref()?;
    if let Some(direction) = &table.get_ref().direction {
        let message = "without [[nemesis.proxies]], slow on containers is a qdisc on what each \
                       node sends, which has no direction: remove direction, or add proxies";
        return Some(cx.at(direction, "nemesis.slow.direction", message));
    }
    if crate::nemesis::docker::qdisc(&plan.slow).is_none() {
        let message = "without [[nemesis.proxies]], slow on containers is a qdisc (netem or \
                       tbf), which can be latency, blackhole or bandwidth above 0; reset and \
                       refuse need the fault proxy: add [[nemesis.proxies]]";
        return Some(match &table.get_ref().toxic {
            Some(at) => cx.at(at, "nemesis.slow.toxic", message),
            None => cx.at(table, "nemesis.slow", message),
        });
    }
    None
}

/// What may say whether a backend can inject a fault (`Some(why not)`).
type Can<'a> = dyn Fn(FaultKind) -> Option<String> + 'a;

/// Nodes with commands: the process backend; nodes without: command hooks.
fn check_backend(
    cx: &Cx,
    nodes: Vec<Spanned<RawNode>>,
    hooks: Option<&BTreeMap<Spanned<String>, Spanned<RawHook>>>,
) -> Result<Backend, WorkloadError> {
    for (i, node) in nodes.iter().enumerate() {
        let node = node.get_ref();
        let given: Vec<&Spanned<_>> = [&node.command.as_ref().map(|_| &node.name)]
            .into_iter()
            .flatten()
            .copied()
            .chain(node.container.iter())
            .chain(node.label.iter())
            .collect();
        if given.len() > 1 {
            let message = "expected one of command (splitbrain starts it), container or label \
                           (a Docker container), not several";
            return Err(cx.at(given[1], &format!("nodes[{i}]"), message));
        }
    }
    let with_docker = nodes
        .iter()
        .filter(|n| n.get_ref().container.is_some() || n.get_ref().label.is_some())
        .count();
    if with_docker > 0 {
        return check_docker(cx, nodes, with_docker, hooks);
    }
    let with_command = nodes
        .iter()
        .filter(|n| n.get_ref().command.is_some())
        .count();
    if with_command == nodes.len() {
        if let Some((name, _)) = hooks.and_then(|h| h.iter().next()) {
            let message = "hooks are for nodes splitbrain does not start: expected nodes \
                           without a command, or no [nemesis.hooks]";
            return Err(cx.at(name, &format!("nemesis.hooks.{}", name.get_ref()), message));
        }
        return Ok(Backend::Process(check_nodes(cx, nodes)?));
    }
    if with_command > 0 {
        let first = nodes
            .iter()
            .find(|n| n.get_ref().command.is_none())
            .expect("counted");
        let message = "expected every node to have a command (splitbrain starts them) or none \
                       (command hooks reach them), not a mix";
        return Err(cx.at(&first.get_ref().name, "nodes.command", message));
    }
    let names = check_names(cx, &nodes)?;
    let hooks = check_hooks(cx, hooks)?;
    Ok(Backend::Command {
        nodes: names,
        hooks,
    })
}

/// Nodes with a container or label: the docker backend; every node must have one.
fn check_docker(
    cx: &Cx,
    nodes: Vec<Spanned<RawNode>>,
    with_docker: usize,
    hooks: Option<&BTreeMap<Spanned<String>, Spanned<RawHook>>>,
) -> Result<Backend, WorkloadError> {
    if with_docker < nodes.len() {
        let (i, other) = nodes
            .iter()
            .enumerate()
            .find(|(_, n)| n.get_ref().container.is_none() && n.get_ref().label.is_none())
            .expect("counted");
        let message = "expected every node to be a Docker container (container or label), \
                       not a mix with other kinds of node";
        return Err(cx.at(&other.get_ref().name, &format!("nodes[{i}]"), message));
    }
    if let Some((name, _)) = hooks.and_then(|h| h.iter().next()) {
        let message = "hooks are for nodes splitbrain cannot reach: the docker backend injects \
                       faults itself; expected no [nemesis.hooks]";
        return Err(cx.at(name, &format!("nemesis.hooks.{}", name.get_ref()), message));
    }
    let names = check_names(cx, &nodes)?;
    let mut specs = Vec::new();
    for (i, (node, name)) in nodes.iter().zip(names).enumerate() {
        let node = node.get_ref();
        let container = match (&node.container, &node.label) {
            (Some(c), _) => (c, "container", ContainerRef::Name(c.get_ref().clone())),
            (None, Some(l)) => (l, "label", ContainerRef::Label(l.get_ref().clone())),
            (None, None) => unreachable!("every node was counted as docker"),
        };
        let (text, key, container) = container;
        if text.get_ref().trim().is_empty() || text.get_ref().contains('/') {
            let message = format!(
                "expected a container name or ID (for container) or key=value (for label), \
                 found {:?}",
                text.get_ref()
            );
            return Err(cx.at(text, &format!("nodes[{i}].{key}"), message));
        }
        specs.push(DockerNodeSpec { name, container });
    }
    Ok(Backend::Docker(specs))
}

/// Node names that are safe in a shell command and unique.
fn check_names(cx: &Cx, nodes: &[Spanned<RawNode>]) -> Result<Vec<String>, WorkloadError> {
    let mut names: Vec<String> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let name = &node.get_ref().name;
        let field = format!("nodes[{i}].name");
        validate_node_name(name.get_ref()).map_err(|m| cx.at(name, &field, m))?;
        if names.contains(name.get_ref()) {
            return Err(cx.at(
                name,
                &field,
                format!("node {:?} is named twice", name.get_ref()),
            ));
        }
        names.push(name.get_ref().clone());
    }
    Ok(names)
}

fn check_hooks(
    cx: &Cx,
    raw: Option<&BTreeMap<Spanned<String>, Spanned<RawHook>>>,
) -> Result<BTreeMap<FaultKind, Hook>, WorkloadError> {
    let mut hooks = BTreeMap::new();
    for (name, hook) in raw.into_iter().flatten() {
        let table = format!("nemesis.hooks.{}", name.get_ref());
        let fault = fault(cx, name, &table, &|_| None)?;
        let hook = hook.get_ref();
        let template = |t: &Spanned<String>, key: &str| {
            CommandTemplate::parse(t.get_ref()).map_err(|m| cx.at(t, &format!("{table}.{key}"), m))
        };
        let timeout = match &hook.timeout {
            Some(t) => cx.duration(t, &format!("{table}.timeout"), false)?,
            None => DEFAULT_HOOK_TIMEOUT,
        };
        let hook = Hook {
            start: template(&hook.start, "start")?,
            heal: template(&hook.heal, "heal")?,
            timeout,
        };
        hooks.insert(fault, hook);
    }
    Ok(hooks)
}

fn check_nodes(cx: &Cx, raw: Vec<Spanned<RawNode>>) -> Result<Vec<NodeSpec>, WorkloadError> {
    let mut nodes: Vec<NodeSpec> = Vec::new();
    for (i, node) in raw.into_iter().enumerate() {
        let node = node.into_inner();
        let name = node.name.get_ref();
        let field = format!("nodes[{i}].name");
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !valid {
            let message =
                format!("expected a node name of letters, digits, '.', '_' or '-', found {name:?}");
            return Err(cx.at(&node.name, &field, message));
        }
        if nodes.iter().any(|n| &n.name == name) {
            return Err(cx.at(&node.name, &field, format!("node {name:?} is named twice")));
        }
        let command = node
            .command
            .expect("the process backend has a command for every node");
        if command.get_ref().is_empty() {
            let field = format!("nodes[{i}].command");
            return Err(cx.at(
                &command,
                &field,
                "expected a program and its arguments, found []",
            ));
        }
        let command = command
            .into_inner()
            .into_iter()
            .map(Spanned::into_inner)
            .collect();
        nodes.push(NodeSpec {
            name: name.clone(),
            command,
        });
    }
    Ok(nodes)
}

fn random(
    cx: &Cx,
    raw: &RawNemesis,
    faults: &Spanned<Vec<Spanned<String>>>,
    names: &[String],
    time_limit: Duration,
    can: &Can,
) -> Result<Schedule, WorkloadError> {
    if faults.get_ref().is_empty() {
        return Err(cx.at(faults, "nemesis.faults", "expected at least one fault"));
    }
    let faults = faults
        .get_ref()
        .iter()
        .map(|f| fault(cx, f, "nemesis.faults", can))
        .collect::<Result<Vec<_>, _>>()?;
    let target = target(
        cx,
        raw.target.as_ref(),
        raw.nodes.as_ref(),
        names,
        "nemesis",
    )?;
    let interval = opt_duration(
        cx,
        raw.interval.as_ref(),
        "nemesis.interval",
        DEFAULT_INTERVAL,
    )?;
    let duration = opt_duration(
        cx,
        raw.duration.as_ref(),
        "nemesis.duration",
        DEFAULT_DURATION,
    )?;
    if interval >= time_limit {
        let message = format!(
            "the first fault would start after {} but the run lasts {}: expected an interval \
             shorter than time_limit",
            humantime::format_duration(interval),
            humantime::format_duration(time_limit)
        );
        let at = raw.interval.as_ref();
        return Err(at.map_or_else(
            || cx.plain("nemesis.interval", &message),
            |i| cx.at(i, "nemesis.interval", message.clone()),
        ));
    }
    let partition = shape(cx, raw.partition.as_ref(), "nemesis.partition")?;
    Ok(Schedule::Random {
        faults,
        target,
        partition,
        interval,
        duration,
    })
}

fn timeline(
    cx: &Cx,
    steps: &[Spanned<RawStep>],
    names: &[String],
    time_limit: Duration,
    can: &Can,
) -> Result<Schedule, WorkloadError> {
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let raw = step.get_ref();
        let field = |f: &str| format!("nemesis.timeline[{i}].{f}");
        let at = cx.duration(&raw.at, &field("at"), true)?;
        let duration = cx.duration(&raw.duration, &field("duration"), false)?;
        if at + duration > time_limit {
            let message = format!(
                "this fault ends at {} but the run lasts {}: expected it to end within time_limit",
                humantime::format_duration(at + duration),
                humantime::format_duration(time_limit)
            );
            return Err(cx.at(&raw.duration, &field("duration"), message));
        }
        out.push(Step {
            at,
            fault: fault(cx, &raw.fault, &field("fault"), can)?,
            target: target(
                cx,
                raw.target.as_ref(),
                raw.nodes.as_ref(),
                names,
                &format!("nemesis.timeline[{i}]"),
            )?,
            partition: shape(cx, raw.partition.as_ref(), &field("partition"))?,
            duration,
        });
    }
    out.sort_by_key(|s| s.at);
    Ok(Schedule::Timeline(out))
}

fn fault(
    cx: &Cx,
    name: &Spanned<String>,
    field: &str,
    can: &Can,
) -> Result<FaultKind, WorkloadError> {
    let found = name.get_ref();
    let fault = FaultKind::from_name(found).ok_or_else(|| {
        let message = format!(
            "expected one of {}, found {found:?}",
            FaultKind::NAMES.join(", ")
        );
        cx.at(name, field, message)
    })?;
    match can(fault) {
        Some(why) => Err(cx.at(name, field, why)),
        None => Ok(fault),
    }
}

fn target(
    cx: &Cx,
    target: Option<&Spanned<String>>,
    nodes: Option<&Spanned<Vec<Spanned<String>>>>,
    names: &[String],
    table: &str,
) -> Result<Target, WorkloadError> {
    match (target, nodes) {
        (Some(t), Some(_)) => Err(cx.at(
            t,
            &format!("{table}.target"),
            "expected target or nodes, not both",
        )),
        (None, None) => Ok(Target::One),
        (Some(t), None) => Target::from_name(t.get_ref()).ok_or_else(|| {
            let message = format!(
                "expected one of {} (or nodes = [...]), found {:?}",
                Target::NAMES.join(", "),
                t.get_ref()
            );
            cx.at(t, &format!("{table}.target"), message)
        }),
        (None, Some(list)) => {
            for node in list.get_ref() {
                if !names.contains(node.get_ref()) {
                    let message = format!(
                        "unknown node {:?}: expected one of {}",
                        node.get_ref(),
                        names.join(", ")
                    );
                    return Err(cx.at(node, &format!("{table}.nodes"), message));
                }
            }
            Ok(Target::Nodes(
                list.get_ref().iter().map(|n| n.get_ref().clone()).collect(),
            ))
        }
    }
}

fn shape(cx: &Cx, text: Option<&Spanned<String>>, field: &str) -> Result<Shape, WorkloadError> {
    let Some(text) = text else {
        return Ok(Shape::Isolate);
    };
    Shape::from_name(text.get_ref()).ok_or_else(|| {
        let message = format!(
            "expected one of {}, found {:?}",
            Shape::NAMES.join(", "),
            text.get_ref()
        );
        cx.at(text, field, message)
    })
}

/// A partition shape only with a partition, without a target when it places every node
/// itself, with enough nodes to make it, and only `isolate` through hooks.
fn check_shapes(
    cx: &Cx,
    raw: &RawNemesis,
    schedule: &Schedule,
    node_count: usize,
    hooks: bool,
) -> Result<(), WorkloadError> {
    // (the shape's text, its table, whether the fault is a partition, target or nodes given)
    let mut uses: Vec<(&Spanned<String>, String, bool, bool)> = Vec::new();
    match schedule {
        Schedule::Random { faults, .. } => {
            if let Some(text) = &raw.partition {
                let partitions = faults.contains(&FaultKind::Partition);
                let targeted = raw.target.is_some() || raw.nodes.is_some();
                uses.push((text, "nemesis".into(), partitions, targeted));
            }
        }
        Schedule::Timeline(_) => {
            // Validated steps are sorted by time; the raw ones keep the file's order.
            for (i, step) in raw.timeline.iter().flatten().enumerate() {
                let step = step.get_ref();
                if let Some(text) = &step.partition {
                    let partitions = step.fault.get_ref() == "partition";
                    let targeted = step.target.is_some() || step.nodes.is_some();
                    uses.push((text, format!("nemesis.timeline[{i}]"), partitions, targeted));
                }
            }
        }
    }
    for (text, table, partitions, targeted) in uses {
        let field = format!("{table}.partition");
        let shape = Shape::from_name(text.get_ref()).expect("parsed before");
        let problem = if !partitions {
            Some(
                "partition sets the shape of a partition fault: expected fault(s) to include \
                  partition, or no partition field"
                    .to_owned(),
            )
        } else if !shape.uses_target() && targeted {
            Some(format!(
                "{shape} places every node itself: expected no target or nodes with it"
            ))
        } else if node_count < shape.min_nodes() {
            Some(format!(
                "{shape} needs at least {} nodes, found {node_count}",
                shape.min_nodes()
            ))
        } else if hooks && shape != Shape::Isolate {
            Some(format!(
                "command hooks receive the cut-off nodes ({{{{nodes}}}}) and the rest \
                 ({{{{peers}}}}), which describes isolate only: expected partition = \"isolate\" \
                 with hooks, found \"{shape}\""
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            return Err(cx.at(text, &field, message));
        }
    }
    Ok(())
}

fn opt_duration(
    cx: &Cx,
    text: Option<&Spanned<String>>,
    field: &str,
    default: Duration,
) -> Result<Duration, WorkloadError> {
    text.map_or(Ok(default), |t| cx.duration(t, field, false))
}

//! Validates `[[nodes]]` and `[nemesis]` into a [`NemesisPlan`]: every fault names a known
//! fault, every node a known node, and the schedule fits in the run. All of it is checked
//! before anything starts, so a bad schedule never leaves a fault half applied.

use std::time::Duration;

use toml::Spanned;

use crate::nemesis::{FaultKind, NemesisPlan, NodeSpec, Schedule, Step, Target};

use super::WorkloadError;
use super::raw::{RawNemesis, RawNode, RawStep};
use super::validate::Cx;

/// Jepsen's default pause between faults, and splitbrain's default fault length.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// The nemesis plan, or `None` when the workload injects no faults.
pub(super) fn check(
    cx: &Cx,
    nodes: Option<Vec<Spanned<RawNode>>>,
    nemesis: Option<RawNemesis>,
    time_limit: Duration,
) -> Result<Option<NemesisPlan>, WorkloadError> {
    let nodes = check_nodes(cx, nodes.unwrap_or_default())?;
    let Some(raw) = nemesis else {
        return Ok(None);
    };
    if nodes.is_empty() {
        return Err(cx.plain(
            "nemesis",
            "expected [[nodes]] with a command each: faults land on processes splitbrain \
             starts (the process backend); the docker and command backends are not built yet",
        ));
    }
    let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    let schedule = match (&raw.faults, &raw.timeline) {
        (Some(_), Some(_)) => Err(cx.plain(
            "nemesis",
            "expected either faults (a random schedule) or [[nemesis.timeline]], not both",
        )),
        (None, None) => Err(cx.plain(
            "nemesis",
            "expected faults = [...] or [[nemesis.timeline]] steps",
        )),
        (Some(faults), None) => random(cx, &raw, faults, &names, time_limit),
        (None, Some(steps)) => timeline(cx, steps, &names, time_limit),
    }?;
    Ok(Some(NemesisPlan { nodes, schedule }))
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
        if node.command.get_ref().is_empty() {
            let field = format!("nodes[{i}].command");
            return Err(cx.at(
                &node.command,
                &field,
                "expected a program and its arguments, found []",
            ));
        }
        let command = node
            .command
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
) -> Result<Schedule, WorkloadError> {
    if faults.get_ref().is_empty() {
        return Err(cx.at(faults, "nemesis.faults", "expected at least one fault"));
    }
    let faults = faults
        .get_ref()
        .iter()
        .map(|f| fault(cx, f, "nemesis.faults"))
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
    Ok(Schedule::Random {
        faults,
        target,
        interval,
        duration,
    })
}

fn timeline(
    cx: &Cx,
    steps: &[Spanned<RawStep>],
    names: &[String],
    time_limit: Duration,
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
            fault: fault(cx, &raw.fault, &field("fault"))?,
            target: target(
                cx,
                raw.target.as_ref(),
                raw.nodes.as_ref(),
                names,
                &format!("nemesis.timeline[{i}]"),
            )?,
            duration,
        });
    }
    out.sort_by_key(|s| s.at);
    Ok(Schedule::Timeline(out))
}

fn fault(cx: &Cx, name: &Spanned<String>, field: &str) -> Result<FaultKind, WorkloadError> {
    let found = name.get_ref();
    FaultKind::from_name(found).ok_or_else(|| {
        let planned = if FaultKind::PLANNED.contains(&found.as_str()) {
            " (partitions and slow links need the docker backend or the fault proxy, not built yet)"
        } else {
            ""
        };
        cx.at(
            name,
            field,
            format!(
                "expected one of {}, found {found:?}{planned}",
                FaultKind::NAMES.join(", ")
            ),
        )
    })
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

fn opt_duration(
    cx: &Cx,
    text: Option<&Spanned<String>>,
    field: &str,
    default: Duration,
) -> Result<Duration, WorkloadError> {
    text.map_or(Ok(default), |t| cx.duration(t, field, false))
}

//! Names the nemesis faults that were active while each anomaly's witness ops ran, so a
//! report can say "lost during `partition [n1 n2] | [n3]`". Runs after the checkers; it never
//! changes a verdict.
//!
//! Convention for nemesis events (`process: "nemesis"` in the history), which the nemesis
//! must follow:
//! - an event of type `invoke` or `info` whose `f` starts with `start` opens a fault named by
//!   the rest of `f` (`start-partition` opens `partition`); its value describes the fault
//!   (e.g. the partition's components); a later `start` of an open fault updates the value
//!   (Jepsen's nemesis sends `invoke` and then an `info` with what it actually did);
//! - a `fail` whose `f` starts with `start` means the fault did not start: it is dropped;
//! - an event of any type whose `f` starts with `stop` or `heal` closes the fault of the same
//!   name (`stop-partition`, `heal-partition`); a bare `stop` or `heal` closes every open
//!   fault. Consecutive stop events with the same `f` (the nemesis' `invoke`, then its
//!   `info` once done) end it at the last of them;
//! - a fault never closed lasts to the end of the history.
//!
//! A fault is active for an anomaly when its window overlaps the span from the earliest
//! invocation to the latest completion of the anomaly's witness ops (an op that never
//! completed extends the span to the end).

use super::Results;
use crate::history::{Event, EventKind, History, Value};

/// Fills `faults` of every anomaly in `results` with the nemesis faults active during its
/// witness ops (see the module docs for the convention).
pub fn annotate_faults(history: &History, results: &mut Results) {
    let windows = fault_windows(&history.nemesis);
    if windows.is_empty() {
        return;
    }
    for checker in results.checkers.values_mut() {
        for anomaly in &mut checker.anomalies {
            let witnesses = anomaly
                .window
                .as_ref()
                .map_or(anomaly.ops.as_slice(), |w| &w[..]);
            let Some((from, to)) = span(history, witnesses) else {
                continue;
            };
            anomaly.faults = windows
                .iter()
                .filter(|w| w.start <= to && w.end.unwrap_or(u64::MAX) >= from)
                .map(Window::describe)
                .collect();
        }
    }
}

/// One fault, from its start to its end (`None`: still active when the history ends).
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// The fault's name: `partition`, `pause`, ... (empty for a bare `start`).
    pub name: String,
    /// What the nemesis said it did (nodes, the partition's shape).
    pub value: Value,
    /// History times (nanoseconds since the start).
    pub start: u64,
    pub end: Option<u64>,
}

impl Window {
    /// `partition [n1 n2] | [n3] from 12.0 s to 27.0 s`, `pause [n1] from 4.0 s to 6.0 s`.
    pub fn describe(&self) -> String {
        let name = if self.name.is_empty() {
            "fault"
        } else {
            &self.name
        };
        // splitbrain's own nemesis writes `{"nodes": [...], "applied": ...}`: the nodes say it,
        // and a partition's shape (`"partition": "halves"`) follows its name.
        let entry = |key: &str| match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        };
        let nodes = entry("nodes");
        let name = match entry("partition").and_then(Value::as_str) {
            Some(shape) => format!("{name} {shape}"),
            None => name.to_owned(),
        };
        let value = match nodes.unwrap_or(&self.value) {
            Value::Nil => String::new(),
            Value::List(items) if items.iter().all(|i| i.as_list().is_some()) => {
                let parts: Vec<String> = items.iter().map(bare).collect();
                format!(" {}", parts.join(" | "))
            }
            other => format!(" {}", bare(other)),
        };
        let to = self.end.map_or("the end".to_owned(), |end| {
            format!("{:.1} s", end as f64 / 1e9)
        });
        format!(
            "{name}{value} from {:.1} s to {to}",
            self.start as f64 / 1e9
        )
    }
}

/// A value as people write node names: strings without quotes.
fn bare(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(bare).collect();
            format!("[{}]", parts.join(" "))
        }
        other => other.to_string(),
    }
}

/// The fault name after a `start`/`stop`/`heal` prefix: `start-partition` → `partition`.
fn named<'f>(f: &'f str, prefix: &str) -> Option<&'f str> {
    f.strip_prefix(prefix)
        .map(|rest| rest.trim_start_matches(['-', '_']))
}

/// The fault windows the nemesis events describe, in the order they started.
pub fn fault_windows(events: &[Event]) -> Vec<Window> {
    let mut windows: Vec<Window> = Vec::new();
    // The stop event just seen and the windows it closed: an immediately following event
    // with the same `f` (the nemesis' `info` after its `invoke`) moves their end later.
    let mut last_stop: Option<(&str, Vec<usize>)> = None;
    for event in events {
        let f = &*event.f;
        let Some(name) = named(f, "stop").or_else(|| named(f, "heal")) else {
            if let Some(name) = named(f, "start") {
                start(&mut windows, name, event);
            }
            last_stop = None;
            continue;
        };
        let closed = match last_stop.take() {
            Some((last, closed)) if last == f => closed,
            _ => (0..windows.len())
                .filter(|&i| windows[i].end.is_none())
                .filter(|&i| name.is_empty() || windows[i].name == name)
                .collect(),
        };
        for &i in &closed {
            windows[i].end = Some(event.time);
        }
        last_stop = Some((f, closed));
    }
    windows
}

fn start(windows: &mut Vec<Window>, name: &str, event: &Event) {
    let open = windows
        .iter()
        .position(|w| w.name == name && w.end.is_none());
    match (event.kind, open) {
        (EventKind::Fail, Some(pos)) => {
            windows.remove(pos);
        }
        (EventKind::Invoke | EventKind::Info, Some(pos)) if !event.value.is_nil() => {
            windows[pos].value = event.value.clone();
        }
        (EventKind::Invoke | EventKind::Info, None) => windows.push(Window {
            name: name.to_owned(),
            value: event.value.clone(),
            start: event.time,
            end: None,
        }),
        _ => {}
    }
}

/// From the earliest invocation to the latest completion of the ops at these indexes.
fn span(history: &History, indexes: &[u64]) -> Option<(u64, u64)> {
    indexes
        .iter()
        .filter_map(|&index| history.op_at(index))
        .map(|op| (op.invoke_time, op.end_time()))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::test_support::{history, results_with_lost};

    const S: u64 = 1_000_000_000;

    fn faults_for(script: &str, ops: Vec<u64>) -> Vec<String> {
        let mut results = results_with_lost(ops);
        annotate_faults(&history(script), &mut results);
        results.checkers["set"].anomalies[0].faults.clone()
    }

    #[test]
    fn an_anomaly_with_a_window_names_only_the_faults_inside_it() {
        // Ops 0-1 at 1 s, ops 2-3 at 2 s, a pause from 3 s to 4 s, ops 6-7 at 5 s.
        let script = format!(
            "{} 0 i add 1
             {} 0 ok add 1
             {} 1 i read nil
             {} 1 ok read [1]
             {} n info start-pause n1
             {} n info stop-pause
             {} 2 i read nil
             {} 2 ok read []",
            S,
            S + 1,
            2 * S,
            2 * S + 1,
            3 * S,
            4 * S,
            5 * S,
            5 * S + 1
        );
        let mut results = results_with_lost(vec![0, 1, 2, 3, 6, 7]);
        let anomaly = &mut results.checkers.get_mut("set").unwrap().anomalies[0];
        anomaly.window = Some([0, 2]);
        annotate_faults(&history(&script), &mut results);
        assert!(results.checkers["set"].anomalies[0].faults.is_empty());
        let mut results = results_with_lost(vec![0, 1, 2, 3, 6, 7]);
        results.checkers.get_mut("set").unwrap().anomalies[0].window = Some([2, 6]);
        annotate_faults(&history(&script), &mut results);
        assert_eq!(
            results.checkers["set"].anomalies[0].faults,
            ["pause n1 from 3.0 s to 4.0 s"]
        );
    }

    #[test]
    fn partition_active_during_the_witness_ops_is_named_with_its_nodes_and_window() {
        let script = format!(
            "{} n invoke start-partition
             {} n info start-partition [[n1 n2] [n3]]
             {} 0 i add 1
             {} 0 ok add 1
             {} n invoke stop-partition
             {} n info stop-partition",
            12 * S,
            12 * S + 1,
            14 * S,
            15 * S,
            27 * S - 1,
            27 * S
        );
        let faults = faults_for(&script, vec![2, 3]);
        assert_eq!(faults, ["partition [n1 n2] | [n3] from 12.0 s to 27.0 s"]);
    }

    #[test]
    fn fault_healed_before_the_witness_ops_began_is_not_named() {
        let script = format!(
            "{} n info start-kill [n1]
             {} n info heal-kill
             {} 0 i add 1
             {} 0 ok add 1",
            S,
            2 * S,
            3 * S,
            4 * S
        );
        assert!(faults_for(&script, vec![2, 3]).is_empty());
    }

    #[test]
    fn fault_never_stopped_lasts_to_the_end() {
        let script = format!(
            "{} 0 i add 1
             {} n info start-pause n2
             {} 0 ok add 1",
            S,
            2 * S,
            3 * S
        );
        assert_eq!(
            faults_for(&script, vec![0, 2]),
            ["pause n2 from 2.0 s to the end"]
        );
    }

    #[test]
    fn bare_stop_closes_every_fault_and_failed_starts_are_dropped() {
        let script = format!(
            "{} n info start-partition [[n1] [n2]]
             {} n invoke start-clock
             {} n fail start-clock
             {} n info stop
             {} 0 i add 1
             {} 0 ok add 1",
            S,
            S,
            S,
            2 * S,
            3 * S,
            4 * S
        );
        assert!(faults_for(&script, vec![4, 5]).is_empty());
        assert_eq!(faults_for(&script, vec![]), Vec::<String>::new());
        let windows = fault_windows(&history(&script).nemesis);
        assert_eq!(windows.len(), 1);
        assert_eq!(windows[0].end, Some(2 * S));
    }

    #[test]
    fn splitbrains_own_fault_values_are_described_by_their_nodes() {
        let value = Value::Map(Box::new([
            (
                Value::from("nodes"),
                Value::list([Value::from("n1"), Value::from("n3")]),
            ),
            (Value::from("applied"), Value::from("SIGSTOP")),
        ]));
        let window = Window {
            name: "pause".into(),
            value,
            start: 4 * S,
            end: Some(6 * S),
        };
        assert_eq!(window.describe(), "pause [n1 n3] from 4.0 s to 6.0 s");
        let value = Value::Map(Box::new([
            (
                Value::from("nodes"),
                Value::list([Value::from("n1"), Value::from("n2")]),
            ),
            (Value::from("partition"), Value::from("halves")),
        ]));
        let window = Window {
            name: "partition".into(),
            value,
            start: 4 * S,
            end: None,
        };
        assert_eq!(
            window.describe(),
            "partition halves [n1 n2] from 4.0 s to the end"
        );
    }

    #[test]
    fn a_later_repeated_stop_does_not_extend_a_fault_already_stopped() {
        let script = format!(
            "{} n info start-partition [[n1] [n2]]
             {} n invoke stop-partition
             {} n info stop-partition
             {} n info start-kill n1
             {} n info stop-kill
             {} n info stop-partition",
            S,
            2 * S,
            3 * S,
            4 * S,
            5 * S,
            9 * S
        );
        let windows = fault_windows(&history(&script).nemesis);
        let ends: Vec<_> = windows.iter().map(|w| (w.name.as_str(), w.end)).collect();
        assert_eq!(ends, [("partition", Some(3 * S)), ("kill", Some(5 * S))]);
    }
}

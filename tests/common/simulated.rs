//! Histories of simulated ops, for the property tests that model a database in memory: each
//! op's events put in time order (ties: earlier op first, an invocation before its
//! completion) and numbered.

use splitbrain::history::{Event, EventKind, History, Process, Value};

/// One simulated op: who ran it, what, when it was invoked with which value, and how it
/// completed (`None`: it never did).
pub struct SimOp {
    pub process: u64,
    pub f: &'static str,
    pub invoke: u64,
    pub value: Value,
    pub complete: Option<(u64, EventKind, Value)>,
}

/// The history of `ops`.
pub fn history(ops: Vec<SimOp>) -> History {
    let mut events: Vec<(u64, usize, EventKind, Value)> = Vec::new();
    let mut whose = Vec::with_capacity(ops.len());
    for (i, op) in ops.into_iter().enumerate() {
        events.push((op.invoke, i, EventKind::Invoke, op.value));
        if let Some((time, kind, value)) = op.complete {
            events.push((time, i, kind, value));
        }
        whose.push((op.process, op.f));
    }
    events.sort_by_key(|(time, i, kind, _)| (*time, *i, *kind != EventKind::Invoke));
    let events = events
        .into_iter()
        .enumerate()
        .map(|(index, (time, i, kind, value))| Event {
            index: index as u64,
            time,
            process: Process::Client(whose[i].0),
            kind,
            f: whose[i].1.into(),
            value,
            node: None,
            error: None,
        });
    History::from_events(None, events).expect("a simulated history pairs")
}

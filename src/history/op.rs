//! Pairs a stream of events into operations: each invocation with its completion. This is
//! where a malformed history (a completion without an invocation, a process with two
//! operations in flight, indexes out of order) is told apart from an inconsistent one.

use std::collections::HashMap;

use super::{Event, EventKind, Header, HistoryError, Name, Process, Value};

/// How an operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    Ok,
    Fail,
    /// Unknown: completed `info`, or never completed at all (`complete` is `None`).
    Info,
}

/// A client operation: an invocation and, if it came, its completion.
#[derive(Clone, Debug, PartialEq)]
pub struct Op {
    pub process: u64,
    pub f: Name,
    /// The completion's value when it carries one (a read's result), else the invocation's.
    pub value: Value,
    pub outcome: Outcome,
    /// History index of the invocation.
    pub invoke: u64,
    /// History index of the completion; `None` if the operation never completed.
    pub complete: Option<u64>,
    pub invoke_time: u64,
    pub complete_time: Option<u64>,
    /// Where it went and why it failed, when known; boxed because most ops have neither, and
    /// a 10-million-op history is 240 MB smaller for it.
    pub extra: Option<Box<OpExtra>>,
}

/// The rarely present parts of an [`Op`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpExtra {
    pub node: Option<Name>,
    /// Why it ended `fail` or `info` (status code, timeout, reset).
    pub error: Option<Box<str>>,
}

impl Op {
    /// Whether the op may have taken effect (ok or info).
    pub fn may_have_happened(&self) -> bool {
        self.outcome != Outcome::Fail
    }

    /// The completion time, or `u64::MAX` for an op that never completed: it may take effect
    /// at any time after its invocation.
    pub fn end_time(&self) -> u64 {
        self.complete_time.unwrap_or(u64::MAX)
    }

    /// The node the op was sent to, if the client said.
    pub fn node(&self) -> Option<&Name> {
        self.extra.as_ref().and_then(|x| x.node.as_ref())
    }

    /// Why the op ended `fail` or `info`, if the client said.
    pub fn error(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|x| x.error.as_deref())
    }
}

/// A history as checkers see it: client operations in invocation order, and the nemesis'
/// own events in history order.
#[derive(Clone, Debug, Default)]
pub struct History {
    pub header: Option<Header>,
    pub ops: Vec<Op>,
    pub nemesis: Vec<Event>,
    /// How many events the history had (invocations + completions + nemesis).
    pub event_count: u64,
}

impl History {
    /// Builds a history from events in history order. Fails on a malformed history: an index
    /// out of order, a completion with no invocation in flight, or a second invocation by a
    /// process that has one in flight.
    pub fn from_events(
        header: Option<Header>,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<History, HistoryError> {
        let mut pairer = Pairer::default();
        for event in events {
            pairer.push(event)?;
        }
        Ok(pairer.finish(header))
    }

    /// The op whose invocation or completion has this history index, if any.
    pub fn op_at(&self, index: u64) -> Option<&Op> {
        // Ops are sorted by invocation index; the op completing at `index` was invoked before
        // it, and at most `concurrency` ops are in flight, so scan back from the bound.
        let bound = self.ops.partition_point(|op| op.invoke <= index);
        self.ops[..bound]
            .iter()
            .rev()
            .find(|op| op.invoke == index || op.complete == Some(index))
    }
}

/// Incremental pairing, so readers can build a history while streaming a file.
#[derive(Debug, Default)]
pub struct Pairer {
    ops: Vec<Op>,
    nemesis: Vec<Event>,
    in_flight: HashMap<u64, usize>,
    next_index: u64,
    count: u64,
}

impl Pairer {
    /// Adds the next event. Indexes must increase (gaps are allowed: Jepsen histories filtered
    /// to one key have them).
    pub fn push(&mut self, event: Event) -> Result<(), HistoryError> {
        if event.index < self.next_index {
            return Err(HistoryError::Malformed {
                index: event.index,
                reason: format!(
                    "index {} is not after the previous event's index {}",
                    event.index,
                    self.next_index - 1
                ),
            });
        }
        self.next_index = event.index + 1;
        self.count += 1;
        let process = match event.process {
            Process::Nemesis => {
                self.nemesis.push(event);
                return Ok(());
            }
            Process::Client(p) => p,
        };
        match event.kind {
            EventKind::Invoke => self.invoke(process, event),
            kind => self.complete(process, kind, event),
        }
    }

    fn invoke(&mut self, process: u64, event: Event) -> Result<(), HistoryError> {
        if let Some(&pos) = self.in_flight.get(&process) {
            return Err(HistoryError::Malformed {
                index: event.index,
                reason: format!(
                    "process {process} invokes again while its operation invoked at index {} \
                     has not completed",
                    self.ops[pos].invoke
                ),
            });
        }
        self.in_flight.insert(process, self.ops.len());
        self.ops.push(Op {
            process,
            f: event.f,
            value: event.value,
            outcome: Outcome::Info,
            invoke: event.index,
            complete: None,
            invoke_time: event.time,
            complete_time: None,
            extra: event.node.map(|node| {
                Box::new(OpExtra {
                    node: Some(node),
                    error: None,
                })
            }),
        });
        Ok(())
    }

    fn complete(
        &mut self,
        process: u64,
        kind: EventKind,
        event: Event,
    ) -> Result<(), HistoryError> {
        let Some(pos) = self.in_flight.remove(&process) else {
            return Err(HistoryError::Malformed {
                index: event.index,
                reason: format!(
                    "process {process} completes an operation ({}) it never invoked",
                    kind.as_str()
                ),
            });
        };
        let op = &mut self.ops[pos];
        if op.f != event.f {
            return Err(HistoryError::Malformed {
                index: event.index,
                reason: format!(
                    "process {process} invoked {} at index {} but completes {}",
                    op.f, op.invoke, event.f
                ),
            });
        }
        op.outcome = match kind {
            EventKind::Ok => Outcome::Ok,
            EventKind::Fail => Outcome::Fail,
            _ => Outcome::Info,
        };
        if !event.value.is_nil() {
            op.value = event.value;
        }
        op.complete = Some(event.index);
        op.complete_time = Some(event.time);
        if event.node.is_some() || event.error.is_some() {
            let extra = op.extra.get_or_insert_with(Box::default);
            if event.node.is_some() {
                extra.node = event.node;
            }
            extra.error = event.error.map(String::into_boxed_str);
        }
        Ok(())
    }

    /// The history so far; operations still in flight stay uncompleted (unknown).
    pub fn finish(self, header: Option<Header>) -> History {
        History {
            header,
            ops: self.ops,
            nemesis: self.nemesis,
            event_count: self.count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(index: u64, process: u64, kind: EventKind, f: &str, value: Value) -> Event {
        Event {
            index,
            time: index * 10,
            process: Process::Client(process),
            kind,
            f: f.into(),
            value,
            node: None,
            error: None,
        }
    }

    #[test]
    fn pairs_invocations_with_completions_in_invocation_order() {
        let h = History::from_events(
            None,
            [
                ev(0, 0, EventKind::Invoke, "add", 1.into()),
                ev(1, 1, EventKind::Invoke, "read", Value::Nil),
                ev(2, 1, EventKind::Ok, "read", Value::list([1.into()])),
                ev(3, 0, EventKind::Info, "add", 1.into()),
            ],
        )
        .unwrap();
        assert_eq!(h.ops.len(), 2);
        assert_eq!((h.ops[0].invoke, h.ops[0].complete), (0, Some(3)));
        assert_eq!(h.ops[0].outcome, Outcome::Info);
        assert_eq!(h.ops[1].value, Value::list([1.into()]));
        assert_eq!(h.op_at(3).map(|op| op.invoke), Some(0));
    }

    #[test]
    fn an_op_stays_112_bytes_so_ten_million_fit_in_memory() {
        assert_eq!(std::mem::size_of::<Op>(), 112);
    }

    #[test]
    fn completion_error_and_node_are_kept_on_the_op() {
        let mut done = ev(1, 0, EventKind::Info, "add", 1.into());
        done.error = Some("timeout".into());
        done.node = Some("n1".into());
        let h = History::from_events(None, [ev(0, 0, EventKind::Invoke, "add", 1.into()), done])
            .unwrap();
        assert_eq!(h.ops[0].error(), Some("timeout"));
        assert_eq!(h.ops[0].node().map(|n| &**n), Some("n1"));
    }

    #[test]
    fn completion_without_invocation_is_malformed_not_inconsistent() {
        let err =
            History::from_events(None, [ev(0, 4, EventKind::Ok, "add", 1.into())]).unwrap_err();
        assert!(err.to_string().contains("index 0"), "{err}");
    }

    #[test]
    fn second_invocation_in_flight_is_malformed() {
        let err = History::from_events(
            None,
            [
                ev(0, 4, EventKind::Invoke, "add", 1.into()),
                ev(1, 4, EventKind::Invoke, "add", 2.into()),
            ],
        )
        .unwrap_err();
        assert!(err.to_string().contains("invokes again"), "{err}");
    }
}

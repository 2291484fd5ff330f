//! Jepsen-style operations (EDN op maps, elle-cli JSON op objects) into events. Jepsen's
//! histories are looser than ours: `:time`, `:index`, even `:process` and `:f` may be missing,
//! and the nemesis may be any non-integer process. This module fills the gaps the same way
//! for every foreign format and says in the [`ReadReport`] what it filled.

use super::intern::Interner;
use super::read::{HistoryFormat, ReadReport};
use super::{Event, EventKind, History, HistoryError, Name, Pairer, Process, Value};

/// One operation as a Jepsen file states it, before the gaps are filled.
#[derive(Debug)]
pub(crate) struct JepsenOp {
    /// `None` when the op has no `:process`.
    pub process: Option<Process>,
    pub kind: EventKind,
    pub f: Option<Name>,
    pub value: Value,
    pub time: Option<u64>,
    pub index: Option<u64>,
    pub node: Option<Name>,
    pub error: Option<String>,
}

/// The name given to an op without `:f` whose value is a transaction (Elle's paper example
/// has none): Elle's own name for a transaction.
const TXN: &str = "txn";

/// Turns Jepsen ops into events and pairs them as they come.
#[derive(Debug, Default)]
pub(crate) struct OpSink {
    pairer: Pairer,
    pub interner: Interner,
    position: u64,
    next_index: u64,
    last_time: Option<u64>,
    missing_time: u64,
    missing_index: u64,
    missing_process: u64,
    missing_f: u64,
}

impl OpSink {
    /// The name for an op with no `:f`, if one can be inferred: only transactions (a list of
    /// micro-op lists) can.
    pub fn default_f(&mut self, value: &Value) -> Option<Name> {
        let items = value.as_list()?;
        let is_txn = !items.is_empty() && items.iter().all(|m| m.as_list().is_some());
        is_txn.then(|| self.interner.intern(TXN))
    }

    /// Adds the next op in file order.
    pub fn push(&mut self, op: JepsenOp, f: Name) -> Result<(), HistoryError> {
        let index = op.index.unwrap_or_else(|| {
            self.missing_index += 1;
            self.next_index
        });
        // Keep file order as real-time order: the previous time + 1, i.e. the position
        // when no op has a time.
        let time = op.time.unwrap_or_else(|| {
            self.missing_time += 1;
            self.last_time.map_or(self.position, |t| t + 1)
        });
        let process = op.process.unwrap_or_else(|| {
            self.missing_process += 1;
            Process::Client(0)
        });
        if op.f.is_none() {
            self.missing_f += 1;
        }
        self.position += 1;
        self.next_index = index.saturating_add(1);
        self.last_time = Some(time);
        self.pairer.push(Event {
            index,
            time,
            process,
            kind: op.kind,
            f,
            value: op.value,
            node: op.node,
            error: op.error,
        })
    }

    /// The history, and what was filled in.
    pub fn finish(self, format: HistoryFormat) -> (History, ReadReport) {
        let mut report = ReadReport::new(format);
        let notes = [
            (
                self.missing_time,
                "no :time; each was given the previous event's time + 1 (its position when no event has one), so file order is real-time order",
            ),
            (
                self.missing_index,
                "no :index; each was given the previous event's index + 1",
            ),
            (
                self.missing_process,
                "no :process; each was given process 0",
            ),
            (
                self.missing_f,
                "no :f; each (a transaction) was named \"txn\"",
            ),
        ];
        for (count, note) in notes {
            if count > 0 {
                report
                    .warnings
                    .push(format!("{count} of {} events had {note}", self.position));
            }
        }
        (self.pairer.finish(None), report)
    }
}

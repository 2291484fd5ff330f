//! Decides whether a queue delivered what went in, and (when it promises FIFO) in order:
//! Jepsen's `total-queue` checker (jepsen.checker/total-queue), whose multiset arithmetic is
//! kept, plus a real-time FIFO check.
//!
//! Operations: `enqueue` (value = the element), `dequeue` (ok value = the element; `fail`
//! means nothing was dequeued, e.g. an empty queue) and `drain` (ok value = the list of
//! elements dequeued, in order). Per element, counting multiplicities:
//! - **lost**: more ok enqueues than ok dequeues;
//! - **duplicated**: more dequeues than enqueues that may have happened (ok or info);
//! - **unexpected**: dequeued, but no enqueue of it may have happened (none attempted, or
//!   all failed);
//! - *recovered*: an info enqueue whose element was dequeued (fine).
//!
//! As in Jepsen, info dequeues and drains are ignored: an element taken by a dequeue whose
//! client never learned of it counts as lost. History must end with the queue drained, or
//! the elements left in it are lost.
//!
//! With `fifo`, also **reordered**: the enqueue of `a` completed before the enqueue of `b`
//! was invoked (both ok), yet `b`'s dequeue completed before `a`'s dequeue was invoked (or
//! came before it in one drain). Found by a sweep over enqueues by invocation, keeping the
//! earliest-completing dequeue among elements enqueued after a point: O(n log n).

mod fifo;

use serde_json::json;

use super::CheckerResult;
use super::intern::{Interner, NONE};
use super::witness::{AnomalyLog, MAX_ANOMALIES_PER_KIND, anomaly, counts, model_error};
use crate::history::{History, HistoryError, Op, Outcome, Value};
use rustc_hash::FxHashMap;

const MODEL: &str = "queue";

/// Checks a queue history (see the module docs); `fifo` adds the ordering check.
pub fn check(history: &History, fifo: bool) -> Result<CheckerResult, HistoryError> {
    let tally = Tally::gather(history)?;
    let mut log = AnomalyLog::default();
    if tally.dequeued == 0 {
        // Without a single dequeue every ok enqueue would look lost: nothing can be told.
        let reason = "no ok dequeue or drain: nothing to check";
        return Ok(log.finish(Some(reason), tally.counts(), Default::default()));
    }
    // Count every anomalous element; keep the first ones of each kind to describe.
    let mut flagged: FxHashMap<u32, &'static str> = FxHashMap::default();
    for (id, e) in tally.elements.iter().enumerate() {
        for kind in e.anomalies() {
            log.count_only(kind);
            if log.total(kind) <= MAX_ANOMALIES_PER_KIND as u64 {
                flagged.insert(id as u32, kind);
            }
        }
    }
    let witnesses = tally.witness_ops(history, &flagged);
    let mut listed: Vec<(u32, &'static str)> = flagged.into_iter().collect();
    listed.sort_unstable_by_key(|&(id, kind)| (kind, id));
    for (id, kind) in listed {
        log.list(kind, tally.describe(history, id, kind, &witnesses[&id]));
    }
    if fifo {
        fifo::reordered(history, &tally, &mut log);
    }
    Ok(log.finish(None, tally.counts(), Default::default()))
}

/// Per-element multiplicities and the ops FIFO needs.
#[derive(Clone, Copy, Debug)]
struct Element {
    /// Enqueues that may have happened (ok or info).
    attempts: u32,
    /// Enqueues of any outcome, including failed ones.
    invoked: u32,
    /// Ok enqueues.
    acked: u32,
    /// Ok dequeues, counting each element of an ok drain.
    dequeued: u32,
    /// Position in `ops` of the last ok enqueue, or NONE.
    enqueue: u32,
    /// Position in `ops` of the last ok dequeue or drain that returned it, or NONE.
    dequeue: u32,
    /// Its position within that drain (0 for a dequeue).
    slot: u32,
}

impl Element {
    const NEW: Element = Element {
        attempts: 0,
        invoked: 0,
        acked: 0,
        dequeued: 0,
        enqueue: NONE,
        dequeue: NONE,
        slot: 0,
    };

    /// The anomaly kinds this element shows (Jepsen's multiset differences).
    fn anomalies(&self) -> impl Iterator<Item = &'static str> {
        let unexpected = self.dequeued > 0 && self.attempts == 0;
        let duplicated = self.attempts > 0 && self.dequeued > self.attempts;
        let lost = self.acked > self.dequeued;
        [
            (unexpected, "unexpected"),
            (duplicated, "duplicated"),
            (lost, "lost"),
        ]
        .into_iter()
        .filter_map(|(yes, kind)| yes.then_some(kind))
    }

    /// Whether it went in and came out exactly once, both ok: FIFO compares only these.
    fn clean(&self) -> bool {
        self.acked == 1 && self.attempts == 1 && self.dequeued == 1
    }
}

/// What a pass over the history learns.
struct Tally<'h> {
    interner: Interner<'h>,
    elements: Vec<Element>,
    dequeued: u64,
    info_dequeues: u64,
}

impl<'h> Tally<'h> {
    fn gather(history: &'h History) -> Result<Tally<'h>, HistoryError> {
        let enqueues = history.ops.iter().filter(|op| &*op.f == "enqueue");
        let mut tally = Tally {
            interner: Interner::seeded(enqueues.map(|op| &op.value)),
            elements: Vec::new(),
            dequeued: 0,
            info_dequeues: 0,
        };
        for (pos, op) in history.ops.iter().enumerate() {
            match (&*op.f, op.outcome) {
                ("enqueue", _) => tally.enqueue(pos as u32, op)?,
                ("dequeue" | "drain", Outcome::Info) => tally.info_dequeues += 1,
                ("dequeue", Outcome::Ok) => tally.dequeue(pos as u32, 0, &op.value, op)?,
                ("drain", Outcome::Ok) => tally.drain(pos as u32, op)?,
                _ => {}
            }
        }
        Ok(tally)
    }

    fn element(&mut self, value: &'h Value) -> (u32, &mut Element) {
        let id = self.interner.intern(value);
        if id as usize == self.elements.len() {
            self.elements.push(Element::NEW);
        }
        (id, &mut self.elements[id as usize])
    }

    fn enqueue(&mut self, pos: u32, op: &'h Op) -> Result<(), HistoryError> {
        if op.value.is_nil() {
            return Err(model_error(
                MODEL,
                op.invoke,
                "an enqueue must carry the element",
            ));
        }
        let (_, e) = self.element(&op.value);
        e.invoked += 1;
        e.attempts += u32::from(op.outcome != Outcome::Fail);
        if op.outcome == Outcome::Ok {
            e.acked += 1;
            e.enqueue = pos;
        }
        Ok(())
    }

    fn dequeue(
        &mut self,
        pos: u32,
        slot: u32,
        value: &'h Value,
        op: &Op,
    ) -> Result<(), HistoryError> {
        if value.is_nil() {
            let index = op.complete.expect("ok op completed");
            let reason = "an ok dequeue must carry the element (an empty queue completes fail)";
            return Err(model_error(MODEL, index, reason));
        }
        self.dequeued += 1;
        let (_, e) = self.element(value);
        e.dequeued += 1;
        (e.dequeue, e.slot) = (pos, slot);
        Ok(())
    }

    fn drain(&mut self, pos: u32, op: &'h Op) -> Result<(), HistoryError> {
        let Some(items) = op.value.as_list() else {
            let index = op.complete.expect("ok op completed");
            let reason = format!("an ok drain's value must be a list, found {}", op.value);
            return Err(model_error(MODEL, index, reason));
        };
        for (slot, item) in items.iter().enumerate() {
            self.dequeue(pos, slot as u32, item, op)?;
        }
        Ok(())
    }

    /// For each flagged element, the positions of every op that enqueued or dequeued it.
    fn witness_ops(
        &self,
        history: &History,
        flagged: &FxHashMap<u32, &str>,
    ) -> FxHashMap<u32, Vec<u32>> {
        let mut found: FxHashMap<u32, Vec<u32>> =
            flagged.keys().map(|&id| (id, Vec::new())).collect();
        if found.is_empty() {
            return found;
        }
        for (pos, op) in history.ops.iter().enumerate() {
            let values: &[Value] = match (&*op.f, op.outcome) {
                ("enqueue", _) | ("dequeue", Outcome::Ok) => std::slice::from_ref(&op.value),
                ("drain", Outcome::Ok) => op.value.as_list().unwrap_or_default(),
                _ => &[],
            };
            for value in values {
                if let Some(ops) = self.interner.get(value).and_then(|id| found.get_mut(&id)) {
                    if ops.last() != Some(&(pos as u32)) {
                        ops.push(pos as u32);
                    }
                }
            }
        }
        found
    }

    fn describe(&self, history: &History, id: u32, kind: &str, ops: &[u32]) -> super::Anomaly {
        let e = &self.elements[id as usize];
        let value = self.interner.value(id);
        let explanation = match kind {
            "lost" => format!(
                "element {value} was enqueued ok {} time(s) but dequeued only {} time(s)",
                e.acked, e.dequeued
            ),
            "duplicated" => format!(
                "element {value} was dequeued {} times but at most {} enqueue(s) of it may have \
                 happened",
                e.dequeued, e.attempts
            ),
            _ if e.invoked > 0 => format!(
                "element {value} was dequeued but every enqueue of it failed, so none happened"
            ),
            _ => format!("element {value} was dequeued but never enqueued"),
        };
        let details = json!({
            "element": value, "enqueued-ok": e.acked, "enqueue-attempts": e.attempts,
            "dequeued": e.dequeued,
        });
        let witness = ops.iter().map(|&pos| &history.ops[pos as usize]);
        anomaly(kind, witness, explanation, details)
    }

    fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        let sum = |f: fn(&Element) -> u64| self.elements.iter().map(f).sum::<u64>();
        counts([
            ("attempted", sum(|e| u64::from(e.invoked))),
            ("acknowledged", sum(|e| u64::from(e.acked))),
            ("dequeued", self.dequeued),
            ("info-dequeues", self.info_dequeues),
            (
                "lost",
                sum(|e| u64::from(e.acked.saturating_sub(e.dequeued))),
            ),
            (
                "duplicated",
                sum(|e| {
                    u64::from(e.attempts > 0) * u64::from(e.dequeued.saturating_sub(e.attempts))
                }),
            ),
            (
                "unexpected",
                sum(|e| u64::from(e.attempts == 0) * u64::from(e.dequeued)),
            ),
            (
                "recovered",
                sum(|e| u64::from(e.dequeued.min(e.attempts).saturating_sub(e.acked))),
            ),
        ])
    }
}

#[cfg(test)]
mod tests;

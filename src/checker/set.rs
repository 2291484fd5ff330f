//! Decides whether a grow-only set kept every element it acknowledged: Jepsen's `set-full`
//! checker (jepsen.checker/set-full), plus duplicate and unexpected elements.
//!
//! Operations: `add` (value = the element) and `read` (ok value = a list of elements; failed
//! or info reads carry no information). For each element:
//! - its *known* op is whichever completed first (lowest history index) of its first ok add
//!   and the first read that observed it;
//! - reads *after known* are the ok reads invoked after the known op completed; a read that
//!   began earlier may have linearized before the add, so its absence means nothing;
//! - **lost**: the last read (in invocation order) does not contain it, and some read after
//!   known did not either (every read from the last present one on misses it);
//! - **stale**: the last read contains it, but some read after known did not;
//! - *stable*: the last read contains it and no read after known missed it;
//! - *never-read*: no read began after it was known (not an anomaly);
//! - *indeterminate*: only info (or never-completed) adds and never observed: it may or may
//!   not have been added, so its absence is fine;
//! - **duplicated**: it appears more than once in one read;
//! - **unexpected**: a read contains it but no add of it may have happened (none attempted,
//!   or every attempt failed: a `fail` definitely did not happen).
//!
//! Stale elements make the set invalid only when it is declared linearizable (Jepsen's rule);
//! otherwise they are counted, and the first few are shown in `stats.stale-elements`, since an
//! eventually consistent set (a read model, a cache) is allowed to lag.
//! Cost: one pass over the adds and one over the read contents (O(total read size)), with
//! O(1) state per element: reads are ranked by invocation, and each element keeps the rank of
//! the last read containing it and where the trailing run of consecutive reads containing it
//! began, which is all that the last-absent read can be derived from.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use serde_json::json;

use super::CheckerResult;
use super::intern::{Interner, NONE};
use super::witness::{
    AnomalyLog, anomaly, counts, ended, model_error, nanos_to_ms, quantiles, secs,
};
use crate::history::{History, HistoryError, Op, Outcome};

const MODEL: &str = "set";

/// How many tolerated stale elements a non-linearizable set shows in its stats.
const STALE_SHOWN: usize = 20;

/// Checks a set history (Jepsen's set-full semantics; see the module docs).
pub fn check(history: &History, linearizable: bool) -> Result<CheckerResult, HistoryError> {
    let reads = ok_reads(history)?;
    let (mut interner, mut elements) = scan_adds(history)?;
    let dups = scan_reads(&reads, &mut interner, &mut elements);
    interner.forget_lookups();
    let judge = Judge {
        ops: &history.ops,
        reads: &reads,
        interner: &interner,
    };
    let mut tally = Tally {
        linearizable,
        ..Tally::default()
    };
    for (id, element) in elements.iter().enumerate() {
        judge.element(id as u32, element, &mut tally);
    }
    for &(id, rank) in &dups {
        judge.duplicated(id, rank, &mut tally);
    }
    Ok(tally.finish(reads.len() as u64))
}

/// What the history says about one element; ranks are positions among ok reads.
#[derive(Clone, Copy, Debug)]
struct Element {
    /// Position in `ops` of the first add that may have happened (ok or info), or NONE.
    may_add: u32,
    /// Position in `ops` of the ok add that completed first, or NONE.
    ok_add: u32,
    /// Rank of the read that observed it and completed first, or NONE.
    seen: u32,
    /// 1 + rank of the last read containing it; 0 if none does.
    last_present: u32,
    /// 1 + rank of the first read of the run of consecutive reads ending at `last_present`.
    run_start: u32,
    /// Whether any add of it was invoked, even one that failed.
    attempted: bool,
}

impl Element {
    const UNSEEN: Element = Element {
        may_add: NONE,
        ok_add: NONE,
        seen: NONE,
        last_present: 0,
        run_start: 0,
        attempted: false,
    };
}

/// The ok reads in invocation order, each checked to carry a list.
fn ok_reads(history: &History) -> Result<Vec<&Op>, HistoryError> {
    let mut reads = Vec::new();
    for op in history.ops.iter().filter(|op| &*op.f == "read") {
        if op.outcome != Outcome::Ok {
            continue;
        }
        if op.value.as_list().is_none() {
            let index = op.complete.expect("an ok op has completed");
            let reason = format!("an ok read's value must be a list, found {}", op.value);
            return Err(model_error(MODEL, index, reason));
        }
        reads.push(op);
    }
    Ok(reads)
}

/// Interns every added element and records its first possible add and first ok add.
fn scan_adds(history: &History) -> Result<(Interner<'_>, Vec<Element>), HistoryError> {
    let adds = || {
        history
            .ops
            .iter()
            .enumerate()
            .filter(|(_, op)| &*op.f == "add")
    };
    let mut interner = Interner::seeded(adds().map(|(_, op)| &op.value));
    let mut elements = Vec::new();
    for (pos, op) in adds() {
        if op.value.is_nil() {
            return Err(model_error(
                MODEL,
                op.invoke,
                "an add must carry the element",
            ));
        }
        let id = interner.intern(&op.value) as usize;
        if id == elements.len() {
            elements.push(Element::UNSEEN);
        }
        let element = &mut elements[id];
        element.attempted = true;
        if op.outcome != Outcome::Fail && element.may_add == NONE {
            element.may_add = pos as u32;
        }
        let earlier = |other: u32| history.ops[other as usize].complete > op.complete;
        if op.outcome == Outcome::Ok && (element.ok_add == NONE || earlier(element.ok_add)) {
            element.ok_add = pos as u32;
        }
    }
    Ok((interner, elements))
}

/// Walks every read's contents once; returns `(element, read rank)` of the first read in
/// which each duplicated element appears more than once.
fn scan_reads<'h>(
    reads: &[&'h Op],
    interner: &mut Interner<'h>,
    elements: &mut Vec<Element>,
) -> Vec<(u32, u32)> {
    let completes: Vec<Option<u64>> = reads.iter().map(|r| r.complete).collect();
    let mut dups = Vec::new();
    let mut duplicated = FxHashSet::default();
    for (rank, read) in reads.iter().enumerate() {
        let r = rank as u32 + 1;
        for value in read.value.as_list().expect("ok_reads checked the shape") {
            let id = interner.intern(value);
            if id as usize == elements.len() {
                elements.push(Element::UNSEEN);
            }
            let element = &mut elements[id as usize];
            if element.last_present == r {
                if duplicated.insert(id) {
                    dups.push((id, rank as u32));
                }
                continue;
            }
            if element.last_present == 0 || element.last_present + 1 != r {
                element.run_start = r;
            }
            element.last_present = r;
            if element.seen == NONE || completes[element.seen as usize] > read.complete {
                element.seen = rank as u32;
            }
        }
    }
    dups
}

/// Counts, latencies and anomalies gathered while judging elements.
#[derive(Default)]
struct Tally {
    counts: BTreeMap<&'static str, u64>,
    stable_latencies: Vec<u32>,
    lost_latencies: Vec<u32>,
    log: AnomalyLog,
    /// Whether stale elements are anomalies; if not they go to `tolerated`.
    linearizable: bool,
    tolerated: AnomalyLog,
}

impl Tally {
    fn bump(&mut self, name: &'static str) {
        *self.counts.entry(name).or_default() += 1;
    }

    fn finish(mut self, reads: u64) -> CheckerResult {
        let mut stats = BTreeMap::new();
        if let Some(q) = quantiles(&mut self.stable_latencies) {
            stats.insert("stable-latencies-ms".into(), q);
        }
        if let Some(q) = quantiles(&mut self.lost_latencies) {
            stats.insert("lost-latencies-ms".into(), q);
        }
        let get = |name| self.counts.get(name).copied().unwrap_or(0);
        let mut counts = counts([
            ("attempted", get("attempted")),
            ("acknowledged", get("acknowledged")),
            ("stable", get("stable")),
            ("lost", self.log.total("lost")),
            (
                "stale",
                self.log.total("stale") + self.tolerated.total("stale"),
            ),
            ("duplicated", self.log.total("duplicated")),
            ("unexpected", self.log.total("unexpected")),
            ("never-read", get("never-read")),
            ("indeterminate", get("indeterminate")),
            ("recovered", get("recovered")),
        ]);
        counts.insert("reads".into(), reads);
        let stale = self.tolerated.listed("stale");
        if !stale.is_empty() {
            let shown = &stale[..stale.len().min(STALE_SHOWN)];
            stats.insert("stale-elements".into(), json!(shown));
        }
        let nothing = (get("stable") == 0).then_some("no ok read after any add: nothing to check");
        self.log.finish(nothing, counts, stats)
    }
}

/// Where one element ended up.
enum Fate {
    /// Present in the last read; `Some(rank)` of the last read after known that missed it.
    Stable(Option<u32>),
    /// Absent from every read from this rank (the first after known and after the last
    /// present read) to the last.
    Lost(u32),
    NeverRead,
}

/// Judges elements against the ranked reads.
struct Judge<'a, 'h> {
    ops: &'h [Op],
    reads: &'a [&'h Op],
    interner: &'a Interner<'h>,
}

impl<'h> Judge<'_, 'h> {
    fn element(&self, id: u32, e: &Element, tally: &mut Tally) {
        if e.attempted {
            tally.bump("attempted");
        }
        if e.ok_add != NONE {
            tally.bump("acknowledged");
        }
        if e.may_add == NONE {
            if e.seen != NONE {
                self.unexpected(id, e, tally);
            }
            return;
        }
        let Some(known) = self.known(e) else {
            return tally.bump("indeterminate");
        };
        if e.ok_add == NONE {
            tally.bump("recovered");
        }
        match self.fate(e, known) {
            Fate::NeverRead => tally.bump("never-read"),
            Fate::Stable(None) => {
                tally.bump("stable");
                tally.stable_latencies.push(0);
            }
            Fate::Stable(Some(absent)) => self.stale(id, e, known, absent, tally),
            Fate::Lost(first_absent) => self.lost(id, e, known, first_absent, tally),
        }
    }

    /// The op that made the element known: its first ok add or the first read that observed
    /// it, whichever completed first; `None` if neither exists.
    fn known(&self, e: &Element) -> Option<&'h Op> {
        let add = (e.ok_add != NONE).then(|| &self.ops[e.ok_add as usize]);
        let read = (e.seen != NONE).then(|| self.reads[e.seen as usize]);
        match (add, read) {
            (Some(add), Some(read)) if read.complete < add.complete => Some(read),
            (Some(add), _) => Some(add),
            (None, read) => read,
        }
    }

    fn fate(&self, e: &Element, known: &Op) -> Fate {
        let n = self.reads.len() as u32;
        let known_index = known.complete.expect("a known op has completed");
        let first_after = self.reads.partition_point(|r| r.invoke <= known_index) as u32;
        let in_last = n > 0 && e.last_present == n;
        // The last read missing the element precedes the trailing run of reads containing
        // it, or is the very last read when that one misses it.
        let last_absent = match in_last {
            true => e.run_start.checked_sub(2),
            false => n.checked_sub(1),
        };
        match (in_last, last_absent.filter(|&rank| rank >= first_after)) {
            (true, absent) => Fate::Stable(absent),
            (false, Some(_)) => Fate::Lost(e.last_present.max(first_after)),
            (false, None) => Fate::NeverRead,
        }
    }

    fn stale(&self, id: u32, e: &Element, known: &Op, absent: u32, tally: &mut Tally) {
        tally.bump("stable");
        let absent = self.reads[absent as usize];
        let present = self.reads[e.run_start as usize - 1];
        let latency = (absent.invoke_time + 1).saturating_sub(known_complete_time(known));
        tally.stable_latencies.push(nanos_to_ms(latency));
        let log = match tally.linearizable {
            true => &mut tally.log,
            false => &mut tally.tolerated,
        };
        log.record("stale", || {
            let element = self.interner.value(id);
            let explanation = format!(
                "element {element} was known from index {} ({}) but the read invoked at index \
                 {} ({}) did not contain it; the later read invoked at index {} did",
                known.complete.expect("known op completed"),
                secs(known_complete_time(known)),
                absent.invoke,
                secs(absent.invoke_time),
                present.invoke,
            );
            let details = json!({
                "element": element, "known": known.complete, "absent-read": absent.invoke,
                "present-read": present.invoke, "stable-latency-ms": nanos_to_ms(latency),
            });
            anomaly("stale", [known, absent, present], explanation, details)
        });
    }

    fn lost(&self, id: u32, e: &Element, known: &Op, first_absent: u32, tally: &mut Tally) {
        let last_present = e
            .last_present
            .checked_sub(1)
            .map(|r| self.reads[r as usize]);
        let latency = last_present.map_or(0, |r| {
            (r.invoke_time + 1).saturating_sub(known_complete_time(known))
        });
        tally.lost_latencies.push(nanos_to_ms(latency));
        tally.log.record("lost", || {
            let absent = &self.reads[first_absent as usize..];
            // The first few absent reads and the last one witness it; the count says the rest.
            let shown = absent.iter().take(3).chain(absent.last());
            let seen = last_present.map_or(String::new(), |r| {
                format!(
                    "; it was last seen by the read invoked at index {}",
                    r.invoke
                )
            });
            let explanation = format!(
                "element {} was {} but the last {} read(s), from index {} on, do not \
                 contain it{seen}",
                self.interner.value(id),
                self.how_known(known),
                absent.len(),
                absent[0].invoke,
            );
            let details = json!({
                "element": self.interner.value(id), "known": known.complete,
                "absent-reads": absent.len(), "first-absent-read": absent[0].invoke,
                "last-present-read": last_present.map(|r| r.invoke),
                "lost-latency-ms": nanos_to_ms(latency),
            });
            let witnesses = std::iter::once(known)
                .chain(last_present)
                .chain(shown.copied());
            // It vanished after it was last known present and before the first read of the
            // final run of reads without it: the faults that matter are those in between.
            let last_known = match last_present {
                Some(read) if read.invoke > known.invoke => read,
                _ => known,
            };
            let mut lost = anomaly("lost", witnesses, explanation, details);
            lost.window = Some([last_known.invoke, absent[0].invoke]);
            lost
        });
    }

    fn how_known(&self, known: &Op) -> String {
        match &*known.f {
            "add" => format!("added ({})", ended(known)),
            _ => format!("observed by a read ({})", ended(known)),
        }
    }

    fn unexpected(&self, id: u32, e: &Element, tally: &mut Tally) {
        let read = self.reads[e.seen as usize];
        tally.log.record("unexpected", || {
            let why = match e.attempted {
                true => "every add of it failed, so none happened",
                false => "no add of it was ever attempted",
            };
            let explanation = format!(
                "element {} was read (read {}) but {why}",
                self.interner.value(id),
                ended(read)
            );
            let details = json!({"element": self.interner.value(id), "read": read.invoke});
            anomaly("unexpected", [read], explanation, details)
        });
    }

    fn duplicated(&self, id: u32, rank: u32, tally: &mut Tally) {
        let read = self.reads[rank as usize];
        tally.log.record("duplicated", || {
            let element = self.interner.value(id);
            let explanation = format!(
                "element {element} appears more than once in one read ({})",
                ended(read)
            );
            let details = json!({"element": element, "read": read.invoke});
            anomaly("duplicated", [read], explanation, details)
        });
    }
}

fn known_complete_time(known: &Op) -> u64 {
    known.complete_time.expect("a known op has completed")
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;

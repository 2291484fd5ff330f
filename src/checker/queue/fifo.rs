//! The FIFO half of the queue checker: finds elements overtaken in real time. Element `a` is
//! *reordered* when some `b` was enqueued after `a`'s enqueue completed (both ok) yet was
//! dequeued by an op that completed before `a`'s dequeue was invoked, or came before `a` in
//! the same drain. Only elements enqueued once and dequeued once are compared; the others are
//! already lost, duplicated or unexpected.

use serde_json::json;

use super::Tally;
use crate::checker::witness::{AnomalyLog, anomaly};
use crate::history::{History, Op, Outcome};

/// At most this many reordered elements are listed; the count covers all.
const MAX_LISTED: usize = 100;

/// Records a `reordered` anomaly for each overtaken element, listing the first ones by
/// enqueue.
pub(super) fn reordered(history: &History, tally: &Tally, log: &mut AnomalyLog) {
    let ops = &history.ops;
    let mut found = across_ops(ops, tally);
    found.extend(within_drains(ops, tally));
    let enqueue = |id: u32| tally.elements[id as usize].enqueue;
    found.sort_unstable_by_key(|&(a, _)| enqueue(a));
    found.dedup_by_key(|&mut (a, _)| a);
    for (n, &(a, b)) in found.iter().enumerate() {
        log.count_only("reordered");
        if n < MAX_LISTED {
            log.list("reordered", describe(ops, tally, a, b));
        }
    }
}

/// `(a, b)` pairs where `b`'s dequeue completed before `a`'s dequeue began. Sweeps elements
/// by enqueue completion, latest first, keeping the earliest-completing dequeue among the
/// elements whose enqueue was invoked after that completion.
fn across_ops(ops: &[Op], tally: &Tally) -> Vec<(u32, u32)> {
    let element = |id: u32| &tally.elements[id as usize];
    let enq = |id: u32| &ops[element(id).enqueue as usize];
    let deq = |id: u32| &ops[element(id).dequeue as usize];
    // Ops are in invocation order, so enqueue positions order enqueues by invocation.
    let mut by_invoke: Vec<u32> = (0..tally.elements.len() as u32)
        .filter(|&id| element(id).clean())
        .collect();
    by_invoke.sort_unstable_by_key(|&id| element(id).enqueue);
    let mut by_complete = by_invoke.clone();
    by_complete.sort_unstable_by_key(|&id| std::cmp::Reverse(enq(id).complete));
    let mut next = by_invoke.len();
    let mut earliest: Option<(u64, u32)> = None;
    let mut found = Vec::new();
    for a in by_complete {
        let threshold = enq(a).complete.expect("ok enqueue completed");
        while next > 0 && enq(by_invoke[next - 1]).invoke > threshold {
            next -= 1;
            let b = by_invoke[next];
            let end = deq(b).complete.expect("ok dequeue completed");
            if earliest.is_none_or(|(e, _)| end < e) {
                earliest = Some((end, b));
            }
        }
        if let Some((_, b)) = earliest.filter(|&(end, _)| end < deq(a).invoke) {
            found.push((a, b));
        }
    }
    found
}

/// `(a, b)` pairs where `b` came before `a` in one drain though `a`'s enqueue completed
/// before `b`'s was invoked.
fn within_drains(ops: &[Op], tally: &Tally) -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    for (pos, op) in ops.iter().enumerate() {
        if &*op.f != "drain" || op.outcome != Outcome::Ok {
            continue;
        }
        let mut latest: Option<(u64, u32)> = None;
        for item in op.value.as_list().unwrap_or_default() {
            let Some(id) = tally.interner.get(item) else {
                continue;
            };
            let e = &tally.elements[id as usize];
            if !e.clean() || e.dequeue != pos as u32 {
                continue;
            }
            let enqueue = &ops[e.enqueue as usize];
            let completed = enqueue.complete.expect("ok enqueue completed");
            if let Some((_, b)) = latest.filter(|&(invoked, _)| invoked > completed) {
                found.push((id, b));
            }
            if latest.is_none_or(|(invoked, _)| enqueue.invoke > invoked) {
                latest = Some((enqueue.invoke, id));
            }
        }
    }
    found
}

fn describe(ops: &[Op], tally: &Tally, a: u32, b: u32) -> crate::checker::Anomaly {
    let (ea, eb) = (&tally.elements[a as usize], &tally.elements[b as usize]);
    let [enq_a, enq_b, deq_a, deq_b] =
        [ea.enqueue, eb.enqueue, ea.dequeue, eb.dequeue].map(|pos| &ops[pos as usize]);
    let (va, vb) = (tally.interner.value(a), tally.interner.value(b));
    let complete = |op: &Op| op.complete.expect("ok op completed");
    let order = match ea.dequeue == eb.dequeue {
        true => format!(
            "came before it in the drain completed at index {}",
            complete(deq_a)
        ),
        false => format!(
            "was dequeued (completed at index {}) before the dequeue of {va} began (index {})",
            complete(deq_b),
            deq_a.invoke
        ),
    };
    let explanation = format!(
        "element {va} was enqueued (ok at index {}) before the enqueue of {vb} began (index \
         {}), yet {vb} {order}",
        complete(enq_a),
        enq_b.invoke,
    );
    let details = json!({
        "element": va, "overtaken-by": vb, "enqueue": enq_a.invoke,
        "other-enqueue": enq_b.invoke, "dequeue": deq_a.invoke, "other-dequeue": deq_b.invoke,
    });
    anomaly(
        "reordered",
        [enq_a, enq_b, deq_a, deq_b],
        explanation,
        details,
    )
}

//! The dependency graph between transactions: ww, wr and rw edges inferred from what they
//! read, plus process order (one process's transactions one after another) and real-time order
//! (one completed before the other began). An edge between two transactions keeps every kind
//! that links them, as bits.

use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;

use super::txn::Txns;
use crate::history::{History, Outcome};

/// A transaction's number: its position in [`Txns::txns`].
pub type TxnId = u32;

/// Edge kinds, as bits of an edge's weight.
pub const WW: u8 = 1;
pub const WR: u8 = 2;
pub const RW: u8 = 4;
pub const PROCESS: u8 = 8;
pub const REALTIME: u8 = 16;
/// The kinds in the order a cycle's step prefers them (fewest anti-dependencies first).
pub const PREFERENCE: [u8; 5] = [WW, WR, PROCESS, REALTIME, RW];

/// A kind's name as Elle writes it.
pub fn kind_name(kind: u8) -> &'static str {
    match kind {
        WW => "ww",
        WR => "wr",
        RW => "rw",
        PROCESS => "process",
        _ => "realtime",
    }
}

/// Edges collected by kind, merged per pair when the graph is built. Inference adds a few
/// edges per micro-op, many of them twice: a list of them, sorted once, costs less than
/// merging each into a hash map as it comes.
#[derive(Debug, Default)]
pub struct Edges {
    added: Vec<(TxnId, TxnId, u8)>,
}

impl Edges {
    /// Adds `from → to` of `kind`; a transaction's edge to itself says nothing and is dropped.
    pub fn add(&mut self, from: TxnId, to: TxnId, kind: u8) {
        if from != to {
            self.added.push((from, to, kind));
        }
    }

    /// The petgraph graph: node `i` is transaction `i`, one edge per pair weighted by its
    /// kinds, added in the order of `(from, to)`.
    pub fn into_graph(mut self, nodes: usize) -> DiGraph<(), u8> {
        self.added.sort_unstable_by_key(|&(from, to, _)| (from, to));
        self.added.dedup_by(|next, kept| {
            let same = (next.0, next.1) == (kept.0, kept.1);
            if same {
                kept.2 |= next.2;
            }
            same
        });
        let mut graph = DiGraph::with_capacity(nodes, self.added.len());
        for _ in 0..nodes {
            graph.add_node(());
        }
        for (from, to, kinds) in self.added {
            graph.add_edge(
                NodeIndex::new(from as usize),
                NodeIndex::new(to as usize),
                kinds,
            );
        }
        graph
    }
}

/// How many of the graph's edges carry each kind of `kinds`, in one pass over the edges.
pub fn count_kinds<const N: usize>(graph: &DiGraph<(), u8>, kinds: [u8; N]) -> [u64; N] {
    let mut counts = [0; N];
    for weight in graph.edge_weights() {
        for (count, kind) in counts.iter_mut().zip(kinds) {
            *count += u64::from(weight & kind != 0);
        }
    }
    counts
}

/// Process order and real-time order between the transactions that may have committed (`ok`
/// and `info`). Real time is kept as a transitive reduction in the manner of Elle: each
/// transaction gets an edge from every transaction in the frontier when it begins (those
/// completed, and not already before another completed one), so the graph holds
/// `O(n × concurrency)` edges rather than `O(n²)`.
pub fn add_order_edges(history: &History, txns: &Txns, edges: &mut Edges, realtime: bool) {
    let mut last_of_process: FxHashMap<u64, TxnId> = FxHashMap::default();
    // Ops are in invocation order: process order is consecutive transactions of a process.
    for (id, txn) in txns.txns.iter().enumerate() {
        if txn.outcome == Outcome::Fail {
            continue;
        }
        let op = &history.ops[txn.op];
        if let Some(prev) = last_of_process.insert(op.process, id as TxnId) {
            edges.add(prev, id as TxnId, PROCESS);
        }
    }
    if !realtime {
        return;
    }
    // Invocations and completions in history order.
    let mut events: Vec<(u64, bool, TxnId)> = Vec::new();
    for (id, txn) in txns.txns.iter().enumerate() {
        if txn.outcome == Outcome::Fail {
            continue;
        }
        let op = &history.ops[txn.op];
        events.push((op.invoke, true, id as TxnId));
        if let (Outcome::Ok, Some(done)) = (txn.outcome, op.complete) {
            events.push((done, false, id as TxnId));
        }
    }
    events.sort_unstable();
    let invoked_at = |id: TxnId| history.ops[txns.txns[id as usize].op].invoke;
    let completed_at = |id: TxnId| history.ops[txns.txns[id as usize].op].complete;
    let mut frontier: Vec<TxnId> = Vec::new();
    for (_, invoke, id) in events {
        if invoke {
            for &before in &frontier {
                edges.add(before, id, REALTIME);
            }
        } else {
            // Whatever completed before this one began now reaches later ones through it.
            let began = invoked_at(id);
            frontier.retain(|&x| completed_at(x).is_some_and(|done| done > began));
            frontier.push(id);
        }
    }
}

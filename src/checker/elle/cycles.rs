//! Cycles in the dependency graph, Elle's way: the strongly connected components first (with
//! petgraph), then inside each one the shortest cycle of each class, by breadth-first search
//! from one edge of the kind the class needs back to where it started:
//!
//! | class | seed edge | the way back may use |
//! |---|---|---|
//! | G0 | ww | ww |
//! | G1c | wr | ww, wr |
//! | G-single | rw | ww, wr (so exactly one rw) |
//! | G-nonadjacent | rw | ww, wr, rw, never two rw in a row |
//! | G2-item | rw | ww, wr, rw |
//!
//! and each again with process or real-time edges allowed, where the cycle needs one of those
//! (the `-process` and `-realtime` variants), unless the class was already found without.
//! A found cycle is named by what it holds (one rw: G-single, whatever seed found it). The
//! search of a component stops at its deadline: the classes it did not finish are `unknown`.

mod component;

use std::collections::VecDeque;
use std::time::Instant;

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use self::component::Component;
use super::graph::{PREFERENCE, PROCESS, REALTIME, RW, TxnId, WR, WW};

/// A cycle: `steps[i]` is a transaction and the kind of the edge from it to the next one
/// (the last one's edge returns to the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cycle {
    pub steps: Vec<(TxnId, u8)>,
}

impl Cycle {
    /// Elle's name for the cycle: `G0`, `G1c`, `G-single`, `G-nonadjacent` or `G2-item`, with
    /// `-process` or `-realtime` when it needs such an edge.
    pub fn name(&self) -> String {
        let kinds: Vec<u8> = self.steps.iter().map(|s| s.1).collect();
        let rw = kinds.iter().filter(|&&k| k == RW).count();
        let adjacent =
            (0..kinds.len()).any(|i| kinds[i] == RW && kinds[(i + 1) % kinds.len()] == RW);
        let base = match rw {
            0 if kinds.contains(&WR) => "G1c",
            0 => "G0",
            1 => "G-single",
            _ if !adjacent => "G-nonadjacent",
            _ => "G2-item",
        };
        let suffix = if kinds.contains(&REALTIME) {
            "-realtime"
        } else if kinds.contains(&PROCESS) {
            "-process"
        } else {
            ""
        };
        format!("{base}{suffix}")
    }
}

/// One class of cycle to look for: the seed edge, the kinds the way back may use, a kind the
/// cycle must hold (besides the seed), and whether two rw edges may follow each other.
#[derive(Clone, Copy, Debug)]
struct Class {
    seed: u8,
    back: u8,
    need: u8,
    nonadjacent: bool,
}

/// The classes, strongest first; `extra` is 0, PROCESS or REALTIME.
fn classes(extra: u8) -> [Class; 5] {
    let class = |seed, back, need, nonadjacent| Class {
        seed,
        back: back | extra,
        need,
        nonadjacent,
    };
    if extra == 0 {
        [
            class(WW, WW, 0, false),
            class(WR, WW | WR, 0, false),
            class(RW, WW | WR, 0, false),
            class(RW, WW | WR | RW, 0, true),
            class(RW, WW | WR | RW, 0, false),
        ]
    } else {
        [
            class(extra, WW, 0, false),
            class(extra, WW | WR, WR, false),
            class(RW, WW | WR, extra, false),
            class(RW, WW | WR | RW, extra, true),
            class(RW, WW | WR | RW, extra, false),
        ]
    }
}

/// What the search of one graph found.
#[derive(Debug, Default)]
pub struct Found {
    pub cycles: Vec<Cycle>,
    /// Components whose search hit the deadline: their size.
    pub timed_out: Vec<usize>,
    pub components: usize,
    pub largest_component: usize,
}

/// Finds the cycles of every class in every strongly connected component of `graph`, each
/// component searched until `deadline(component size)`.
pub fn find(graph: &DiGraph<(), u8>, mut deadline: impl FnMut() -> Option<Instant>) -> Found {
    let mut found = Found::default();
    let mut sccs: Vec<Vec<NodeIndex>> = kosaraju_scc(graph)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .collect();
    for scc in &mut sccs {
        scc.sort_unstable();
    }
    sccs.sort_unstable_by_key(|scc| scc[0]);
    found.components = sccs.len();
    found.largest_component = sccs.iter().map(Vec::len).max().unwrap_or(0);
    // Each graph node's number inside the component being searched, u32::MAX outside it.
    let mut local = vec![u32::MAX; graph.node_count()];
    for scc in &sccs {
        for (i, node) in scc.iter().enumerate() {
            local[node.index()] = i as u32;
        }
        let component = Component::new(graph, scc, &local);
        for node in scc {
            local[node.index()] = u32::MAX;
        }
        let mut search = Search::new(&component, deadline());
        let mut names: Vec<String> = Vec::new();
        'classes: for extra in [0, PROCESS, REALTIME] {
            for class in classes(extra) {
                match search.class(class) {
                    Ok(Some(cycle)) => {
                        let name = cycle.name();
                        let base = name.split("-realtime").next().unwrap_or(&name);
                        let base = base.split("-process").next().unwrap_or(base).to_owned();
                        // A variant adds nothing where its class was found without it.
                        if extra != 0 && names.contains(&base) {
                            continue;
                        }
                        if !names.contains(&name) {
                            names.push(name);
                            found.cycles.push(cycle);
                        }
                    }
                    Ok(None) => {}
                    Err(TimedOut) => {
                        found.timed_out.push(scc.len());
                        break 'classes;
                    }
                }
            }
        }
    }
    found
}

struct TimedOut;

/// The search of one component, with the breadth-first search's buffers: a state is a local
/// node, whether the path holds the class's `need`, and whether its last edge was rw, packed
/// as `node * 4 + need * 2 + rw`.
struct Search<'c> {
    component: &'c Component<'c>,
    until: Option<Instant>,
    /// Per state, the state it was reached from and the edge's kind.
    parent: Vec<(u32, u8)>,
    /// Per state, the search that reached it (`stamp`), so the buffers need no clearing.
    seen: Vec<u32>,
    stamp: u32,
    queue: VecDeque<u32>,
}

impl<'c> Search<'c> {
    fn new(component: &'c Component<'c>, until: Option<Instant>) -> Search<'c> {
        Search {
            component,
            until,
            parent: vec![(0, 0); 4 * component.size()],
            seen: vec![0; 4 * component.size()],
            stamp: 0,
            queue: VecDeque::new(),
        }
    }

    /// The shortest cycle of `class` through the first seed edge that has one. A seed edge
    /// `a → b` can only close a cycle when `a` and `b` share a component of the seed and
    /// way-back kinds (holding a `need` edge, where the class needs one) and the way-back
    /// kinds' components allow a path from `b` to `a`; the search skips the others, which
    /// changes nothing but the time.
    fn class(&mut self, class: Class) -> Result<Option<Cycle>, TimedOut> {
        let component = self.component;
        let joint = component.sccs(class.back | class.seed);
        let back = if class.seed & !class.back == 0 {
            None
        } else {
            Some(component.sccs(class.back))
        };
        let holds = (class.need != 0 && class.need != class.seed)
            .then(|| component.holds(&joint, class.need));
        let viable = |a: u32, b: u32| {
            let (a, b) = (a as usize, b as usize);
            joint[a] == joint[b]
                && back.as_ref().is_none_or(|n| n[b] >= n[a])
                && holds.as_ref().is_none_or(|h| h[joint[a] as usize])
        };
        for from in 0..component.size() as u32 {
            if from % 64 == 0 && self.until.is_some_and(|t| Instant::now() > t) {
                return Err(TimedOut);
            }
            for (to, kinds) in component.edges(from) {
                if kinds & class.seed == 0 || !viable(from, to) {
                    continue;
                }
                if let Some(path) = self.back(to, from, class) {
                    let mut steps = vec![(self.txn(from), class.seed)];
                    steps.extend(path);
                    return Ok(Some(Cycle { steps }));
                }
            }
        }
        Ok(None)
    }

    fn txn(&self, local: u32) -> TxnId {
        self.component.nodes[local as usize].index() as TxnId
    }

    /// Breadth-first from `start` to `goal` along `class.back` edges inside the component: the
    /// path's steps (each node with the kind of its edge onward), or `None`.
    fn back(&mut self, start: u32, goal: u32, class: Class) -> Option<Vec<(TxnId, u8)>> {
        let state = |node: u32, need: bool, rw: bool| node * 4 + 2 * need as u32 + rw as u32;
        if self.stamp == u32::MAX {
            self.seen.fill(0);
            self.stamp = 0;
        }
        self.stamp += 1;
        let stamp = self.stamp;
        let seed_rw = class.seed == RW;
        let first = state(start, class.need == 0 || class.seed == class.need, seed_rw);
        self.seen[first as usize] = stamp;
        self.queue.clear();
        self.queue.push_back(first);
        let mut end = None;
        'bfs: while let Some(at) = self.queue.pop_front() {
            let (node, has_need, last_rw) = (at / 4, at & 2 != 0, at & 1 != 0);
            for (next, kinds) in self.component.edges(node) {
                let kinds = kinds & class.back;
                for kind in PREFERENCE {
                    if kinds & kind == 0 || (class.nonadjacent && last_rw && kind == RW) {
                        continue;
                    }
                    let to = state(next, has_need || kind == class.need, kind == RW);
                    if self.seen[to as usize] == stamp {
                        continue;
                    }
                    self.seen[to as usize] = stamp;
                    self.parent[to as usize] = (at, kind);
                    let closes = !(class.nonadjacent && kind == RW && seed_rw);
                    if next == goal && to & 2 != 0 && closes {
                        end = Some(to);
                        break 'bfs;
                    }
                    if next != goal {
                        self.queue.push_back(to);
                    }
                }
            }
        }
        let mut at = end?;
        let mut steps = Vec::new();
        while at != first {
            let (prev, kind) = self.parent[at as usize];
            steps.push((self.txn(prev / 4), kind));
            at = prev;
        }
        steps.reverse();
        Some(steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::elle::graph::Edges;

    fn graph(edges: &[(TxnId, TxnId, u8)], nodes: usize) -> DiGraph<(), u8> {
        let mut e = Edges::default();
        for &(a, b, k) in edges {
            e.add(a, b, k);
        }
        e.into_graph(nodes)
    }

    fn names(edges: &[(TxnId, TxnId, u8)], nodes: usize) -> Vec<String> {
        let found = find(&graph(edges, nodes), || None);
        found.cycles.iter().map(Cycle::name).collect()
    }

    #[test]
    fn each_class_is_named_by_its_edges() {
        assert_eq!(names(&[(0, 1, WW), (1, 0, WW)], 2), ["G0"]);
        assert_eq!(names(&[(0, 1, WW), (1, 0, WR)], 2), ["G1c"]);
        assert_eq!(names(&[(0, 1, RW), (1, 0, WR)], 2), ["G-single"]);
        assert_eq!(
            names(&[(0, 1, RW), (1, 2, WR), (2, 3, RW), (3, 0, WW)], 4),
            ["G-nonadjacent"]
        );
        assert_eq!(names(&[(0, 1, RW), (1, 0, RW)], 2), ["G2-item"]);
    }

    #[test]
    fn a_cycle_that_needs_real_time_is_the_realtime_variant() {
        assert_eq!(
            names(&[(0, 1, RW), (1, 0, REALTIME)], 2),
            ["G-single-realtime"]
        );
        assert_eq!(names(&[(0, 1, WW), (1, 0, PROCESS)], 2), ["G0-process"]);
    }

    #[test]
    fn no_cycle_no_anomaly_and_the_shortest_cycle_is_reported() {
        assert!(names(&[(0, 1, WW), (1, 2, RW), (0, 2, WR)], 3).is_empty());
        let found = find(
            &graph(
                &[(0, 1, WW), (1, 2, WW), (2, 3, WW), (3, 0, WW), (1, 0, WW)],
                4,
            ),
            || None,
        );
        assert_eq!(found.cycles[0].steps.len(), 2, "{:?}", found.cycles);
    }

    #[test]
    fn a_search_past_its_deadline_names_the_component() {
        let past = Instant::now() - std::time::Duration::from_secs(1);
        let found = find(&graph(&[(0, 1, RW), (1, 0, RW)], 2), || Some(past));
        assert_eq!(found.timed_out, [2]);
        assert!(found.cycles.is_empty());
    }
}

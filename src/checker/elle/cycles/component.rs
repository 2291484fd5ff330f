//! One strongly connected component as a compact adjacency list (its nodes numbered from 0,
//! only the edges inside it), so the cycle search walks arrays instead of petgraph's linked
//! edge lists and hash maps, and the strongly connected components of the component's
//! subgraphs (only some edge kinds) that tell which seed edges cannot start a cycle.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

/// A component's nodes and inside edges. Each node's edges keep petgraph's order, so the
/// search meets them as it did on the graph and finds the same cycles.
pub struct Component<'s> {
    /// The graph's nodes, sorted: local node `i` is `nodes[i]`.
    pub nodes: &'s [NodeIndex],
    /// Local node `i`'s edges are `targets[start[i]..start[i + 1]]`, with their `kinds`.
    start: Vec<u32>,
    targets: Vec<u32>,
    kinds: Vec<u8>,
}

impl<'s> Component<'s> {
    /// The component of `nodes`, whose local numbers `local` holds for every graph node
    /// (`u32::MAX` outside the component).
    pub fn new(graph: &DiGraph<(), u8>, nodes: &'s [NodeIndex], local: &[u32]) -> Component<'s> {
        let mut start = Vec::with_capacity(nodes.len() + 1);
        let (mut targets, mut kinds) = (Vec::new(), Vec::new());
        start.push(0);
        for &node in nodes {
            for edge in graph.edges(node) {
                let to = local[edge.target().index()];
                if to != u32::MAX {
                    targets.push(to);
                    kinds.push(*edge.weight());
                }
            }
            start.push(targets.len() as u32);
        }
        Component {
            nodes,
            start,
            targets,
            kinds,
        }
    }

    pub fn size(&self) -> usize {
        self.nodes.len()
    }

    /// Local node `node`'s edges: `(target, kinds)`.
    pub fn edges(&self, node: u32) -> impl Iterator<Item = (u32, u8)> + '_ {
        let range = self.start[node as usize] as usize..self.start[node as usize + 1] as usize;
        self.targets[range.clone()]
            .iter()
            .copied()
            .zip(self.kinds[range].iter().copied())
    }

    /// The strongly connected components of the subgraph of edges that carry a kind of
    /// `mask` (Tarjan's algorithm, iterative): each local node's component number. Numbers
    /// follow Tarjan's completion order, a reverse topological order: when a path leads from
    /// node `a` to node `b`, `number[a] >= number[b]`.
    pub fn sccs(&self, mask: u8) -> Vec<u32> {
        const NONE: u32 = u32::MAX;
        let n = self.size();
        let (mut index, mut low) = (vec![NONE; n], vec![0u32; n]);
        let mut number = vec![NONE; n];
        let mut stack: Vec<u32> = Vec::new();
        // The depth-first path: each node with the position of its next edge to follow.
        let mut path: Vec<(u32, u32)> = Vec::new();
        let (mut next_index, mut next_number) = (0u32, 0u32);
        for root in 0..n as u32 {
            if index[root as usize] != NONE {
                continue;
            }
            index[root as usize] = next_index;
            low[root as usize] = next_index;
            next_index += 1;
            stack.push(root);
            path.push((root, self.start[root as usize]));
            while let Some(&(node, mut at)) = path.last() {
                let end = self.start[node as usize + 1];
                let mut child = None;
                while at < end {
                    let (to, kinds) = (self.targets[at as usize], self.kinds[at as usize]);
                    at += 1;
                    if kinds & mask == 0 {
                        continue;
                    }
                    if index[to as usize] == NONE {
                        child = Some(to);
                        break;
                    }
                    if number[to as usize] == NONE {
                        // Still on the stack: part of the component being built.
                        low[node as usize] = low[node as usize].min(index[to as usize]);
                    }
                }
                path.last_mut().expect("the loop's node").1 = at;
                if let Some(to) = child {
                    index[to as usize] = next_index;
                    low[to as usize] = next_index;
                    next_index += 1;
                    stack.push(to);
                    path.push((to, self.start[to as usize]));
                    continue;
                }
                path.pop();
                if let Some(&(parent, _)) = path.last() {
                    low[parent as usize] = low[parent as usize].min(low[node as usize]);
                }
                if low[node as usize] == index[node as usize] {
                    while let Some(member) = stack.pop() {
                        number[member as usize] = next_number;
                        if member == node {
                            break;
                        }
                    }
                    next_number += 1;
                }
            }
        }
        number
    }

    /// Per component of [`Self::sccs`]`(mask)` (given as `number`), whether an edge inside
    /// it carries a kind of `need`.
    pub fn holds(&self, number: &[u32], need: u8) -> Vec<bool> {
        let count = number.iter().map(|&c| c as usize + 1).max().unwrap_or(0);
        let mut holds = vec![false; count];
        for from in 0..self.size() as u32 {
            for (to, kinds) in self.edges(from) {
                if kinds & need != 0 && number[from as usize] == number[to as usize] {
                    holds[number[from as usize] as usize] = true;
                }
            }
        }
        holds
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::elle::graph::{Edges, RW, WR, WW};

    #[test]
    fn sccs_follow_only_the_kinds_asked_for_in_reverse_topological_order() {
        // 0 →ww 1 →ww 0, 1 →rw 2 →wr 1, 2 →ww 3.
        let mut e = Edges::default();
        for (a, b, k) in [(0, 1, WW), (1, 0, WW), (1, 2, RW), (2, 1, WR), (2, 3, WW)] {
            e.add(a, b, k);
        }
        let graph = e.into_graph(4);
        let nodes: Vec<NodeIndex> = (0..4).map(NodeIndex::new).collect();
        let local: Vec<u32> = (0..4).collect();
        let c = Component::new(&graph, &nodes, &local);
        let all = c.sccs(WW | WR | RW);
        assert_eq!(all[0], all[1]);
        assert_eq!(all[1], all[2]);
        assert!(all[2] > all[3], "{all:?}");
        let ww = c.sccs(WW);
        assert_eq!(ww[0], ww[1]);
        assert_ne!(ww[1], ww[2]);
        assert!(c.holds(&all, RW)[all[0] as usize]);
        assert_eq!(c.holds(&ww, RW), [false; 3]);
    }
}

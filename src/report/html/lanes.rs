//! Timeline lanes. A worker whose op ended `info` takes a new process id (Jepsen's rule), so
//! a long run has many more processes than workers; one lane per process would be thousands
//! of mostly empty rows. Processes are packed instead, greedily by their first invocation,
//! into the lowest lane whose previous process had finished: a process never overlaps
//! itself, so this gives about one lane per worker and keeps each lane one sequence of ops.
//! Where the history names nodes, lanes are grouped by the node most of their ops went to.

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::history::History;

/// One lane of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lane {
    /// `p3`, or `p3 +4` when four later processes share the lane.
    pub label: String,
    /// The processes in the lane, first to last (at most a few shown in the hover).
    pub processes: Vec<u64>,
    /// The node most of the lane's ops went to, where the history says.
    pub node: Option<String>,
}

/// The lane of every op (by position in `history.ops`) and the lanes.
pub fn assign(history: &History) -> (Vec<u32>, Vec<Lane>) {
    let mut spans: FxHashMap<u64, (u64, u64)> = FxHashMap::default();
    for op in &history.ops {
        let span = spans
            .entry(op.process)
            .or_insert((op.invoke_time, op.end_time()));
        span.0 = span.0.min(op.invoke_time);
        span.1 = span.1.max(op.end_time());
    }
    let mut order: Vec<(u64, u64, u64)> = spans.iter().map(|(&p, &(s, e))| (s, p, e)).collect();
    order.sort_unstable();
    let mut lane_end: Vec<u64> = Vec::new();
    let mut lanes: Vec<Lane> = Vec::new();
    let mut lane_of: FxHashMap<u64, u32> = FxHashMap::default();
    for (start, process, end) in order {
        let lane = match lane_end.iter().position(|&busy_until| busy_until < start) {
            Some(lane) => lane,
            None => {
                lane_end.push(0);
                lanes.push(Lane {
                    label: String::new(),
                    processes: Vec::new(),
                    node: None,
                });
                lane_end.len() - 1
            }
        };
        lane_end[lane] = end;
        lanes[lane].processes.push(process);
        lane_of.insert(process, lane as u32);
    }
    let of_op: Vec<u32> = history.ops.iter().map(|op| lane_of[&op.process]).collect();
    group_by_node(history, of_op, lanes)
}

/// Labels the lanes and, when ops name nodes, orders them by their most frequent node (lanes
/// without one last), keeping the packing order within a node.
fn group_by_node(
    history: &History,
    mut of_op: Vec<u32>,
    mut lanes: Vec<Lane>,
) -> (Vec<u32>, Vec<Lane>) {
    let mut counts: Vec<FxHashMap<&str, u64>> = vec![FxHashMap::default(); lanes.len()];
    for (op, &lane) in history.ops.iter().zip(&of_op) {
        if let Some(node) = op.node() {
            *counts[lane as usize].entry(node).or_default() += 1;
        }
    }
    for (lane, counts) in lanes.iter_mut().zip(&counts) {
        lane.node = counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(node, _)| (*node).to_owned());
        let processes = match lane.processes.len() {
            1 => format!("p{}", lane.processes[0]),
            n => format!("p{} +{}", lane.processes[0], n - 1),
        };
        lane.label = match &lane.node {
            Some(node) => format!("{node} · {processes}"),
            None => processes,
        };
        lane.processes.truncate(8);
    }
    let mut order: Vec<usize> = (0..lanes.len()).collect();
    order.sort_by(|&a, &b| {
        let key = |l: usize| (lanes[l].node.is_none(), lanes[l].node.clone());
        key(a).cmp(&key(b)).then(a.cmp(&b))
    });
    let mut new_index = vec![0u32; lanes.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new as u32;
    }
    for lane in &mut of_op {
        *lane = new_index[*lane as usize];
    }
    let mut slots: Vec<Option<Lane>> = lanes.into_iter().map(Some).collect();
    let lanes = order
        .iter()
        .map(|&old| slots[old].take().expect("each lane is moved once"))
        .collect();
    (of_op, lanes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checker::test_support::history;

    #[test]
    fn a_process_that_follows_another_shares_its_lane() {
        // p0 and p1 overlap; p2 starts after p0 finished (a worker's new id after info).
        let h = history(
            "10 0 i add 1
             20 1 i add 2
             30 0 info add 1
             40 2 i add 3
             50 1 ok add 2
             60 2 ok add 3",
        );
        let (of_op, lanes) = assign(&h);
        assert_eq!(of_op, vec![0, 1, 0]);
        assert_eq!(lanes[0].label, "p0 +1");
        assert_eq!(lanes[1].label, "p1");
    }

    #[test]
    fn lanes_are_grouped_by_the_node_most_of_their_ops_went_to() {
        let mut h = history(
            "10 0 i add 1
             20 1 i add 2
             30 0 ok add 1
             40 1 ok add 2",
        );
        for (op, node) in h.ops.iter_mut().zip(["n2", "n1"]) {
            op.extra = Some(Box::new(crate::history::OpExtra {
                node: Some(node.into()),
                error: None,
            }));
        }
        let (of_op, lanes) = assign(&h);
        assert_eq!(of_op, vec![1, 0], "n1's lane first");
        assert_eq!(lanes[0].label, "n1 · p1");
        assert_eq!(lanes[1].node.as_deref(), Some("n2"));
    }
}

//! The data the page's script draws from, as one JSON object in columns: times and
//! latencies in integer microseconds, names interned into tables, ops as parallel arrays.
//! A history beyond `select::DETAIL_LIMIT` ops also carries per-lane time-bucket counts,
//! which the timeline draws where it has no ops in full.

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::charts::{self, Charts, Rounds, code};
use super::escape::shorten;
use super::lanes::{self, Lane};
use super::linear;
use super::select;
use crate::checker::{Results, fault_windows};
use crate::history::History;

/// Characters of an op's value carried for the hover.
const VALUE_CHARS: usize = 160;
/// Time buckets of a summarised timeline (fewer when there are many lanes).
const AGG_BUCKETS: u64 = 1000;

/// Everything the script needs.
#[derive(Debug, Serialize)]
pub struct PageData {
    /// The history's last time.
    pub end: u64,
    pub total_ops: usize,
    pub summarised: bool,
    pub lanes: Vec<Lane>,
    /// Interned `f` names, nodes, errors.
    pub fs: Vec<String>,
    pub nodes: Vec<String>,
    pub errors: Vec<String>,
    pub ops: Columns,
    pub agg: Option<Aggregates>,
    pub faults: Vec<Fault>,
    /// Each listed anomaly's witnesses, as positions in `ops`, in page order.
    pub anomalies: Vec<Vec<u32>>,
    pub charts: Charts,
    pub rounds: Option<Rounds>,
    /// The linearizability diagrams' data, each naming its anomaly (`linear::data`).
    pub linear: Vec<serde_json::Value>,
}

/// Ops in columns. `d` is -1 for an op that never completed; `n` and `e` are -1 when
/// unknown; `o` is 0 ok, 1 fail, 2 info.
#[derive(Debug, Default, Serialize)]
pub struct Columns {
    /// History index of the invocation.
    pub i: Vec<u64>,
    pub t: Vec<u64>,
    pub d: Vec<i64>,
    pub p: Vec<u64>,
    pub l: Vec<u32>,
    pub o: Vec<u8>,
    pub f: Vec<u32>,
    pub n: Vec<i32>,
    pub e: Vec<i32>,
    pub v: Vec<String>,
}

/// Op counts per lane, time bucket and outcome: `counts[(lane * buckets + b) * 3 + o]`,
/// by invocation time.
#[derive(Debug, Serialize)]
pub struct Aggregates {
    pub bucket: u64,
    pub buckets: usize,
    pub counts: Vec<u32>,
}

/// A nemesis fault window.
#[derive(Debug, Serialize)]
pub struct Fault {
    pub name: String,
    pub label: String,
    pub start: u64,
    pub end: Option<u64>,
}

/// Interns strings into a table, handing out indexes.
#[derive(Default)]
struct Table {
    index: FxHashMap<String, u32>,
    names: Vec<String>,
}

impl Table {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(name.to_owned(), i);
        self.names.push(name.to_owned());
        i
    }
}

/// Builds the page's data.
pub fn build(history: &History, results: &Results) -> PageData {
    let witnesses = select::witnesses(history, results);
    let (detailed, summarised) = select::detailed(history, &witnesses);
    let (lane_of, lanes) = lanes::assign(history);
    let end = end_us(history);
    let (mut fs, mut nodes, mut errors) = (Table::default(), Table::default(), Table::default());
    let mut ops = Columns::default();
    for &p in &detailed {
        let op = &history.ops[p];
        ops.i.push(op.invoke);
        ops.t.push(op.invoke_time / 1000);
        ops.d.push(charts::latency_us(op).map_or(-1, |l| l as i64));
        ops.p.push(op.process);
        ops.l.push(lane_of[p]);
        ops.o.push(code(op.outcome));
        ops.f.push(fs.id(&op.f));
        ops.n.push(op.node().map_or(-1, |n| nodes.id(n) as i32));
        ops.e.push(op.error().map_or(-1, |e| errors.id(e) as i32));
        ops.v.push(shorten(&op.value, VALUE_CHARS));
    }
    let at = |p: &usize| detailed.binary_search(p).expect("witnesses are detailed") as u32;
    let anomalies = witnesses
        .iter()
        .map(|w| w.iter().map(at).collect())
        .collect();
    let all_witnesses: Vec<usize> = witnesses.iter().flatten().copied().collect();
    PageData {
        end,
        total_ops: history.ops.len(),
        summarised,
        agg: summarised.then(|| aggregates(history, &lane_of, lanes.len(), end)),
        lanes,
        fs: fs.names,
        nodes: nodes.names,
        errors: errors.names,
        ops,
        faults: faults(history),
        anomalies,
        charts: charts::charts(history, end, &all_witnesses),
        rounds: charts::rounds(history),
        linear: linear::data(results),
    }
}

/// The last time in the history, in microseconds (at least 1).
pub fn end_us(history: &History) -> u64 {
    let ops = history
        .ops
        .iter()
        .map(|op| op.complete_time.unwrap_or(op.invoke_time));
    let nemesis = history.nemesis.iter().map(|e| e.time);
    (ops.chain(nemesis).max().unwrap_or(0) / 1000).max(1)
}

fn aggregates(history: &History, lane_of: &[u32], lanes: usize, end: u64) -> Aggregates {
    let wanted = (AGG_BUCKETS as usize).min(200_000 / lanes.max(1)).max(50) as u64;
    let bucket = end.div_ceil(wanted).max(1);
    let buckets = (end / bucket + 1) as usize;
    let mut counts = vec![0u32; lanes * buckets * 3];
    for (op, &lane) in history.ops.iter().zip(lane_of) {
        let b = ((op.invoke_time / 1000 / bucket) as usize).min(buckets - 1);
        counts[(lane as usize * buckets + b) * 3 + code(op.outcome) as usize] += 1;
    }
    Aggregates {
        bucket,
        buckets,
        counts,
    }
}

fn faults(history: &History) -> Vec<Fault> {
    fault_windows(&history.nemesis)
        .into_iter()
        .map(|w| Fault {
            label: w.describe(),
            start: w.start / 1000,
            end: w.end.map(|e| e / 1000),
            name: w.name,
        })
        .collect()
}

//! Transactional anomalies, Elle's way (Kingsbury & Alvaro, "Elle: Inferring Isolation
//! Anomalies from Experimental Observations", VLDB 2020): from what transactions read, infer
//! the order of each key's versions and the dependencies between transactions (ww, wr, rw),
//! add process and real-time order where the consistency model cares, and look for cycles.
//! Each cycle is an anomaly with Adya's name (G0, G1c, G-single, G-nonadjacent, G2-item and
//! their -process / -realtime variants); some anomalies need no cycle (G1a, G1b, internal,
//! duplicate-elements, incompatible-order, lost-update, dirty-update, cyclic-versions). The
//! result names the anomalies the requested consistency models forbid (Elle's table, in
//! `consistency.rs`), and every model the history rules out.
//!
//! `txn.rs` reads transactions, `append.rs` infers list-append histories, `graph.rs` holds the
//! edges, `register.rs` infers rw-register histories, `cycles.rs` finds and names the cycles, `consistency.rs` knows the models.
//!
//! `options.rs` reads the options a person names (`splitbrain check --model list-append
//! --consistency-models ...`, a history header's `model_options`).
//!
//! The report draws each cycle (src/report/html/elle.rs). Not yet: workload files.

mod append;
pub mod consistency;
mod cycles;
mod graph;
pub mod options;
mod register;
#[cfg(test)]
mod tests;
pub mod txn;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::json;

use self::append::Orders;
use self::cycles::Cycle;
use self::graph::{Edges, PROCESS, REALTIME, RW, TxnId, WR, WW, kind_name};
use self::txn::{Micro, Shape, Txns};
use super::witness::{anomaly, counts};
use super::{Anomaly, CheckerResult, Verdict};
use crate::history::{History, HistoryError, Value};

/// What to check and how long the cycle search may take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub shape: Shape,
    /// The consistency models the system promises (see [`consistency::MODELS`]); the history
    /// is valid when it shows no anomaly any of them forbids.
    pub models: Vec<String>,
    /// Time for the cycle search of one strongly connected component; past it, `unknown`.
    pub time_per_component: Option<Duration>,
}

impl Options {
    /// Elle's default: strict serializability, and 10 s per component.
    pub fn new(shape: Shape) -> Options {
        Options {
            shape,
            models: vec!["strict-serializable".to_owned()],
            time_per_component: Some(Duration::from_secs(10)),
        }
    }
}

/// One anomaly found, before it becomes an [`Anomaly`]: its kind, the transactions that
/// show it, what they show in words, and the cycle when it is one.
#[derive(Clone, Debug)]
pub struct Finding {
    pub kind: String,
    pub txns: Vec<TxnId>,
    pub text: String,
    pub cycle: Option<Vec<serde_json::Value>>,
}

impl Finding {
    fn new(kind: &str, txns: Vec<TxnId>, text: String) -> Finding {
        Finding {
            kind: kind.to_owned(),
            txns,
            text,
            cycle: None,
        }
    }
}

/// What inference learned, for the explanations.
enum Inferred<'h> {
    Lists(Orders<'h>),
    Registers(register::Versions),
}

/// Checks a transactional history (see the module docs).
pub fn check(history: &History, options: &Options) -> Result<CheckerResult, HistoryError> {
    let txns = txn::parse(history, options.shape)?;
    let mut edges = Edges::default();
    let mut found = Vec::new();
    let orders = match options.shape {
        Shape::ListAppend => {
            Inferred::Lists(append::infer(history, &txns, &mut edges, &mut found)?)
        }
        Shape::RwRegister => {
            Inferred::Registers(register::infer(history, &txns, &mut edges, &mut found)?)
        }
    };
    let orders_needed = |variant: &str| {
        options
            .models
            .iter()
            .any(|m| consistency::forbids(m, &format!("G0{variant}")))
    };
    let realtime = orders_needed("-realtime");
    if realtime || orders_needed("-process") {
        graph::add_order_edges(history, &txns, &mut edges, realtime);
    }
    let graph = edges.into_graph(txns.txns.len());
    let kinds = [WW, WR, RW, PROCESS, REALTIME];
    let edge_counts = kinds.into_iter().zip(graph::count_kinds(&graph, kinds));
    let limit = options.time_per_component;
    let cycles = cycles::find(&graph, || limit.map(|t| Instant::now() + t));
    for cycle in &cycles.cycles {
        found.push(explain_cycle(history, &txns, &orders, cycle));
    }
    let mut result_counts = counts([
        ("transactions", txns.txns.len() as u64),
        ("keys", txns.keys.len() as u64),
        ("components", cycles.components as u64),
        ("largest-component", cycles.largest_component as u64),
    ]);
    for (kind, n) in edge_counts {
        result_counts.insert(format!("{}-edges", kind_name(kind)), n);
    }
    // One verdict per kind, not per finding: a long history can have many of one kind.
    let mut forbidden_kinds: BTreeMap<&str, bool> = BTreeMap::new();
    for finding in &found {
        let kind = finding.kind.as_str();
        forbidden_kinds
            .entry(kind)
            .or_insert_with(|| options.models.iter().any(|m| consistency::forbids(m, kind)));
    }
    let forbidden = |kind: &str| forbidden_kinds[kind];
    let mut anomalies: Vec<Anomaly> = Vec::new();
    let mut allowed: BTreeMap<String, u64> = BTreeMap::new();
    let mut types: Vec<String> = Vec::new();
    for finding in &found {
        *result_counts.entry(finding.kind.clone()).or_default() += 1;
        if !forbidden(&finding.kind) {
            *allowed.entry(finding.kind.clone()).or_default() += 1;
            continue;
        }
        if !types.contains(&finding.kind) {
            types.push(finding.kind.clone());
        }
        anomalies.push(to_anomaly(history, &txns, finding));
    }
    types.sort();
    let found_kinds: Vec<&str> = found.iter().map(|f| f.kind.as_str()).collect();
    let ruled_out = consistency::ruled_out(found_kinds.iter().copied());
    let (not, also_not) = consistency::weakest(&ruled_out);
    let mut stats = BTreeMap::new();
    stats.insert("model".to_owned(), json!(options.shape.name()));
    stats.insert("consistency-models".to_owned(), json!(options.models));
    stats.insert("not".to_owned(), json!(not));
    stats.insert("also-not".to_owned(), json!(also_not));
    if !allowed.is_empty() {
        stats.insert("allowed-anomalies".to_owned(), json!(allowed));
    }
    let valid = if !anomalies.is_empty() {
        Verdict::Invalid
    } else if !cycles.timed_out.is_empty() {
        stats.insert(
            "reason".to_owned(),
            json!(format!(
                "the cycle search of {} component(s) (sizes {:?}) passed its time limit",
                cycles.timed_out.len(),
                cycles.timed_out
            )),
        );
        Verdict::Unknown
    } else if txns.txns.is_empty() {
        stats.insert("reason".to_owned(), json!("no transactions to check"));
        Verdict::Unknown
    } else {
        Verdict::Valid
    };
    Ok(CheckerResult {
        valid,
        anomaly_types: types,
        anomalies,
        counts: result_counts,
        stats,
    })
}

fn label(history: &History, txns: &Txns, id: TxnId) -> String {
    format!("T{}", history.ops[txns.txns[id as usize].op].invoke)
}

fn to_anomaly(history: &History, txns: &Txns, finding: &Finding) -> Anomaly {
    let ops = finding
        .txns
        .iter()
        .map(|&t| &history.ops[txns.txns[t as usize].op]);
    let names: Vec<String> = finding
        .txns
        .iter()
        .map(|&t| label(history, txns, t))
        .collect();
    let explanation = match &finding.cycle {
        Some(_) => finding.text.clone(),
        None => format!("{} {}", names.join(" and "), finding.text),
    };
    let mut details = json!({ "transactions": names });
    if let Some(cycle) = &finding.cycle {
        details["cycle"] = json!(cycle);
    }
    anomaly(&finding.kind, ops, explanation, details)
}

/// A cycle in steps a person can check, each edge with the data that implies it.
fn explain_cycle(history: &History, txns: &Txns, orders: &Inferred, cycle: &Cycle) -> Finding {
    let n = cycle.steps.len();
    let mut steps = Vec::with_capacity(n);
    let mut texts = Vec::with_capacity(n);
    for (i, &(from, kind)) in cycle.steps.iter().enumerate() {
        let to = cycle.steps[(i + 1) % n].0;
        let why = why(history, txns, orders, from, to, kind);
        let (a, b) = (label(history, txns, from), label(history, txns, to));
        texts.push(format!("{why}, so {a} →{} {b}", kind_name(kind)));
        steps.push(json!({
            "from": a,
            "to": b,
            "edge": kind_name(kind),
            "why": why,
            "ops": describe(txns, from),
        }));
    }
    let first = label(history, txns, cycle.steps[0].0);
    let name = cycle.name();
    let text = format!(
        "{}; so {first} would have to come before itself: a contradiction",
        texts.join("; ")
    );
    Finding {
        kind: name,
        txns: cycle.steps.iter().map(|s| s.0).collect(),
        text,
        cycle: Some(steps),
    }
}

/// A transaction's micro-ops in words: `append 9 2, r 8 [1]`.
fn describe(txns: &Txns, id: TxnId) -> String {
    let key = |k: &u32| txns.key_name(*k);
    txns.txns[id as usize]
        .micros
        .iter()
        .map(|m| match m {
            Micro::Append(k, v) => format!("append {} {v}", key(k)),
            Micro::Write(k, v) => format!("w {} {v}", key(k)),
            Micro::Read(k, Some(v)) => format!("r {} {v}", key(k)),
            Micro::Read(k, None) => format!("r {} ?", key(k)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why `from → to` has this kind of edge, in words.
fn why(
    history: &History,
    txns: &Txns,
    inferred: &Inferred,
    from: TxnId,
    to: TxnId,
    kind: u8,
) -> String {
    let (a, b) = (label(history, txns, from), label(history, txns, to));
    match (inferred, kind) {
        (_, PROCESS) => {
            let p = history.ops[txns.txns[from as usize].op].process;
            format!("{b} ran after {a} on process {p}")
        }
        (_, REALTIME) => {
            let done = history.ops[txns.txns[from as usize].op].complete;
            let began = history.ops[txns.txns[to as usize].op].invoke;
            format!(
                "{b} began (index {began}) after {a} completed (index {})",
                done.map_or("?".to_owned(), |d| d.to_string())
            )
        }
        (Inferred::Lists(orders), _) => why_lists(txns, orders, (from, &a), (to, &b), kind),
        (Inferred::Registers(versions), _) => {
            why_registers(txns, versions, (from, &a), (to, &b), kind)
        }
    }
}

/// Why a register edge holds: the values written and read.
fn why_registers(
    txns: &Txns,
    versions: &register::Versions,
    (from, a): (TxnId, &str),
    (to, b): (TxnId, &str),
    kind: u8,
) -> String {
    let micros = |t: TxnId| &txns.txns[t as usize].micros;
    let written = |t: TxnId, key: u32| {
        micros(t).iter().filter_map(move |m| match *m {
            Micro::Write(k, v) if k == key => Some(v),
            _ => None,
        })
    };
    let writer = |k: u32, v: &Value| versions.writer.get(&(k, v.clone())).copied();
    for &m in micros(if kind == WR { to } else { from }) {
        let (Micro::Write(k, v) | Micro::Read(k, Some(v))) = m else {
            continue;
        };
        let key = txns.key_name(k);
        let before = &versions.before[k as usize];
        let next = |v: &Value| written(to, k).find(|&y| before.contains(&(v.clone(), y.clone())));
        match (kind, m) {
            (WW, Micro::Write(..)) => {
                if let Some(y) = next(v) {
                    return format!("{a} wrote {key} = {v}, and {b} wrote {y} directly after it");
                }
            }
            (WR, Micro::Read(..)) if writer(k, v) == Some(from) => {
                return format!("{b} read {key} = {v}, which {a} wrote");
            }
            (RW, Micro::Read(..)) => {
                if let Some(y) = next(v) {
                    return format!("{a} read {key} = {v}, which {b} overwrote with {y}");
                }
            }
            _ => {}
        }
    }
    format!("{a} →{} {b}", kind_name(kind))
}

/// Why a list-append edge holds: the elements appended and the lists read.
fn why_lists(
    txns: &Txns,
    orders: &Orders,
    (from, a): (TxnId, &str),
    (to, b): (TxnId, &str),
    kind: u8,
) -> String {
    let key = |k: u32| txns.key_name(k);
    let list = |l: &[Value]| Value::list(l.iter().cloned()).to_string();
    let micros = |t: TxnId| &txns.txns[t as usize].micros;
    match kind {
        WW => {
            for &m in micros(from) {
                let Micro::Append(k, x) = m else { continue };
                let Some(Some(order)) = orders.versions.get(k as usize) else {
                    continue;
                };
                if let Some(p) = order.iter().position(|v| v == x)
                    && let Some(y) = order.get(p + 1)
                    && orders.writer_of(k, y) == Some(to)
                {
                    return format!(
                        "{a} appended {x} to {}, and {b} appended {y} right after it",
                        key(k)
                    );
                }
            }
            // `to` appended what no read saw: after the last version read, which `from` wrote.
            for &m in micros(to) {
                let Micro::Append(k, y) = m else { continue };
                if let Some(Some(order)) = orders.versions.get(k as usize)
                    && !order.contains(y)
                    && let Some(x) = order.last()
                    && orders.writer_of(k, x) == Some(from)
                {
                    return format!(
                        "{b} appended {y} to {}, which no read saw, so after {x}, the last \
                         element read, which {a} appended",
                        key(k)
                    );
                }
            }
            format!("{b} appended after {a}")
        }
        WR => {
            for m in micros(to) {
                if let Micro::Read(k, Some(Value::List(l))) = m
                    && let Some(last) = l.last()
                    && orders.writer_of(*k, last) == Some(from)
                {
                    return format!(
                        "{b} read {} = {}, ending in {last}, which {a} appended",
                        key(*k),
                        list(l)
                    );
                }
            }
            format!("{b} read what {a} wrote")
        }
        RW => {
            for m in micros(from) {
                if let Micro::Read(k, Some(Value::List(l))) = m
                    && let Some(Some(order)) = orders.versions.get(*k as usize)
                    && let Some(next) = order.get(l.len())
                    && orders.writer_of(*k, next) == Some(to)
                {
                    return format!(
                        "{a} read {} = {} without {next}, which {b} appended next",
                        key(*k),
                        list(l)
                    );
                }
            }
            // `to` appended what no read saw; `from` read the whole list without it.
            for &m in micros(to) {
                let Micro::Append(k, y) = m else { continue };
                let read = micros(from).iter().find_map(|r| match *r {
                    Micro::Read(rk, Some(Value::List(l))) if rk == k => Some(l),
                    _ => None,
                });
                if let Some(l) = read
                    && let Some(Some(order)) = orders.versions.get(k as usize)
                    && l.len() == order.len()
                    && !order.contains(y)
                {
                    return format!(
                        "{a} read {} = {} without {y}, which {b} appended and no read saw",
                        key(k),
                        list(l)
                    );
                }
            }
            format!("{a} did not see what {b} appended")
        }
        _ => format!("{a} →{} {b}", kind_name(kind)),
    }
}

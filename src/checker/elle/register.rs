//! rw-register inference (Elle's rw-register, with its default assumptions): every write of a
//! key writes a distinct value, so a read names the transaction it read from (wr). The
//! version order of a key is what can be known without assuming more of the database: the
//! initial nil comes before every written value, and a transaction that read `v1` of a key and
//! then wrote `v2` to it put `v2` after `v1` (writes follow reads). Each known "`v1` directly
//! before `v2`" gives ww (their writers) and rw (every reader of `v1` to `v2`'s writer).
//! Anomalies that need no cycle: G1a (a read of a failed write), G1b (a read of a value its
//! writer overwrote in the same transaction), internal (a read that contradicts the
//! transaction's own earlier read or write of the key), cyclic-versions.

use rustc_hash::{FxHashMap, FxHashSet};

use super::Finding;
use super::graph::{Edges, RW, TxnId, WR, WW};
use super::txn::{Key, Micro, Txns};
use crate::checker::witness::model_error;
use crate::history::{History, HistoryError, Outcome, Value};

/// What rw-register inference learned, for explanations.
#[derive(Debug, Default)]
pub struct Versions {
    /// Who wrote each value of each key.
    pub writer: FxHashMap<(Key, Value), TxnId>,
    /// Per key, the known "directly before" pairs of values (nil first).
    pub before: Vec<FxHashSet<(Value, Value)>>,
}

/// Infers the dependencies of an rw-register history into `edges`, and the anomalies that
/// need no cycle into `found`.
pub fn infer(
    history: &History,
    txns: &Txns,
    edges: &mut Edges,
    found: &mut Vec<Finding>,
) -> Result<Versions, HistoryError> {
    let mut versions = Versions {
        writer: FxHashMap::default(),
        before: vec![FxHashSet::default(); txns.keys.len()],
    };
    for (id, txn) in txns.txns.iter().enumerate() {
        for &micro in &txn.micros {
            if let Micro::Write(key, value) = micro {
                if value.is_nil() {
                    let reason =
                        "a write of nil: rw-register writes values, nil is the initial state";
                    return Err(model_error(
                        "rw-register",
                        history.ops[txn.op].invoke,
                        reason,
                    ));
                }
                if let Some(other) = versions.writer.insert((key, value.clone()), id as TxnId) {
                    let reason = format!(
                        "{value} was written to key {} twice (also by the op invoked at index {}): \
                         rw-register needs every written value to be unique",
                        txns.key_name(key),
                        history.ops[txns.txns[other as usize].op].invoke
                    );
                    return Err(model_error(
                        "rw-register",
                        history.ops[txn.op].invoke,
                        reason,
                    ));
                }
            }
        }
    }
    let committed = |w: TxnId| txns.txns[w as usize].outcome != Outcome::Fail;
    // Per key, the reads of each value.
    let mut readers: Vec<FxHashMap<Value, Vec<TxnId>>> =
        vec![FxHashMap::default(); txns.keys.len()];
    for (id, txn) in txns.txns.iter().enumerate() {
        let id = id as TxnId;
        // Per key, what this transaction last read or wrote, and whether it wrote it.
        let mut own: FxHashMap<Key, (Value, bool)> = FxHashMap::default();
        for &micro in &txn.micros {
            match micro {
                Micro::Write(key, value) => {
                    if let Some((read, false)) = own.get(&key)
                        && txn.outcome != Outcome::Fail
                    {
                        versions.before[key as usize].insert((read.clone(), value.clone()));
                    }
                    own.insert(key, (value.clone(), true));
                }
                Micro::Read(key, Some(value)) => {
                    if let Some((expected, wrote)) = own.get(&key)
                        && expected != value
                    {
                        let source = if *wrote { "wrote" } else { "read" };
                        found.push(Finding::new(
                            "internal",
                            vec![id],
                            format!(
                                "read key {} = {value} after it {source} {expected} there itself",
                                txns.key_name(key)
                            ),
                        ));
                    }
                    if own.get(&key).is_none_or(|(_, wrote)| !wrote) {
                        readers[key as usize]
                            .entry(value.clone())
                            .or_default()
                            .push(id);
                        read_from(txns, &versions, id, key, value, edges, found);
                    }
                    own.insert(key, (value.clone(), false));
                }
                Micro::Read(_, None) => {}
                Micro::Append(..) => unreachable!("rw-register transactions have no appends"),
            }
        }
    }
    for (key, before) in versions.before.iter_mut().enumerate() {
        // The initial nil comes before every value written (by a transaction that may have
        // committed).
        for ((k, value), &w) in &versions.writer {
            if *k as usize == key && committed(w) {
                before.insert((Value::Nil, value.clone()));
            }
        }
    }
    for (key, before) in versions.before.iter().enumerate() {
        let key = key as Key;
        let writer = |v: &Value| {
            versions
                .writer
                .get(&(key, v.clone()))
                .copied()
                .filter(|&w| committed(w))
        };
        let mut pairs: Vec<&(Value, Value)> = before.iter().collect();
        pairs.sort_unstable();
        for (v1, v2) in pairs {
            let Some(w2) = writer(v2) else { continue };
            if let Some(w1) = writer(v1) {
                edges.add(w1, w2, WW);
            }
            for &reader in readers[key as usize].get(v1).into_iter().flatten() {
                edges.add(reader, w2, RW);
            }
        }
        if let Some(cycle) = version_cycle(before) {
            found.push(Finding::new(
                "cyclic-versions",
                cycle.iter().filter_map(writer).collect(),
                format!(
                    "the versions of key {} must each come before the next in a circle: {}",
                    txns.key_name(key),
                    Value::list(cycle)
                ),
            ));
        }
    }
    Ok(versions)
}

/// A read of `value` by `reader`: wr from its writer, or G1a / G1b.
fn read_from(
    txns: &Txns,
    versions: &Versions,
    reader: TxnId,
    key: Key,
    value: &Value,
    edges: &mut Edges,
    found: &mut Vec<Finding>,
) {
    let Some(&w) = versions.writer.get(&(key, value.clone())) else {
        return;
    };
    let writer = &txns.txns[w as usize];
    if writer.outcome == Outcome::Fail {
        found.push(Finding::new(
            "G1a",
            vec![w, reader],
            format!(
                "read key {} = {value}, which a transaction that failed (aborted) wrote",
                txns.key_name(key)
            ),
        ));
        return;
    }
    let last = writer.micros.iter().rev().find_map(|m| match *m {
        Micro::Write(k, v) if k == key => Some(v),
        _ => None,
    });
    if last.is_some_and(|last| last != value) {
        found.push(Finding::new(
            "G1b",
            vec![w, reader],
            format!(
                "read key {} = {value}, an intermediate state of the writer, which then wrote {}",
                txns.key_name(key),
                last.expect("checked above")
            ),
        ));
    }
    edges.add(w, reader, WR);
}

/// A cycle in a key's "directly before" pairs, if there is one (the values, in order).
fn version_cycle(before: &FxHashSet<(Value, Value)>) -> Option<Vec<Value>> {
    let mut next: FxHashMap<&Value, Vec<&Value>> = FxHashMap::default();
    for (a, b) in before {
        next.entry(a).or_default().push(b);
    }
    for list in next.values_mut() {
        list.sort_unstable();
    }
    let mut roots: Vec<&Value> = next.keys().copied().collect();
    roots.sort_unstable();
    // Iterative depth-first search with colours: 1 on the path, 2 done.
    let mut colour: FxHashMap<&Value, u8> = FxHashMap::default();
    for root in roots {
        if colour.contains_key(root) {
            continue;
        }
        let mut path: Vec<(&Value, usize)> = vec![(root, 0)];
        colour.insert(root, 1);
        while let Some((node, i)) = path.last_mut() {
            let children = next.get(*node).map_or(&[][..], Vec::as_slice);
            if let Some(&child) = children.get(*i) {
                *i += 1;
                match colour.get(child) {
                    Some(1) => {
                        let start = path.iter().position(|(v, _)| *v == child)?;
                        return Some(path[start..].iter().map(|(v, _)| (*v).clone()).collect());
                    }
                    Some(_) => {}
                    None => {
                        colour.insert(child, 1);
                        path.push((child, 0));
                    }
                }
            } else {
                colour.insert(*node, 2);
                path.pop();
            }
        }
    }
    None
}

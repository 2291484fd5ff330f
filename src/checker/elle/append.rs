//! List-append inference (Elle, section 4): every append is unique, so each element names the
//! transaction that appended it, and each read of a list shows a prefix of the key's version
//! order. From that: the version order of each key (its longest read, which every other read
//! must be a prefix of), the ww, wr and rw dependencies, and the anomalies that need no cycle:
//! G1a (aborted read), G1b (intermediate read), internal, duplicate-elements,
//! incompatible-order, lost-update.

use rustc_hash::FxHashMap;

use super::Finding;
use super::graph::{Edges, RW, TxnId, WR, WW};
use super::txn::{Key, Micro, Txns};
use crate::checker::witness::model_error;
use crate::history::{History, HistoryError, Outcome, Value};

/// What list-append inference learned, beyond the edges it added; its values are borrowed
/// from the history (`'h`).
#[derive(Debug, Default)]
pub struct Orders<'h> {
    /// Per key, its version order (the longest read), when its reads agree.
    pub versions: Vec<Option<&'h [Value]>>,
    /// Who appended each element of each key.
    pub writer: FxHashMap<(Key, &'h Value), TxnId>,
}

impl Orders<'_> {
    pub fn writer_of(&self, key: Key, value: &Value) -> Option<TxnId> {
        self.writer.get(&(key, value)).copied()
    }
}

/// Infers the version orders and dependencies of a list-append history, adding edges to
/// `edges` and the anomalies found on the way to `found`.
pub fn infer<'h>(
    history: &History,
    txns: &Txns<'h>,
    edges: &mut Edges,
    found: &mut Vec<Finding>,
) -> Result<Orders<'h>, HistoryError> {
    let mut orders = Orders {
        versions: vec![None; txns.keys.len()],
        writer: FxHashMap::default(),
    };
    // Per key, the appends of committed (ok) transactions: one no read saw still came after
    // everything any read saw.
    let mut committed_appends: Vec<Vec<(&Value, TxnId)>> = vec![Vec::new(); txns.keys.len()];
    // Per key, whether a failed transaction appended to it: only then can a read show G1a.
    let mut aborted_appends = vec![false; txns.keys.len()];
    for (id, txn) in txns.txns.iter().enumerate() {
        for &micro in &txn.micros {
            let Micro::Append(key, value) = micro else {
                continue;
            };
            match txn.outcome {
                Outcome::Ok => committed_appends[key as usize].push((value, id as TxnId)),
                Outcome::Fail => aborted_appends[key as usize] = true,
                Outcome::Info => {}
            }
            if let Some(other) = orders.writer.insert((key, value), id as TxnId) {
                let op = &history.ops[txn.op];
                let reason = format!(
                    "{} was appended to key {} twice (also by the op invoked at index {}): \
                     list-append needs every appended value to be unique",
                    value,
                    txns.key_name(key),
                    history.ops[txns.txns[other as usize].op].invoke
                );
                return Err(model_error("list-append", op.invoke, reason));
            }
        }
    }
    // Every ok read, per key.
    let mut reads: Vec<Vec<(TxnId, &'h [Value])>> = vec![Vec::new(); txns.keys.len()];
    let mut clean: Vec<Clean> = (0..txns.keys.len()).map(|_| Clean::default()).collect();
    for (id, txn) in txns.txns.iter().enumerate() {
        let id = id as TxnId;
        let op = &history.ops[txn.op];
        for &micro in &txn.micros {
            let Micro::Read(key, Some(value)) = micro else {
                continue;
            };
            let list = value.as_list().ok_or_else(|| {
                let reason = format!("expected a read of a list, found {value}");
                model_error("list-append", op.invoke, reason)
            })?;
            reads[key as usize].push((id, list));
            let read = Read {
                reader: id,
                key,
                list,
            };
            let duplicate = clean[key as usize].first_duplicate(list);
            check_read(
                txns,
                &orders,
                read,
                duplicate,
                aborted_appends[key as usize],
                found,
            );
        }
        internal(txns, id, found);
    }
    // Edges join transactions that may have committed; an aborted one's append read is G1a.
    let committed = |w: TxnId| txns.txns[w as usize].outcome != Outcome::Fail;
    let mut versions = vec![None; txns.keys.len()];
    for (key, key_reads) in reads.iter().enumerate() {
        let key = key as Key;
        let Some(order) = version_order(txns, key, key_reads, found) else {
            continue;
        };
        // Who appended each element of the order, looked up once: every read is a prefix of
        // the order, so a read of `n` elements ends with element `n - 1`, and misses element `n`.
        let appended_by: Vec<Option<TxnId>> =
            order.iter().map(|v| orders.writer_of(key, v)).collect();
        let writer = |i: usize| {
            appended_by
                .get(i)
                .copied()
                .flatten()
                .filter(|&w| committed(w))
        };
        // Appends no read saw: each after the whole order (ww), and after every read of it (rw).
        let seen: rustc_hash::FxHashSet<&Value> = order.iter().collect();
        let last = order.len().checked_sub(1).and_then(writer);
        let full: Vec<TxnId> = key_reads
            .iter()
            .filter(|(_, list)| list.len() == order.len())
            .map(|&(reader, _)| reader)
            .collect();
        for &(value, w) in &committed_appends[key as usize] {
            if seen.contains(value) {
                continue;
            }
            if let Some(last) = last {
                edges.add(last, w, WW);
            }
            for &reader in &full {
                edges.add(reader, w, RW);
            }
        }
        for i in 1..order.len() {
            if let (Some(a), Some(b)) = (writer(i - 1), writer(i)) {
                edges.add(a, b, WW);
            }
        }
        for &(reader, list) in key_reads {
            if let Some(w) = list.len().checked_sub(1).and_then(writer) {
                edges.add(w, reader, WR);
            }
            if let Some(w) = writer(list.len()) {
                edges.add(reader, w, RW);
            }
        }
        dirty_update(txns, key, order, &appended_by, found);
        versions[key as usize] = Some(order);
    }
    orders.versions = versions;
    lost_updates(txns, found);
    Ok(orders)
}

/// One ok read of a list.
#[derive(Clone, Copy)]
struct Read<'t> {
    reader: TxnId,
    key: Key,
    list: &'t [Value],
}

/// Per key, the longest read so far without a duplicate element and where each of its
/// elements sits: reads are mostly prefixes or extensions of each other, so most need no
/// element hashed, and an extension only its new ones.
#[derive(Default)]
struct Clean<'t> {
    list: &'t [Value],
    at: FxHashMap<&'t Value, usize>,
}

impl<'t> Clean<'t> {
    /// The first element of `list` that repeats an earlier one: `(earlier, repeat)`.
    fn first_duplicate(&mut self, list: &'t [Value]) -> Option<(usize, usize)> {
        if self.list.starts_with(list) {
            return None;
        }
        if !list.starts_with(self.list) {
            let mut at: FxHashMap<&Value, usize> = FxHashMap::default();
            return list
                .iter()
                .enumerate()
                .find_map(|(i, e)| at.insert(e, i).map(|first| (first, i)));
        }
        let known = self.list.len();
        for (i, element) in list.iter().enumerate().skip(known) {
            if let Some(&first) = self.at.get(element) {
                for added in &list[known..i] {
                    self.at.remove(added);
                }
                return Some((first, i));
            }
            self.at.insert(element, i);
        }
        self.list = list;
        None
    }
}

/// G1a, G1b and duplicate elements in one read (`duplicate`: the positions of its first
/// repeated element; `aborted`: whether a failed transaction appended to the key).
fn check_read(
    txns: &Txns,
    orders: &Orders,
    Read { reader, key, list }: Read,
    duplicate: Option<(usize, usize)>,
    aborted: bool,
    found: &mut Vec<Finding>,
) {
    if let Some((first, i)) = duplicate {
        found.push(Finding::new(
            "duplicate-elements",
            vec![reader],
            format!(
                "read key {} = {} holding {} twice (positions {first} and {i})",
                txns.key_name(key),
                Value::list(list.iter().cloned()),
                list[i]
            ),
        ));
    }
    for element in list.iter().filter(|_| aborted) {
        if let Some(w) = orders.writer_of(key, element)
            && txns.txns[w as usize].outcome == Outcome::Fail
        {
            found.push(Finding::new(
                "G1a",
                vec![w, reader],
                format!(
                    "read key {} = {}, holding {element}, which a transaction that failed (aborted) appended",
                    txns.key_name(key),
                    Value::list(list.iter().cloned())
                ),
            ));
        }
    }
    let Some(last) = list.last() else { return };
    let Some(w) = orders.writer_of(key, last) else {
        return;
    };
    if w == reader {
        return;
    }
    let final_write = txns.txns[w as usize]
        .micros
        .iter()
        .rev()
        .find_map(|m| match *m {
            Micro::Append(k, v) if k == key => Some(v),
            _ => None,
        });
    if let Some(final_write) = final_write
        && final_write != last
    {
        found.push(Finding::new(
            "G1b",
            vec![w, reader],
            format!(
                "read key {} = {} ending in {last}, an intermediate state of the writer, which appended {final_write} after it",
                txns.key_name(key),
                Value::list(list.iter().cloned()),
            ),
        ));
    }
}

/// Internal consistency: within a transaction, a read of a key must show the transaction's
/// own earlier appends (at its end), and equal an earlier read of it plus the appends since.
fn internal(txns: &Txns, id: TxnId, found: &mut Vec<Finding>) {
    // A key's first micro-op is always consistent: only a key met twice needs the check.
    let micros = &txns.txns[id as usize].micros;
    let key = |m: &Micro| match m {
        Micro::Append(k, _) | Micro::Write(k, _) | Micro::Read(k, _) => *k,
    };
    let repeats = micros
        .iter()
        .enumerate()
        .any(|(i, m)| micros[..i].iter().any(|earlier| key(earlier) == key(m)));
    if !repeats {
        return;
    }
    // Per key: what the transaction knows the list must be (when it read it), or must end with.
    let mut known: FxHashMap<Key, (Option<&[Value]>, Vec<Value>)> = FxHashMap::default();
    for micro in micros {
        match *micro {
            Micro::Append(key, value) => known.entry(key).or_default().1.push(value.clone()),
            Micro::Read(key, Some(Value::List(list))) => {
                let (read, appended) = known.entry(key).or_default();
                let ok = match read {
                    Some(read) => {
                        list.len() == read.len() + appended.len()
                            && list.starts_with(read)
                            && list.ends_with(appended)
                    }
                    None => list.ends_with(appended),
                };
                if !ok {
                    let expected = match read {
                        Some(read) => format!(
                            "{}",
                            Value::list(read.iter().chain(appended.iter()).cloned())
                        ),
                        None => {
                            format!("a list ending in {}", Value::list(appended.iter().cloned()))
                        }
                    };
                    found.push(Finding::new(
                        "internal",
                        vec![id],
                        format!(
                            "read key {} = {} where its own earlier operations imply {expected}",
                            txns.key_name(key),
                            Value::list(list.iter().cloned())
                        ),
                    ));
                }
                *read = Some(list);
                appended.clear();
            }
            _ => {}
        }
    }
}

/// The version order of a key: its longest read. Every other read must be a prefix of it;
/// when one is not, the key has no order (incompatible-order) and gets no edges.
fn version_order<'h>(
    txns: &Txns,
    key: Key,
    reads: &[(TxnId, &'h [Value])],
    found: &mut Vec<Finding>,
) -> Option<&'h [Value]> {
    let Some(&(longest_by, longest)) = reads.iter().max_by_key(|(_, list)| list.len()) else {
        return Some(&[]);
    };
    for &(reader, list) in reads {
        if !longest.starts_with(list) {
            found.push(Finding::new(
                "incompatible-order",
                vec![reader, longest_by],
                format!(
                    "two reads of key {} disagree on its order: {} is not a prefix of {}",
                    txns.key_name(key),
                    Value::list(list.iter().cloned()),
                    Value::list(longest.iter().cloned())
                ),
            ));
            return None;
        }
    }
    Some(longest)
}

/// Lost update: two committed transactions read the same version of a key and both appended
/// to it; one of the appends was made without seeing the other.
fn lost_updates(txns: &Txns, found: &mut Vec<Finding>) {
    let mut by_version: FxHashMap<(Key, usize), Vec<TxnId>> = FxHashMap::default();
    for (id, txn) in txns.txns.iter().enumerate() {
        if txn.outcome != Outcome::Ok {
            continue;
        }
        // Transactions are short: a few keys, so vectors beat maps.
        let mut read_first: Vec<(Key, usize)> = Vec::new();
        let mut done: Vec<Key> = Vec::new();
        for micro in &txn.micros {
            match micro {
                Micro::Read(key, Some(Value::List(list)))
                    if !done.contains(key) && !read_first.iter().any(|(k, _)| k == key) =>
                {
                    read_first.push((*key, list.len()));
                }
                Micro::Append(key, _) if !done.contains(key) => {
                    done.push(*key);
                    if let Some(&(_, len)) = read_first.iter().find(|(k, _)| k == key) {
                        by_version.entry((*key, len)).or_default().push(id as TxnId);
                    }
                }
                _ => {}
            }
        }
    }
    let mut groups: Vec<((Key, usize), Vec<TxnId>)> = by_version
        .into_iter()
        .filter(|(_, t)| t.len() > 1)
        .collect();
    groups.sort_unstable();
    for ((key, len), writers) in groups {
        found.push(Finding::new(
            "lost-update",
            writers.clone(),
            format!(
                "{} transactions read key {} at the same version (its first {len} elements) and each appended to it",
                writers.len(),
                txns.key_name(key)
            ),
        ));
    }
}

/// Elle's dirty update: in `key`'s version order a committed (or possibly committed) append
/// follows one that a failed (aborted) transaction made, so it built on a state that never
/// existed. One finding per aborted append, naming the first committed append after it
/// (`appended_by`: who appended each element of `order`).
fn dirty_update(
    txns: &Txns,
    key: Key,
    order: &[Value],
    appended_by: &[Option<TxnId>],
    found: &mut Vec<Finding>,
) {
    let outcome = |w: TxnId| txns.txns[w as usize].outcome;
    let mut aborted: Option<(TxnId, &Value)> = None;
    for (value, &w) in order.iter().zip(appended_by) {
        let Some(w) = w else {
            continue;
        };
        match (outcome(w), aborted) {
            (Outcome::Fail, None) => aborted = Some((w, value)),
            (Outcome::Fail, Some(_)) => {}
            (_, Some((a, x))) => {
                found.push(Finding::new(
                    "dirty-update",
                    vec![a, w],
                    format!(
                        "appended to key {}: {x} by a transaction that failed (aborted), then \
                         {value} after it by one that committed, building on the aborted write",
                        txns.key_name(key)
                    ),
                ));
                aborted = None;
            }
            (_, None) => {}
        }
    }
}

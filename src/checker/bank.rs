//! Decides whether every read of a bank saw all of its money and no overdraft: Jepsen's bank
//! checker (jepsen.tests.bank, `checker` and `check-op`), with elle-cli's inference of the
//! accounts and the total from the first ok read.
//!
//! Operations: `transfer` (value `{from A, to B, amount N}`) moves money between two accounts;
//! `read` (ok value: a map account → balance) sees every balance at once. Under snapshot
//! isolation a read sees the state between whole transfers, so every ok read is judged:
//! - **wrong-total**: its balances do not sum to the total: the model's, or, when none is
//!   given, the sum of the first ok read (in completion order, as Jepsen orders reads);
//! - **negative**: a balance is below zero, unless negative balances are allowed (Jepsen's
//!   `negative-value`);
//! - **unexpected-key**: an account the first ok read did not have (the accounts are fixed);
//! - **nil-balance**: an account without a balance; such a read has no sum, so it is not
//!   judged for wrong-total.
//!
//! Jepsen reports only the first failing check of a read (unexpected-key, nil-balance,
//! wrong-total, negative, in that order); this checker reports each, so one read may witness
//! two anomalies, and `counts.bad-reads` is Jepsen's `error-count`. Transfers are counted, not
//! judged: the reads alone carry the invariant. Account keys may be integers or strings
//! (elle-cli's JSON writes `"0"` where the EDN has `0`); an integer and its decimal string are
//! the same account. A history without an ok read is `unknown`.
//! Cost: one pass over the reads, O(total read size · log accounts).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::json;

use super::witness::{AnomalyLog, anomaly, counts, ended, model_error, secs};
use super::{Anomaly, CheckerResult};
use crate::history::{History, HistoryError, Op, Outcome, Value};

const MODEL: &str = "bank";

/// At most this many `(time, total)` points go into `stats.totals`; longer series are
/// downsampled, keeping in each bucket the read furthest from the expected total.
pub const MAX_SERIES_POINTS: usize = 1000;

/// Reads with at most this many accounts show their balances in explanations.
const BALANCES_IN_WORDS: usize = 12;

/// Checks a bank history (see the module docs). `total` is the money the bank holds; `None`
/// takes it from the first ok read.
pub fn check(
    history: &History,
    total: Option<i64>,
    negative_allowed: bool,
) -> Result<CheckerResult, HistoryError> {
    let transfers = Transfers::count(history);
    let reads = ok_reads(history)?;
    let Some(first) = reads.first() else {
        let reason = "no ok read: no balance was ever observed, so nothing was checked";
        let counts = transfers.counts(0, 0);
        return Ok(AnomalyLog::default().finish(Some(reason), counts, BTreeMap::new()));
    };
    let expected = Expected::new(total, &reads);
    let mut judge = Judge {
        accounts: first.balances.iter().map(|(a, _)| a).collect(),
        accounts_from: first.op,
        expected: &expected,
        negative_allowed,
        log: AnomalyLog::default(),
        bad: Vec::new(),
        worst: BTreeMap::new(),
    };
    for read in &reads {
        judge.read(read);
    }
    let mut stats = judge.stats(&reads);
    stats.insert("totals".into(), totals_series(&reads, expected.total));
    let mut counts = transfers.counts(reads.len() as u64, judge.bad.len() as u64);
    for kind in ["wrong-total", "negative", "unexpected-key", "nil-balance"] {
        counts.insert(kind.to_owned(), judge.log.total(kind));
    }
    Ok(judge.log.finish(None, counts, stats))
}

/// An account, as a read's key names it: `0` and `"0"` are the same account.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Account {
    Int(i64),
    Name(Box<str>),
}

impl Account {
    fn of(key: &Value) -> Account {
        match key {
            Value::Int(i) => Account::Int(*i),
            // Only the canonical decimal form is a number: "007" and "+7" stay names.
            Value::Str(s) => match s.parse::<i64>() {
                Ok(i) if i.to_string() == **s => Account::Int(i),
                _ => Account::Name(s.clone()),
            },
            other => Account::Name(other.to_string().into()),
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Int(i) => write!(f, "{i}"),
            Account::Name(s) => f.write_str(s),
        }
    }
}

/// One ok read: its balances by account, and their sum when none is nil.
struct Read<'h> {
    op: &'h Op,
    /// Sorted by account; `None` is a nil balance.
    balances: Vec<(Account, Option<i64>)>,
    sum: Option<i128>,
}

impl Read<'_> {
    /// The completion's index: Jepsen's `:index` of the read.
    fn ok_index(&self) -> u64 {
        self.op.complete.expect("an ok op has completed")
    }

    fn balances_json(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .balances
            .iter()
            .map(|(a, b)| (a.to_string(), json!(b)))
            .collect();
        serde_json::Value::Object(map)
    }

    /// `{0 99, 1 0, 2 1}`, or `10 accounts` when there are too many to read.
    fn balances_words(&self) -> String {
        if self.balances.len() > BALANCES_IN_WORDS {
            return format!("{} accounts", self.balances.len());
        }
        let shown: Vec<String> = self
            .balances
            .iter()
            .map(|(a, b)| match b {
                Some(b) => format!("{a} {b}"),
                None => format!("{a} nil"),
            })
            .collect();
        format!("{{{}}}", shown.join(", "))
    }
}

/// The ok reads in completion order, each parsed into balances.
fn ok_reads(history: &History) -> Result<Vec<Read<'_>>, HistoryError> {
    let mut reads = history
        .ops
        .iter()
        .filter(|op| &*op.f == "read" && op.outcome == Outcome::Ok)
        .map(parse_read)
        .collect::<Result<Vec<_>, _>>()?;
    reads.sort_unstable_by_key(Read::ok_index);
    Ok(reads)
}

fn parse_read(op: &Op) -> Result<Read<'_>, HistoryError> {
    let index = op.complete.expect("an ok op has completed");
    let Value::Map(entries) = &op.value else {
        let reason = format!(
            "an ok read's value must be a map from account to balance, found {}",
            op.value
        );
        return Err(model_error(MODEL, index, reason));
    };
    let mut balances = Vec::with_capacity(entries.len());
    for (key, balance) in entries.iter() {
        let balance = match balance {
            Value::Nil => None,
            other => Some(integer(other).ok_or_else(|| {
                let reason =
                    format!("account {key}'s balance must be an integer or nil, found {other}");
                model_error(MODEL, index, reason)
            })?),
        };
        balances.push((Account::of(key), balance));
    }
    balances.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    if let Some(pair) = balances.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        let reason = format!("account {} appears twice in one read", pair[0].0);
        return Err(model_error(MODEL, index, reason));
    }
    let sum = balances.iter().map(|(_, b)| b.map(i128::from)).sum();
    Ok(Read { op, balances, sum })
}

/// The integer a balance holds, accepting a float that is an exact integer (`5.0`).
fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Some(*x as i64),
        _ => None,
    }
}

/// How the transfers ended; they are counted, not judged.
#[derive(Default)]
struct Transfers {
    ok: u64,
    fail: u64,
    info: u64,
}

impl Transfers {
    fn count(history: &History) -> Transfers {
        let mut t = Transfers::default();
        for op in history.ops.iter().filter(|op| &*op.f == "transfer") {
            match op.outcome {
                Outcome::Ok => t.ok += 1,
                Outcome::Fail => t.fail += 1,
                Outcome::Info => t.info += 1,
            }
        }
        t
    }

    fn counts(&self, reads: u64, bad_reads: u64) -> BTreeMap<String, u64> {
        counts([
            ("reads", reads),
            ("bad-reads", bad_reads),
            ("ok-transfers", self.ok),
            ("fail-transfers", self.fail),
            ("info-transfers", self.info),
        ])
    }
}

/// The total every read must sum to, and where it came from.
struct Expected {
    total: Option<i128>,
    /// `the model's total` or `the sum of the first ok read, ok at index 1`.
    source: String,
}

impl Expected {
    /// The model's total, else the sum of the first ok read without a nil balance.
    fn new(total: Option<i64>, reads: &[Read]) -> Expected {
        if let Some(total) = total {
            return Expected {
                total: Some(i128::from(total)),
                source: "the model's total".into(),
            };
        }
        match reads.iter().find_map(|r| Some((r.sum?, r.ok_index()))) {
            Some((sum, index)) => Expected {
                total: Some(sum),
                source: format!("the sum of the first ok read, ok at index {index}"),
            },
            None => Expected {
                total: None,
                source: "unknown: every ok read has a nil balance".into(),
            },
        }
    }

    fn json(&self) -> serde_json::Value {
        self.total.map_or(serde_json::Value::Null, number)
    }
}

/// An i128 as a JSON number: exact when it fits in an i64.
fn number(n: i128) -> serde_json::Value {
    i64::try_from(n).map_or_else(|_| json!(n as f64), |n| json!(n))
}

/// Judges reads one by one, keeping what the stats need.
struct Judge<'r> {
    /// The accounts of the first ok read.
    accounts: BTreeSet<&'r Account>,
    accounts_from: &'r Op,
    expected: &'r Expected,
    negative_allowed: bool,
    log: AnomalyLog,
    /// `(ok index, completion time)` of every read with an anomaly, in completion order.
    bad: Vec<(u64, u64)>,
    /// Per kind, Jepsen's `worst`: the greatest badness and the read's ok index.
    worst: BTreeMap<&'static str, (f64, u64)>,
}

impl<'r> Judge<'r> {
    fn read(&mut self, read: &Read) {
        let mut found: Vec<(&'static str, f64)> = Vec::new();
        let unexpected: Vec<&Account> = read
            .balances
            .iter()
            .map(|(a, _)| a)
            .filter(|a| !self.accounts.contains(a))
            .collect();
        if !unexpected.is_empty() {
            let badness = unexpected.len() as f64;
            let from = self.accounts_from;
            self.log.record("unexpected-key", || {
                unexpected_key(read, &unexpected, from, badness)
            });
            found.push(("unexpected-key", badness));
        }
        let nils: Vec<&Account> = read
            .balances
            .iter()
            .filter(|(_, b)| b.is_none())
            .map(|(a, _)| a)
            .collect();
        if !nils.is_empty() {
            let badness = nils.len() as f64;
            self.log
                .record("nil-balance", || nil_balance(read, &nils, badness));
            found.push(("nil-balance", badness));
        }
        if let (Some(sum), Some(total)) = (read.sum, self.expected.total)
            && sum != total
        {
            // Jepsen's badness: the relative error; the absolute one when the total is 0.
            let off = (sum - total).abs() as f64;
            let badness = if total == 0 {
                off
            } else {
                off / total.abs() as f64
            };
            let expected = self.expected;
            self.log
                .record("wrong-total", || wrong_total(read, sum, expected, badness));
            found.push(("wrong-total", badness));
        }
        let negative: Vec<(&Account, i64)> = read
            .balances
            .iter()
            .filter_map(|(a, b)| Some((a, (*b)?)))
            .filter(|(_, b)| *b < 0)
            .collect();
        if !self.negative_allowed && !negative.is_empty() {
            let badness = -negative.iter().map(|(_, b)| *b as f64).sum::<f64>();
            self.log
                .record("negative", || negative_balance(read, &negative, badness));
            found.push(("negative", badness));
        }
        self.note(read, &found);
    }

    /// Remembers a bad read for the first/last times and the worst of each kind.
    fn note(&mut self, read: &Read, found: &[(&'static str, f64)]) {
        if found.is_empty() {
            return;
        }
        let index = read.ok_index();
        self.bad
            .push((index, read.op.complete_time.expect("ok op completed")));
        for &(kind, badness) in found {
            let worst = self.worst.entry(kind).or_insert((badness, index));
            if badness > worst.0 {
                *worst = (badness, index);
            }
        }
    }

    fn stats(&self, reads: &[Read]) -> BTreeMap<String, serde_json::Value> {
        let sums = reads.iter().filter_map(|r| r.sum);
        let mut stats = BTreeMap::from([
            ("total".to_owned(), self.expected.json()),
            ("total-source".to_owned(), json!(self.expected.source)),
            ("accounts".to_owned(), json!(self.accounts.len())),
            (
                "accounts-source".to_owned(),
                json!(format!(
                    "the first ok read (ok at index {})",
                    self.accounts_from.complete.expect("ok op completed")
                )),
            ),
            ("negative-allowed".to_owned(), json!(self.negative_allowed)),
            (
                "min-total".to_owned(),
                sums.clone().min().map_or(serde_json::Value::Null, number),
            ),
            (
                "max-total".to_owned(),
                sums.max().map_or(serde_json::Value::Null, number),
            ),
        ]);
        let at = |&(index, time): &(u64, u64)| json!({"ok-index": index, "time": time});
        if let (Some(first), Some(last)) = (self.bad.first(), self.bad.last()) {
            stats.insert("first-bad-read".into(), at(first));
            stats.insert("last-bad-read".into(), at(last));
        }
        if !self.worst.is_empty() {
            let worst: serde_json::Map<_, _> = self
                .worst
                .iter()
                .map(|(kind, (badness, index))| {
                    let entry = json!({"ok-index": index, "badness": badness});
                    ((*kind).to_owned(), entry)
                })
                .collect();
            stats.insert("worst".into(), serde_json::Value::Object(worst));
        }
        stats
    }
}

/// `[[time, total], ...]` by completion time, at most [`MAX_SERIES_POINTS`] of them: a long
/// series keeps, from each run of consecutive reads, the one furthest from the total.
fn totals_series(reads: &[Read], expected: Option<i128>) -> serde_json::Value {
    let points: Vec<(u64, i128)> = reads
        .iter()
        .filter_map(|r| Some((r.op.complete_time?, r.sum?)))
        .collect();
    let per_bucket = points.len().div_ceil(MAX_SERIES_POINTS).max(1);
    let off = |sum: i128| expected.map_or(0, |total| (sum - total).abs());
    let series: Vec<serde_json::Value> = points
        .chunks(per_bucket)
        .filter_map(|bucket| {
            // The first of the furthest, so a bucket of equal totals keeps its first read.
            let furthest = bucket.iter().map(|(_, s)| off(*s)).max()?;
            let &(time, sum) = bucket.iter().find(|(_, s)| off(*s) == furthest)?;
            Some(json!([time, number(sum)]))
        })
        .collect();
    serde_json::Value::Array(series)
}

/// The details every bank anomaly shares.
fn details(read: &Read, badness: f64) -> serde_json::Value {
    json!({
        "read-index": read.op.invoke,
        "ok-index": read.ok_index(),
        "balances": read.balances_json(),
        "sum": read.sum.map_or(serde_json::Value::Null, number),
        "badness": badness,
    })
}

/// "the read invoked at index 4 (1.2 s)".
fn the_read(read: &Read) -> String {
    format!(
        "the read invoked at index {} ({})",
        read.op.invoke,
        secs(read.op.invoke_time)
    )
}

fn wrong_total(read: &Read, sum: i128, expected: &Expected, badness: f64) -> Anomaly {
    let total = expected.total.expect("only judged against a known total");
    let (off, more, money) = match sum > total {
        true => (sum - total, "more", "created"),
        false => (total - sum, "less", "destroyed"),
    };
    let explanation = format!(
        "{} saw balances {} summing to {sum}, {off} {more} than the bank holds ({total}, {}): \
         money was {money}, or the read saw part of a transfer [read {}]",
        the_read(read),
        read.balances_words(),
        expected.source,
        ended(read.op),
    );
    let mut details = details(read, badness);
    details["total"] = number(total);
    anomaly("wrong-total", [read.op], explanation, details)
}

fn negative_balance(read: &Read, negative: &[(&Account, i64)], badness: f64) -> Anomaly {
    let listed: Vec<String> = negative.iter().map(|(a, b)| format!("{a} {b}")).collect();
    let explanation = format!(
        "{} saw {} below zero ({}), and this bank does not allow negative balances [read {}]",
        the_read(read),
        plural(negative.len(), "a balance", "balances"),
        listed.join(", "),
        ended(read.op),
    );
    let mut details = details(read, badness);
    details["negative"] = negative
        .iter()
        .map(|(a, b)| (a.to_string(), json!(b)))
        .collect::<serde_json::Map<_, _>>()
        .into();
    anomaly("negative", [read.op], explanation, details)
}

fn unexpected_key(read: &Read, unexpected: &[&Account], from: &Op, badness: f64) -> Anomaly {
    let listed: Vec<String> = unexpected.iter().map(|a| a.to_string()).collect();
    let explanation = format!(
        "{} saw {} {}, which the first ok read (ok at index {}) did not have: a bank's \
         accounts are fixed [read {}]",
        the_read(read),
        plural(unexpected.len(), "account", "accounts"),
        listed.join(", "),
        from.complete.expect("ok op completed"),
        ended(read.op),
    );
    let mut details = details(read, badness);
    details["unexpected"] = json!(listed);
    anomaly("unexpected-key", [read.op], explanation, details)
}

fn nil_balance(read: &Read, nils: &[&Account], badness: f64) -> Anomaly {
    let listed: Vec<String> = nils.iter().map(|a| a.to_string()).collect();
    let explanation = format!(
        "{} saw no balance (nil) for {} {}, so its total cannot be summed [read {}]",
        the_read(read),
        plural(nils.len(), "account", "accounts"),
        listed.join(", "),
        ended(read.op),
    );
    let mut details = details(read, badness);
    details["nils"] = json!(listed);
    anomaly("nil-balance", [read.op], explanation, details)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
#[path = "bank_tests.rs"]
mod tests;

//! Reading views out of a history: which ok reads each view had, which convergence-phase round
//! each belongs to, and the record helpers every relation shares (ids by their text, fields,
//! loose equality). Parsing happens once, borrowing from the history: a snapshot of a round is
//! a map of slices, never a copy of the records.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::super::witness::model_error;
use crate::history::{History, HistoryError, Op, Outcome, Value};

const MODEL: &str = "relations";

/// The records each view held at one moment (a round, or the last reads), borrowed.
pub type Snapshot<'a> = BTreeMap<&'a str, &'a [Value]>;

/// One ok read of a view.
#[derive(Clone, Copy, Debug)]
pub struct ViewRead<'h> {
    pub op: &'h Op,
    pub records: &'h [Value],
}

/// The reads of one convergence-phase round.
#[derive(Debug)]
pub struct RoundReads<'h> {
    /// The round's number as the runner wrote it (1, 2, ...).
    pub number: i64,
    /// The ok read of each view in this round (the last one, should a view be read twice).
    pub reads: BTreeMap<&'h str, ViewRead<'h>>,
    /// Every read of the round, ok or not, in invocation order.
    pub ops: Vec<&'h Op>,
}

impl<'h> RoundReads<'h> {
    /// What each view held in this round (views not read ok are absent).
    pub fn snapshot(&self) -> Snapshot<'h> {
        self.reads.iter().map(|(&v, r)| (v, r.records)).collect()
    }

    /// When the round's first read was invoked.
    pub fn start(&self) -> u64 {
        self.ops.iter().map(|op| op.invoke_time).min().unwrap_or(0)
    }

    /// When the round's last read completed (a read that never completed: its invocation).
    pub fn end(&self) -> u64 {
        let end = |op: &&Op| op.complete_time.unwrap_or(op.invoke_time);
        self.ops.iter().map(end).max().unwrap_or(0)
    }

    /// The read of `view` in this round, if it ended ok.
    pub fn read(&self, view: &str) -> Option<ViewRead<'h>> {
        self.reads.get(view).copied()
    }
}

/// Every view read in a history.
#[derive(Debug, Default)]
pub struct Views<'h> {
    /// Each view's ok reads, main phase and rounds, in invocation order.
    pub reads: BTreeMap<&'h str, Vec<ViewRead<'h>>>,
    /// The convergence-phase rounds, by ascending number.
    pub rounds: Vec<RoundReads<'h>>,
}

impl<'h> Views<'h> {
    /// Finds every `view:NAME` op; an ok read whose value is not `{"records": [...]}` makes
    /// the history malformed for the relations.
    pub fn from_history(history: &'h History) -> Result<Views<'h>, HistoryError> {
        let mut views = Views::default();
        let mut rounds: BTreeMap<i64, RoundReads<'h>> = BTreeMap::new();
        for op in &history.ops {
            let Some(view) = op.f.strip_prefix("view:") else {
                continue;
            };
            let read = match op.outcome {
                Outcome::Ok => Some(ViewRead {
                    op,
                    records: records(op)?,
                }),
                _ => None,
            };
            if let Some(read) = read {
                views.reads.entry(view).or_default().push(read);
            }
            let Some(number) = entry(&op.value, "round").and_then(Value::as_int) else {
                continue;
            };
            let round = rounds.entry(number).or_insert_with(|| RoundReads {
                number,
                reads: BTreeMap::new(),
                ops: Vec::new(),
            });
            round.ops.push(op);
            if let Some(read) = read {
                round.reads.insert(view, read);
            }
        }
        views.rounds = rounds.into_values().collect();
        Ok(views)
    }

    /// The ok reads of `view` (none if it was never read ok).
    pub fn of(&self, view: &str) -> &[ViewRead<'h>] {
        self.reads.get(view).map_or(&[], Vec::as_slice)
    }

    /// The read of `view` a final judgement uses: its read in the latest round that read it
    /// ok, else its last ok read of all.
    pub fn last(&self, view: &str) -> Option<ViewRead<'h>> {
        let in_rounds = self.rounds.iter().rev().find_map(|round| round.read(view));
        in_rounds.or_else(|| self.of(view).last().copied())
    }
}

/// The records of an ok view read.
fn records(op: &Op) -> Result<&[Value], HistoryError> {
    match entry(&op.value, "records").and_then(Value::as_list) {
        Some(records) => Ok(records),
        None => {
            let index = op.complete.expect("an ok op has completed");
            let reason = format!(
                "an ok read of {} must be {{\"records\": [...]}}, found {}",
                op.f, op.value
            );
            Err(model_error(MODEL, index, reason))
        }
    }
}

/// The value of `key` in a map value, if it is a map holding it.
pub fn entry<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    match value {
        Value::Map(entries) => entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

const NIL: &Value = &Value::Nil;

/// A record's field (`nil` when the record lacks it, as the view contract says).
pub fn field<'v>(record: &'v Value, name: &str) -> &'v Value {
    entry(record, name).unwrap_or(NIL)
}

/// A value as an id: its text, so the integer 17 and the string "17" are the same id.
pub fn text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Str(s) => Cow::Borrowed(s),
        other => Cow::Owned(other.to_string()),
    }
}

/// A record's id, by its text.
pub fn id(record: &Value) -> Cow<'_, str> {
    text(field(record, "id"))
}

/// Equality as filters and record comparison use it: `Value` equality, except that an
/// integer equals its decimal string (as ids do).
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(_), Value::Int(_) | Value::Float(_))
        | (Value::Int(_) | Value::Float(_), Value::Str(_)) => text(a) == text(b),
        _ => a == b,
    }
}

/// A record's fields other than `id`, without nil ones (a missing field is nil), sorted by
/// name with values as text: two records hold the same facts exactly when these are equal.
pub fn facts(record: &Value) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
    let mut facts: Vec<_> = match record {
        Value::Map(entries) => entries
            .iter()
            .filter(|(k, v)| k.as_str() != Some("id") && !v.is_nil())
            .map(|(k, v)| (text(k), text(v)))
            .collect(),
        _ => Vec::new(),
    };
    facts.sort();
    facts
}

/// Orders ids for people: numbers numerically, before other text.
pub fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<i128>(), b.parse::<i128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Ids for people: `17, 23 and 3 more`.
pub fn list_ids<S: AsRef<str>>(ids: &[S], shown: usize) -> String {
    let mut text: Vec<&str> = ids.iter().take(shown).map(AsRef::as_ref).collect();
    let more = ids.len().saturating_sub(shown);
    let tail = (more > 0).then(|| format!("and {more} more"));
    if let Some(tail) = &tail {
        text.push(tail);
    }
    text.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_id_and_its_decimal_string_are_the_same_id() {
        assert_eq!(text(&Value::Int(17)), text(&Value::from("17")));
        assert!(loose_eq(&Value::Int(17), &Value::from("17")));
        assert!(!loose_eq(&Value::Int(17), &Value::from("18")));
        assert!(!loose_eq(&Value::Nil, &Value::from("nil")));
    }

    #[test]
    fn ids_are_listed_with_a_count_of_the_rest() {
        assert_eq!(list_ids(&["1", "2", "3"], 2), "1, 2, and 1 more");
        assert_eq!(list_ids(&["1"], 2), "1");
    }
}

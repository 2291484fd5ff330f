//! The bank's part of a workload file (Jepsen's bank, `kind = "bank"`): its options
//! (`accounts`, `total`, `max_amount`, `negative_allowed`, each an error on another model) and
//! its read's pointers (`records`, `account`, `balance`), checked into a `ValueSpec` and an
//! `Extract` the generator and the HTTP client trust.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::cx::Cx;
use super::error::WorkloadError;
use super::plan::{Extract, ValueSpec};
use super::raw::{RawModel, RawOp};
use super::validate::MISSING_RECORDS;
use crate::history::Value;

/// The first bank-only option the model sets, with its span: each is an error elsewhere.
pub(super) fn bank_option(model: &RawModel) -> Option<(&'static str, Range<usize>)> {
    [
        ("accounts", model.accounts.as_ref().map(Spanned::span)),
        ("total", model.total.as_ref().map(Spanned::span)),
        ("max_amount", model.max_amount.as_ref().map(Spanned::span)),
        (
            "negative_allowed",
            model.negative_allowed.as_ref().map(Spanned::span),
        ),
    ]
    .into_iter()
    .find_map(|(name, span)| Some((name, span?)))
}

/// Transfers move 5 at most unless `max_amount` says otherwise.
const DEFAULT_MAX_AMOUNT: i64 = 5;

/// A bank's `accounts` (required: at least two, distinct, integers or strings) and
/// `max_amount` (at least 1).
pub(super) fn check_transfers(
    cx: &Cx,
    raw: &RawModel,
    span: Range<usize>,
) -> Result<ValueSpec, WorkloadError> {
    let Some(list) = &raw.accounts else {
        return Err(cx.span(
            Some(span),
            "model.accounts",
            "missing accounts = [0, 1, 2, ...]: kind = \"bank\" needs the ids of the accounts \
             transfers move money between (integers or strings)"
                .to_owned(),
        ));
    };
    if list.get_ref().len() < 2 {
        return Err(cx.at(
            list,
            "model.accounts",
            format!(
                "expected at least two accounts (a transfer moves money from one to another), \
                 found {}",
                list.get_ref().len()
            ),
        ));
    }
    let mut accounts = Vec::new();
    // By text: the checker takes 0 and "0" for the same account.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, account) in list.get_ref().iter().enumerate() {
        let field = format!("model.accounts[{i}]");
        let (value, text) = match account.get_ref() {
            toml::Value::Integer(n) => (Value::Int(*n), n.to_string()),
            toml::Value::String(s) if !s.is_empty() => (Value::from(s.as_str()), s.clone()),
            other => {
                return Err(cx.at(
                    account,
                    &field,
                    format!(
                        "expected an account id, an integer or a non-empty string, found {other}"
                    ),
                ));
            }
        };
        if let Some(first) = seen.insert(text.clone(), i) {
            return Err(cx.at(
                account,
                &field,
                format!(
                    "account {text} is listed twice (also accounts[{first}]); accounts must be \
                     distinct (an integer and its decimal string are the same account)"
                ),
            ));
        }
        accounts.push(value);
    }
    let max_amount = match &raw.max_amount {
        Some(n) => cx.int_in(n, "model.max_amount", 1, i64::MAX)?,
        None => DEFAULT_MAX_AMOUNT,
    };
    Ok(ValueSpec::Transfers {
        accounts,
        max_amount,
    })
}

/// A bank read: `records`, `account` and `balance`, all required; no `element` or `value`.
pub(super) fn check_balances(
    cx: &Cx,
    op: &Spanned<RawOp>,
    field: &str,
) -> Result<Extract, WorkloadError> {
    let raw = op.get_ref();
    for (name, pointer) in [("element", &raw.element), ("value", &raw.value)] {
        if let Some(s) = pointer {
            return Err(cx.at(s, &format!("{field}.{name}"), BALANCES_NOT_VALUE));
        }
    }
    let required = |pointer: &Option<Spanned<String>>, missing: &str| {
        pointer
            .as_ref()
            .map(|p| p.get_ref().clone())
            .ok_or_else(|| cx.at(op, field, missing.to_owned()))
    };
    Ok(Extract::Balances {
        records: required(&raw.records, MISSING_RECORDS)?,
        account: required(&raw.account, MISSING_ACCOUNT)?,
        balance: required(&raw.balance, MISSING_BALANCE)?,
    })
}

pub(super) const NOT_A_BANK_READ: &str = "account and balance are the pointers of a bank's read \
     (kind = \"bank\", [model.ops.read]); this operation takes neither";
const BALANCES_NOT_VALUE: &str = "a bank read gives a balance per account: use records, account \
     and balance pointers, not element or value";
const MISSING_ACCOUNT: &str = "missing account = \"/pointer\": the JSON pointer to each record's \
     account id, inside the record (\"/id\" for {\"id\": 0, \"balance\": 100})";
const MISSING_BALANCE: &str = "missing balance = \"/pointer\": the JSON pointer to each record's \
     balance, inside the record (\"/balance\" for {\"id\": 0, \"balance\": 100})";

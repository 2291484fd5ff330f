//! The primary's bank: accounts 0..N-1 whose balances move by transfers and must always sum
//! to what the bank started with (Jepsen's bank test). The `racy-transfer` and
//! `no-funds-check` switches live here.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// How long a racy transfer holds the debited money outside the lock before crediting it: the
/// window in which a read sees it missing.
pub const RACE_WINDOW: Duration = Duration::from_millis(1);

/// The accounts and their balances, and which bugs are on.
pub struct Bank {
    balances: Mutex<BTreeMap<i64, i64>>,
    /// Debit, release the lock, sleep, then credit.
    racy: bool,
    /// Transfer without checking the balance: overdrafts.
    no_funds_check: bool,
}

impl Bank {
    /// Accounts `0..accounts`, each holding `balance`.
    pub fn new(accounts: i64, balance: i64, racy: bool, no_funds_check: bool) -> Bank {
        Bank {
            balances: Mutex::new((0..accounts).map(|id| (id, balance)).collect()),
            racy,
            no_funds_check,
        }
    }
}

type S = State<Arc<Bank>>;

/// `POST /transfer` and `GET /accounts`.
pub fn routes(bank: Bank) -> Router {
    Router::new()
        .route("/accounts", get(read_accounts))
        .route("/transfer", post(transfer))
        .with_state(Arc::new(bank))
}

async fn read_accounts(State(bank): S) -> Json<Value> {
    let balances = bank.balances.lock().await;
    let accounts: Vec<Value> = balances
        .iter()
        .map(|(id, balance)| json!({ "id": id, "balance": balance }))
        .collect();
    Json(json!({ "accounts": accounts }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    from: i64,
    to: i64,
    amount: i64,
}

type Reply = (StatusCode, Json<Value>);

/// Moves `amount` from `from` to `to`, atomically: 200 `{"ok":true}`; 409 if `from` holds
/// less (nothing changes); 404 for an unknown account; 400 for a body that is not
/// `{"from","to","amount"}` with two different accounts and an amount of at least 1.
async fn transfer(State(bank): S, body: Bytes) -> Reply {
    let t: Transfer = match serde_json::from_slice(&body) {
        Ok(t) => t,
        Err(e) => return error(StatusCode::BAD_REQUEST, &format!("bad body: {e}")),
    };
    if t.amount < 1 {
        return error(StatusCode::BAD_REQUEST, "amount must be at least 1");
    }
    if t.from == t.to {
        return error(StatusCode::BAD_REQUEST, "from and to are the same account");
    }
    let mut balances = bank.balances.lock().await;
    if !balances.contains_key(&t.from) || !balances.contains_key(&t.to) {
        return error(StatusCode::NOT_FOUND, "unknown account");
    }
    let from = balances.get_mut(&t.from).expect("checked above");
    if !bank.no_funds_check && *from < t.amount {
        return error(StatusCode::CONFLICT, "insufficient funds");
    }
    *from -= t.amount;
    if bank.racy {
        // The bug: the money is in neither account while the lock is free.
        drop(balances);
        tokio::time::sleep(RACE_WINDOW).await;
        balances = bank.balances.lock().await;
    }
    *balances
        .get_mut(&t.to)
        .expect("accounts are fixed at startup") += t.amount;
    (StatusCode::OK, Json(json!({ "ok": true })))
}

fn error(status: StatusCode, message: &str) -> Reply {
    (status, Json(json!({ "error": message })))
}

//! A replica: a read model that pulls the primary's changes every poll interval and serves its
//! copy of the items. Without bugs it holds exactly the primary's items one poll after writes
//! stop. The `drop-every` and `lag` switches live here.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::MissedTickBehavior;

use crate::bugs::Bugs;
use crate::change::{Change, Changes, now_ms};
use crate::primary::items_body;

/// Where the replica pulls from, how often, and which bugs it has.
#[derive(Clone, Debug)]
pub struct Config {
    /// The primary's base URL, `http://127.0.0.1:8080`.
    pub primary: String,
    pub poll: Duration,
    pub bugs: Bugs,
}

#[derive(Default)]
struct Data {
    /// id → the primary's seq, of the applied changes.
    items: BTreeMap<i64, u64>,
    /// The highest seq pulled (applied, held back, or dropped): the next pull asks for later.
    last: u64,
    /// Changes pulled so far, for `drop-every`.
    pulled: u64,
    /// Pulled, kept, not yet due (`lag`), in seq order.
    pending: VecDeque<Change>,
}

struct Replica {
    config: Config,
    data: Mutex<Data>,
}

type S = State<Arc<Replica>>;

/// Serves the replica on a bound listener and pulls from the primary until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> std::io::Result<()> {
    let replica = Arc::new(Replica {
        config,
        data: Mutex::new(Data::default()),
    });
    let app = Router::new()
        .route("/health", get(health))
        .route("/items", get(read_items))
        .with_state(replica.clone());
    tokio::select! {
        served = axum::serve(listener, app) => served,
        never = pull_forever(replica) => match never {},
    }
}

async fn health(State(r): S) -> Json<Value> {
    let data = r.data.lock().await;
    Json(json!({ "status": "ok", "last_seq": data.last }))
}

async fn read_items(State(r): S) -> Json<Value> {
    Json(items_body(&r.data.lock().await.items))
}

/// Every poll interval: pull the changes after the last one seen, then apply those due. A
/// failed pull is retried at the next tick; the first failure of an outage is logged.
async fn pull_forever(replica: Arc<Replica>) -> std::convert::Infallible {
    let client = reqwest::Client::builder()
        .timeout(replica.config.poll.max(Duration::from_secs(2)))
        .build()
        .expect("a client without TLS or proxies from the environment always builds");
    let base = replica.config.primary.trim_end_matches('/').to_owned();
    let mut tick = tokio::time::interval(replica.config.poll);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        let after = replica.data.lock().await.last;
        match pull(&client, &base, after).await {
            Ok(changes) => {
                if failing {
                    eprintln!("replicas replica: pulling from {base} again");
                    failing = false;
                }
                replica.take(changes).await;
            }
            Err(e) if !failing => {
                eprintln!("replicas replica: failed to pull from {base}: {e}");
                failing = true;
            }
            Err(_) => {}
        }
        replica.apply_due().await;
    }
}

async fn pull(client: &reqwest::Client, base: &str, after: u64) -> reqwest::Result<Vec<Change>> {
    let url = format!("{base}/changes?after={after}");
    let body: Changes = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(body.changes)
}

impl Replica {
    /// Takes pulled changes: drops every Nth (`drop-every`), queues the rest.
    async fn take(&self, changes: Vec<Change>) {
        let every = self.config.bugs.drop_every;
        let mut data = self.data.lock().await;
        for change in changes {
            if change.seq <= data.last {
                continue; // a pull that raced an earlier one: already taken
            }
            data.last = change.seq;
            data.pulled += 1;
            if every > 0 && data.pulled.is_multiple_of(every) {
                continue;
            }
            data.pending.push_back(change);
        }
    }

    /// Applies the queued changes whose time has come: all of them, or with `lag` those the
    /// primary recorded at least `lag` ago (in seq order, so one not yet due holds back the
    /// rest).
    async fn apply_due(&self) {
        let lag = self.config.bugs.lag_ms;
        let now = now_ms();
        let mut data = self.data.lock().await;
        while let Some(change) = data.pending.front() {
            if change.at_ms.saturating_add(lag) > now {
                break;
            }
            let change = data.pending.pop_front().expect("front() just returned it");
            data.items.insert(change.id, change.seq);
        }
    }
}

//! The workload file exactly as written: serde types that mirror the TOML one to one, with
//! the source span of every value a check may complain about.
//!
//! Every struct denies unknown fields, so a typo (`concurency`) is an error naming the field
//! and the ones expected; nothing here is `untagged` or `flatten`, which would turn a typo
//! into a confusing error. No checking happens here beyond TOML types: `validate.rs` turns
//! these into a [`Plan`](super::Plan).

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: Spanned<String>,
    pub seed: Option<Spanned<u64>>,
    pub time_limit: Spanned<String>,
    pub concurrency: Spanned<i64>,
    pub rate: Option<Spanned<f64>>,
    pub target: Spanned<RawTarget>,
    pub model: Spanned<RawModel>,
    pub phases: Option<Spanned<RawPhases>>,
    /// `[[nodes]]`: the nodes faults land on: processes splitbrain starts, containers, or
    /// nodes reached through hooks.
    pub nodes: Option<Vec<Spanned<RawNode>>>,
    /// Not `Spanned`: toml cannot span a table made implicitly by `[[nemesis.timeline]]`.
    pub nemesis: Option<RawNemesis>,
    /// `[views.NAME]`: reads of the same facts held in several places.
    #[serde(default)]
    pub views: BTreeMap<Spanned<String>, Spanned<RawView>>,
    /// `[[relations]]`: what must hold between the views.
    #[serde(default)]
    pub relations: Vec<Spanned<RawRelation>>,
    /// `[deploy]`: containers splitbrain starts before the run and removes after it.
    /// Not `Spanned`: toml cannot span a table made implicitly by `[[deploy.containers]]`.
    pub deploy: Option<RawDeploy>,
}

/// `[deploy]`: the system under test as containers splitbrain brings up on a network of
/// their own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeploy {
    pub network: Option<Spanned<String>>,
    pub startup_timeout: Option<Spanned<String>>,
    pub containers: Option<Vec<Spanned<RawContainer>>>,
}

/// `[[deploy.containers]]`: one container.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawContainer {
    pub name: Spanned<String>,
    pub image: Spanned<String>,
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub env: BTreeMap<Spanned<String>, Spanned<String>>,
    pub volumes: Option<Spanned<Vec<Spanned<String>>>>,
    pub aliases: Option<Spanned<Vec<Spanned<String>>>>,
    pub health: Option<Spanned<RawHealth>>,
}

/// `health = { http = "/health", port = 8080 }`, `{ tcp = 4222 }` or `{ log = "ready" }`:
/// when a container counts as up. One flat table, checked by `validate`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    pub http: Option<Spanned<String>>,
    pub port: Option<Spanned<i64>>,
    pub tcp: Option<Spanned<i64>>,
    pub log: Option<Spanned<String>>,
}

/// `[views.NAME]`: one read of a list of records, by JSON pointers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawView {
    pub base_url: Option<Spanned<String>>,
    pub method: Option<Spanned<String>>,
    pub path: Spanned<String>,
    pub records: Spanned<String>,
    pub id: Spanned<String>,
    pub fields: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    pub timeout: Option<Spanned<String>>,
    pub weight: Option<Spanned<f64>>,
}

/// `[[relations]]`: one relation. Which keys apply depends on `kind`, so `validate` checks
/// them (one flat table rather than a tagged enum, whose errors would not name the field).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelation {
    pub kind: Spanned<String>,
    pub views: Option<Spanned<Vec<Spanned<String>>>>,
    pub compare: Option<Spanned<String>>,
    pub view: Option<Spanned<String>>,
    pub op: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
    pub filter: Option<Spanned<RawFilter>>,
    pub other: Option<Spanned<String>>,
    pub other_filter: Option<Spanned<RawFilter>>,
    pub expect: Option<Spanned<String>>,
    pub fields: Option<Spanned<Vec<Spanned<String>>>>,
    pub total: Option<Spanned<i64>>,
    pub floor: Option<Spanned<i64>>,
    pub when: Option<Spanned<String>>,
}

/// `filter = { status = "CONFIRMED" }`: field name → a TOML scalar, or a list of them
/// (`status = ["CONFIRMED", "CANCELLED"]`: one of).
pub type RawFilter = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// `[[nodes]]`: one node of the system under test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: Spanned<String>,
    /// Given: splitbrain starts the node. Absent (with no container or label): the node runs
    /// elsewhere (staging) and faults reach it through `[nemesis.hooks]`.
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    /// The node is this Docker container (name or ID).
    pub container: Option<Spanned<String>>,
    /// The node is the one Docker container with this label (`key=value`).
    pub label: Option<Spanned<String>>,
}

/// `[nemesis.hooks.FAULT]`: how a fault starts and heals on nodes splitbrain cannot reach.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHook {
    pub start: Spanned<String>,
    pub heal: Spanned<String>,
    pub timeout: Option<Spanned<String>>,
}

/// `[nemesis]`: which faults, on which nodes, when.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNemesis {
    pub faults: Option<Spanned<Vec<Spanned<String>>>>,
    pub target: Option<Spanned<String>>,
    pub nodes: Option<Spanned<Vec<Spanned<String>>>>,
    pub partition: Option<Spanned<String>>,
    pub interval: Option<Spanned<String>>,
    pub duration: Option<Spanned<String>>,
    pub timeline: Option<Vec<Spanned<RawStep>>>,
    pub hooks: Option<BTreeMap<Spanned<String>, Spanned<RawHook>>>,
    /// `[[nemesis.proxies]]`: links splitbrain runs a fault proxy on.
    pub proxies: Option<Vec<Spanned<RawProxy>>>,
    /// `[nemesis.slow]`: what `slow` does on the proxies.
    pub slow: Option<Spanned<RawSlow>>,
}

/// `[[nemesis.proxies]]`: a fault proxy in front of one node, for the whole run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProxy {
    pub node: Spanned<String>,
    pub listen: Spanned<String>,
    pub upstream: Spanned<String>,
}

/// `[nemesis.slow]`: the toxic `slow` sets on the proxies; which fields apply depends on
/// `toxic`, so `validate` checks them (one flat table rather than a tagged enum, whose
/// errors would not name the field).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlow {
    pub toxic: Option<Spanned<String>>,
    pub latency: Option<Spanned<String>>,
    pub jitter: Option<Spanned<String>>,
    pub bytes_per_sec: Option<Spanned<u64>>,
    pub direction: Option<Spanned<String>>,
}

/// `[[nemesis.timeline]]`: one fault at a fixed time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub at: Spanned<String>,
    pub fault: Spanned<String>,
    pub duration: Spanned<String>,
    pub target: Option<Spanned<String>>,
    pub nodes: Option<Spanned<Vec<Spanned<String>>>>,
    pub partition: Option<Spanned<String>>,
}

/// `[target]`: where requests go.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// `"http"` (the default) or `"postgres"`.
    pub kind: Option<Spanned<String>>,
    /// HTTP only (required there).
    pub base_url: Option<Spanned<String>>,
    /// PostgreSQL only: `postgres://user@host:port/database`, without a password.
    pub url: Option<Spanned<String>>,
    /// PostgreSQL only: the password, as `${VAR}` references resolved at run time.
    pub password: Option<Spanned<String>>,
    /// PostgreSQL only: `serializable`, `repeatable-read` or `read-committed`.
    pub isolation: Option<Spanned<String>>,
    #[serde(default)]
    pub headers: BTreeMap<Spanned<String>, Spanned<String>>,
    pub preflight: Option<Spanned<String>>,
}

/// `[model]`: which model, its options, its op mix and one request per operation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    pub kind: Spanned<String>,
    pub mix: Option<Spanned<BTreeMap<Spanned<String>, Spanned<f64>>>>,
    pub fifo: Option<Spanned<bool>>,
    pub linearizable: Option<Spanned<bool>>,
    pub values: Option<Spanned<RawValues>>,
    /// Bank only: the account ids (integers or strings) transfers move money between.
    pub accounts: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    /// Bank only: the money every read must sum to (default: the first ok read's sum).
    pub total: Option<Spanned<i64>>,
    /// Bank only: transfers move 1..=max_amount.
    pub max_amount: Option<Spanned<i64>>,
    /// Bank only: a balance below zero is no anomaly.
    pub negative_allowed: Option<Spanned<bool>>,
    /// Register, cas-register and kv only: how many independent keys (default 1).
    pub keys: Option<Spanned<i64>>,
    /// Register, cas-register and kv only: how long the checker may search one key.
    pub time_limit_per_key: Option<Spanned<String>>,
    /// List-append and rw-register only: micro-ops per txn, at most.
    pub max_txn_length: Option<Spanned<i64>>,
    /// List-append and rw-register only: writes a key takes before a fresh key replaces it.
    pub max_writes_per_key: Option<Spanned<i64>>,
    /// List-append and rw-register only: the consistency models the system promises.
    pub consistency_models: Option<Spanned<Vec<Spanned<String>>>>,
    /// List-append and rw-register only: the cycle search's time limit per component.
    pub time_limit_per_component: Option<Spanned<String>>,
    #[serde(default)]
    pub ops: BTreeMap<Spanned<String>, Spanned<RawOp>>,
}

/// `values = { min = 1, max = 5 }`: the counter's increments, a register's written values, the
/// numbers in a kv write's `"x N y"`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawValues {
    pub min: Spanned<i64>,
    pub max: Spanned<i64>,
}

/// `[model.ops.NAME]`: one operation's request and how to read its response.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOp {
    /// Another service than `[target]`'s (a write to one, a view read from another).
    pub base_url: Option<Spanned<String>>,
    pub method: Spanned<String>,
    pub path: Spanned<String>,
    pub body: Option<Spanned<String>>,
    pub ok: Option<Spanned<Vec<Spanned<i64>>>>,
    pub fail: Option<Spanned<Vec<Spanned<i64>>>>,
    /// A register read or kv get only: statuses that mean "the key is missing" (ok, read nil;
    /// a get of "").
    pub missing: Option<Spanned<Vec<Spanned<i64>>>>,
    pub timeout: Option<Spanned<String>>,
    pub records: Option<Spanned<String>>,
    pub element: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    /// Bank read only: each record's account id, inside the record.
    pub account: Option<Spanned<String>>,
    /// Bank read only: each record's balance, inside the record.
    pub balance: Option<Spanned<String>>,
}

/// `[phases]`: what happens after the main phase.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhases {
    pub quiet: Option<Spanned<String>>,
    pub final_reads: Option<Spanned<i64>>,
    pub drain_limit: Option<Spanned<i64>>,
    pub converge_timeout: Option<Spanned<String>>,
    pub poll_interval: Option<Spanned<String>>,
}

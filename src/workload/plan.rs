//! A validated workload: everything the runner needs, with every field checked. Built only
//! by `Plan::from_file` / `Plan::from_toml` (see `validate.rs`); nothing downstream re-checks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::checker::Model;
use crate::checker::relations::Relation;
use crate::history::{Name, Value};

use super::template::Template;

/// A workload, parsed and validated.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub seed: u64,
    /// Length of the main phase.
    pub time_limit: Duration,
    /// Number of workers (client processes in flight at once).
    pub concurrency: usize,
    /// Constant arrival rate in ops/s; `None` = as fast as the workers go.
    pub rate: Option<f64>,
    pub target: Target,
    pub model: Model,
    /// Main-phase op mix: operation name (or `view:NAME` for a view read) and its share (the
    /// shares sum to 1).
    pub mix: Vec<(Name, f64)>,
    /// What the generator puts in `{{value}}` for ops whose values it chooses.
    pub values: ValueSpec,
    /// The HTTP request for each of the model's operations, by operation name (`f`).
    pub ops: BTreeMap<String, HttpOp>,
    /// The views, by name: reads of records that relations compare.
    pub views: BTreeMap<String, HttpView>,
    /// What must hold between the views; non-empty means a convergence phase runs.
    pub relations: Vec<Relation>,
    pub phases: Phases,
    /// Faults to inject during the main phase, and the nodes they land on; `None` = no faults.
    pub nemesis: Option<crate::nemesis::NemesisPlan>,
    /// Containers splitbrain starts before the run (`[deploy]`); `None` = the system is up.
    pub deploy: Option<crate::deploy::DeployPlan>,
    /// Where the workload came from, kept verbatim for the run folder and the history header.
    pub source: Source,
}

/// The file the plan came from.
#[derive(Clone, Debug)]
pub struct Source {
    pub path: PathBuf,
    /// The file's text, unexpanded (`${TOKEN}` stays as written).
    pub text: String,
}

/// Where requests go.
#[derive(Clone, Debug)]
pub struct Target {
    /// `http://` or `https://` URL without a trailing slash.
    pub base_url: String,
    /// Extra headers; values may reference environment variables, resolved only at run time.
    pub headers: Vec<HeaderSpec>,
    /// Path requested before the run to prove the target is reachable (default `/`).
    pub preflight: String,
    /// `[target] kind = "postgres"`: a database instead of HTTP (`base_url` is then empty).
    pub postgres: Option<PostgresTarget>,
}

/// A PostgreSQL database that transactions run against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostgresTarget {
    /// `postgres://user@host:port/database`, with no password in it.
    pub url: String,
    /// The password as written (`${PGPASSWORD}`), resolved only when the client connects.
    pub password: Option<String>,
    pub isolation: Isolation,
}

/// The isolation level every transaction begins with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    Serializable,
    RepeatableRead,
    ReadCommitted,
}

impl Isolation {
    /// The names a workload file uses.
    pub const NAMES: &[&str] = &["serializable", "repeatable-read", "read-committed"];

    /// SQL's name, as `BEGIN ISOLATION LEVEL ...` takes it.
    pub fn sql(self) -> &'static str {
        match self {
            Isolation::Serializable => "SERIALIZABLE",
            Isolation::RepeatableRead => "REPEATABLE READ",
            Isolation::ReadCommitted => "READ COMMITTED",
        }
    }
}

/// An extra request header whose value may contain `${VAR}` references.
#[derive(Clone, Debug)]
pub struct HeaderSpec {
    pub name: String,
    /// The value as written (`Bearer ${STAGING_TOKEN}`); never logged once resolved.
    pub value: String,
}

/// Values the generator uses.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueSpec {
    /// Distinct integers 0, 1, 2 ... (set adds, queue enqueues).
    Unique,
    /// Integers drawn uniformly from `min..=max` (counter adds).
    Range { min: i64, max: i64 },
    /// No value (`generate`).
    None,
    /// A register's: a key drawn from `0..keys` for every op, writes of integers drawn from
    /// `min..=max`, a cas `[from to]` with both drawn from `min..=max`, reads of nothing.
    /// With `keys` > 1 the history records each value as Jepsen's independent tuple
    /// `[key value]`; with one key, the value alone.
    Register { keys: u32, min: i64, max: i64 },
    /// Porcupine's kv store: a key drawn from `0..keys` for every op; each put and append a
    /// string `"x N y"` (the shape of Porcupine's kv tests), so that a key's string tells its
    /// appends apart, with `N` fresh for each write (`tokens` = `None`) or drawn from
    /// `min..=max`; gets carry nothing. The history records every value as `[key value]`,
    /// whatever `keys`, as the kv checker reads it.
    Kv {
        keys: u32,
        tokens: Option<(i64, i64)>,
    },
    /// Transactions of micro-ops (list-append, rw-register), Elle's way.
    Txn(crate::generator::TxnSpec),
    /// Bank transfers: `{"from": A, "to": B, "amount": N}` with `A != B` drawn uniformly from
    /// `accounts` and `N` from `1..=max_amount`.
    Transfers {
        /// The account ids, integers or strings, distinct, at least two.
        accounts: Vec<Value>,
        max_amount: i64,
    },
}

/// One operation's HTTP request template and how to read its response.
#[derive(Clone, Debug)]
pub struct HttpOp {
    /// Another service's base URL (same form as [`Target::base_url`]); `None` = the target's.
    pub base_url: Option<String>,
    pub method: String,
    /// Path (and query) after the base URL; placeholders are URL-encoded when filled.
    pub path: Template,
    /// JSON body; placeholders are filled with JSON (`{{value}}` of 3 is `3`, of "a" is `"a"`).
    pub body: Option<Template>,
    /// Status codes that mean "definitely applied".
    pub ok: StatusSet,
    /// Status codes that mean "definitely not applied". Anything else, or a timeout, is info.
    pub fail: StatusSet,
    /// Status codes that mean "ok, and the key is missing": a register read of nil, a kv get
    /// of the empty string.
    pub missing: StatusSet,
    /// A `fail` of this op means it ran and refused (a register's cas: its compare failed),
    /// so a request that never reached the system is `info`, not `fail`.
    pub fail_means_ran: bool,
    pub timeout: Duration,
    pub extract: Extract,
}

/// One view: a read of a list of records, each with an id and named fields. Any 2xx is `ok`;
/// anything else, or a timeout, is `info`.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpView {
    /// Another service's base URL; `None` = the target's.
    pub base_url: Option<String>,
    pub method: String,
    /// Path (and query) after the base URL; views take no placeholders.
    pub path: String,
    /// JSON pointer to the list of records (`""` = the body is the list).
    pub records: String,
    /// JSON pointer to each record's id (`""` = the record is the id).
    pub id: String,
    /// Declared fields: name and the JSON pointer inside each record, sorted by name.
    pub fields: Vec<(String, String)>,
    pub timeout: Duration,
    /// Share of the main-phase mix, before normalising with the model's (0 = read only in
    /// the convergence phase).
    pub weight: f64,
}

/// A set of HTTP status codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusSet(pub Vec<u16>);

impl StatusSet {
    pub fn contains(&self, status: u16) -> bool {
        self.0.contains(&status)
    }
}

/// How a definite `ok` response becomes the op's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Extract {
    /// The op's value stays what was invoked (writes).
    None,
    /// The value at a JSON pointer (`""` = the whole body): a counter read, a dequeued item.
    Value(String),
    /// A register read: the value at a JSON pointer, an integer or a string of one (etcd's
    /// `"3"`); `null` is nil (the key is missing).
    Register(String),
    /// A kv get: the string at a JSON pointer; `null`, or a `missing` status, is the empty
    /// string (the key is absent, and Porcupine's kv model starts every key empty).
    Kv(String),
    /// A list of records at `records`, each mapped through `element` (if given) to one
    /// element: a set read.
    Records {
        records: String,
        element: Option<String>,
    },
    /// A bank read: a list of records at `records`, each giving an account id at `account`
    /// and its balance at `balance`; the value is the map account → balance.
    Balances {
        records: String,
        account: String,
        balance: String,
    },
    /// A txn (list-append, rw-register): the completed micro-ops at a JSON pointer, the ones
    /// sent in the same order, each read filled in (`["r", 1, [3, 4]]`).
    Txn {
        pointer: String,
        shape: crate::checker::elle::txn::Shape,
    },
}

/// What happens after the main phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phases {
    /// Idle time after the main phase (and, later, after the faults heal) before final reads.
    pub quiet: Duration,
    /// How many final reads (set, counter); a queue drains instead.
    pub final_reads: u32,
    /// Upper bound on dequeues while draining a queue.
    pub drain_limit: u64,
    /// How long the convergence phase polls the views (only with relations).
    pub converge_timeout: Duration,
    /// Pause between two convergence rounds.
    pub poll_interval: Duration,
}

impl Plan {
    /// Whether the history records values as `[key value]` (a register with keys > 1, and
    /// kv always).
    pub fn independent_keys(&self) -> bool {
        match self.values {
            ValueSpec::Register { keys, .. } => keys > 1,
            ValueSpec::Kv { .. } => true,
            _ => false,
        }
    }

    /// Points every URL that names a deployed container (by name or alias, on a published
    /// port) at where that port landed on 127.0.0.1: `[target]`, ops' and views' `base_url`.
    pub fn point_at(&mut self, published: &crate::deploy::Published) {
        let Some(deploy) = &self.deploy else { return };
        let rewrite = |url: &mut String| {
            if let Some(new) = crate::deploy::rewrite_url(deploy, published, url) {
                *url = new;
            }
        };
        rewrite(&mut self.target.base_url);
        for op in self.ops.values_mut() {
            op.base_url.as_mut().map(rewrite);
        }
        for view in self.views.values_mut() {
            view.base_url.as_mut().map(rewrite);
        }
    }
}

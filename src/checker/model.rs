//! The models splitbrain can check, by the names workload files and `--model` use.

use std::fmt;

use super::elle::{self, txn::Shape};
use super::linear::{Bounds, LinearModel, LinearOptions, OptionsError, Semantics};

/// A model of what the system under test promises, and so which checker applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Model {
    /// Jepsen's set-full: `add` elements, `read` the whole set. With `linearizable`, an
    /// element missing from a read after its add completed (`stale`) is an anomaly; without,
    /// a stale read is counted and shown but allowed (eventual consistency).
    Set { linearizable: bool },
    /// `add` n, `read` the total.
    Counter,
    /// Jepsen's total-queue: `enqueue`, `dequeue`, `drain`; FIFO order checked when declared.
    Queue { fifo: bool },
    /// `generate` returns an id that must never have been returned before.
    UniqueIds,
    /// Jepsen's bank: `transfer` `{from, to, amount}` between accounts, `read` every balance.
    /// Every ok read must sum to `total` (when `None`, to the sum of the first ok read) and,
    /// unless `negative_allowed`, show no balance below zero.
    Bank {
        total: Option<i64>,
        negative_allowed: bool,
    },
    /// Writes of the user's own naming (each `{{value}}` a fresh unique integer), with no
    /// model checker of its own: the workload's relations between views are the checks.
    Custom { ops: Vec<String> },
    /// Linearizability (Knossos, Porcupine): a `register` (`read`, `write`), a `cas-register`
    /// (also `cas` `[from to]`) or Porcupine's `kv` store (`get`, `put`, `append` of
    /// `[key value]`), each key checked on its own within `bounds`; or Knossos' `mutex`
    /// (`acquire`, `release`) or `multi-register` (`txn` of `[read k v]` / `[write k v]`).
    Linear { model: LinearModel, bounds: Bounds },
    /// Transactional isolation, Elle's way: `txn`s of list-append (`append`, `r`) or
    /// rw-register (`w`, `r`) micro-ops, checked against the consistency models the system
    /// promises.
    Elle(elle::Options),
}

impl Model {
    /// Every model name, for error messages.
    pub const NAMES: &'static [&'static str] = &[
        "set",
        "counter",
        "queue",
        "unique-ids",
        "bank",
        "custom",
        "register",
        "cas-register",
        "kv",
        "mutex",
        "multi-register",
        "list-append",
        "rw-register",
    ];

    /// The model's name as written in workload files and results.json.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Set { .. } => "set",
            Model::Counter => "counter",
            Model::Queue { .. } => "queue",
            Model::UniqueIds => "unique-ids",
            Model::Bank { .. } => "bank",
            Model::Custom { .. } => "custom",
            Model::Linear { model, .. } => model.name(),
            Model::Elle(options) => options.shape.name(),
        }
    }

    /// The model with this name and default options, if there is one (`custom` with no
    /// operations: the workload names them).
    pub fn from_name(name: &str) -> Option<Model> {
        match name {
            "set" => Some(Model::Set {
                linearizable: false,
            }),
            "counter" => Some(Model::Counter),
            "queue" => Some(Model::Queue { fifo: false }),
            "unique-ids" => Some(Model::UniqueIds),
            // elle-cli's defaults: the total and the accounts come from the first ok read.
            "bank" => Some(Model::Bank {
                total: None,
                negative_allowed: false,
            }),
            "custom" => Some(Model::Custom { ops: Vec::new() }),
            // A service's register: a read of nil means the key is missing, a failed cas
            // compared and lost (the semantics of Porcupine's etcd model).
            "register" => Some(Model::linear(LinearModel::Register(
                Semantics::PorcupineEtcd,
            ))),
            "cas-register" => Some(Model::linear(LinearModel::CasRegister(
                Semantics::PorcupineEtcd,
            ))),
            "kv" => Some(Model::linear(LinearModel::Kv)),
            "mutex" => Some(Model::linear(LinearModel::Mutex)),
            // Knossos needs each key's initial value; a service's keys start missing (nil).
            "multi-register" => Some(Model::linear(LinearModel::MultiRegister { init: None })),
            // Elle's default: strict serializability.
            "list-append" => Some(Model::Elle(elle::Options::new(Shape::ListAppend))),
            "rw-register" => Some(Model::Elle(elle::Options::new(Shape::RwRegister))),
            _ => None,
        }
    }

    /// The operation names (`f`) the model's generator and checker use, in a fixed order.
    pub fn operations(&self) -> Vec<&str> {
        match self {
            Model::Set { .. } => vec!["add", "read"],
            Model::Counter => vec!["add", "read"],
            Model::Queue { .. } => vec!["enqueue", "dequeue"],
            Model::UniqueIds => vec!["generate"],
            Model::Bank { .. } => vec!["transfer", "read"],
            Model::Custom { ops } => ops.iter().map(String::as_str).collect(),
            Model::Linear { model, .. } => match model {
                LinearModel::Register(_) => vec!["read", "write"],
                LinearModel::CasRegister(_) => vec!["read", "write", "cas"],
                LinearModel::Kv => vec!["get", "put", "append"],
                LinearModel::Mutex => vec!["acquire", "release"],
                LinearModel::MultiRegister { .. } => vec!["txn"],
            },
            Model::Elle(_) => vec!["txn"],
        }
    }

    /// The model with `options` (semantics, init, bounds) applied; only a linearizability
    /// model takes them, and any model takes none.
    pub fn with_linear_options(self, options: &LinearOptions) -> Result<Model, OptionsError> {
        match self {
            Model::Linear { model, bounds } => {
                let (model, bounds) = options.apply(model, bounds)?;
                Ok(Model::Linear { model, bounds })
            }
            other if options.is_empty() => Ok(other),
            other => Err(OptionsError::NotLinear {
                model: other.name().to_owned(),
            }),
        }
    }

    /// A linearizability model with the default bounds.
    pub fn linear(model: LinearModel) -> Model {
        Model::Linear {
            model,
            bounds: Bounds::default(),
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

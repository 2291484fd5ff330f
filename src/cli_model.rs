//! Which model `splitbrain check` and `report` judge a history by, and with which options:
//! the command line's (`--model` and the model's own flags) win over what the history's
//! header recorded, so that re-checking a saved run judges it as the run did.

use anyhow::anyhow;
use serde_json::{Map, Value as Json};

use splitbrain::checker::Model;
use splitbrain::checker::elle::options::{ElleOptions, parse_models};
use splitbrain::checker::linear::{LinearOptions, OptionsError};
use splitbrain::history::Header;

use crate::cli_linear::LinearArgs;

/// `check`'s model and its options.
#[derive(clap::Args, Debug, Default)]
pub struct ModelArgs {
    /// The model to check against (set, counter, queue, unique-ids, bank, register,
    /// cas-register, kv, mutex, multi-register, list-append, rw-register); default: the one
    /// in the history's header.
    #[arg(long)]
    pub model: Option<String>,
    /// For a queue: also check FIFO order.
    #[arg(long)]
    pub fifo: bool,
    /// For a set: a stale read (an element missing after its add completed, present
    /// later) is an anomaly, not only counted.
    #[arg(long)]
    pub linearizable: bool,
    #[command(flatten)]
    pub linear: LinearArgs,
    /// For list-append and rw-register: the consistency models the system promises, comma
    /// separated, as Elle names them (read-uncommitted, read-committed, cursor-stability,
    /// monotonic-atomic-view, read-atomic, consistent-view, forward-consistent-view,
    /// repeatable-read, update-serializable, snapshot-isolation, serializable,
    /// strong-session-read-uncommitted, strong-session-read-committed,
    /// strong-read-uncommitted, strong-read-committed, strong-session-snapshot-isolation,
    /// strong-session-serializable, strong-snapshot-isolation, strict-serializable; or
    /// Adya's PL-1 ... PL-SS, conflict-serializable, strong-serializable; default
    /// strict-serializable). The history is invalid when it shows an anomaly one of them
    /// forbids; the results also name every model it rules out. With these models
    /// --time-limit bounds the cycle search of one strongly connected component (default
    /// 10s).
    #[arg(long, value_name = "MODELS", value_parser = models_arg)]
    pub consistency_models: Option<Models>,
}

/// `--consistency-models`' list, one value to clap.
#[derive(Clone, Debug)]
pub struct Models(Vec<String>);

fn models_arg(s: &str) -> Result<Models, String> {
    parse_models(s).map(Models)
}

/// The model named on the command line, else the one the history's header names, with the
/// options of both (the command line's first).
pub fn choose_model(args: &ModelArgs, header: Option<&Header>) -> anyhow::Result<Model> {
    let name = args
        .model
        .as_deref()
        .or(header.map(|h| h.model.as_str()))
        .ok_or_else(|| {
            anyhow!(
                "the history does not say which model it follows: pass --model ({})",
                Model::NAMES.join(", ")
            )
        })?;
    let model = Model::from_name(name).ok_or_else(|| {
        anyhow!(
            "unknown model {name:?}: expected one of {}",
            Model::NAMES.join(", ")
        )
    })?;
    let linear = args.linear.options();
    let elle_only = LinearOptions {
        time_limit: linear.time_limit,
        ..LinearOptions::default()
    };
    match &model {
        Model::Linear { .. } => {}
        Model::Elle(_) if linear == elle_only => {}
        Model::Elle(_) => {
            return Err(anyhow!(
                "--semantics, --init and --memo-limit apply to the linearizability models \
                 (register, cas-register, kv, mutex, multi-register), not to {}, which takes \
                 --consistency-models and --time-limit",
                model.name()
            ));
        }
        _ if !linear.is_empty() => {
            let model = model.name().to_owned();
            return Err(OptionsError::NotLinear { model }.into());
        }
        _ => {}
    }
    if args.consistency_models.is_some() && !matches!(model, Model::Elle(_)) {
        return Err(anyhow!(
            "--consistency-models applies to the transactional models (list-append, \
             rw-register), not to {}",
            model.name()
        ));
    }
    let recorded = header.map(|h| &h.model_options);
    let header_flag = |name: &str| {
        recorded
            .and_then(|o| o.get(name))
            .and_then(Json::as_bool)
            .unwrap_or(false)
    };
    Ok(match model {
        Model::Queue { .. } => Model::Queue {
            fifo: args.fifo || header_flag("fifo"),
        },
        Model::Set { .. } => Model::Set {
            linearizable: args.linearizable || header_flag("linearizable"),
        },
        // A bank run records its total and negative_allowed, so a re-check judges the same.
        Model::Bank { .. } => Model::Bank {
            total: recorded.and_then(|o| o.get("total")).and_then(Json::as_i64),
            negative_allowed: header_flag("negative_allowed"),
        },
        // A linearizability run records its semantics and bounds, likewise.
        Model::Linear { .. } => {
            let recorded = match recorded {
                Some(o) => LinearOptions::from_json(o)?,
                None => LinearOptions::default(),
            };
            model.with_linear_options(&linear.or(recorded))?
        }
        // A transactional run records its consistency models and time limit, likewise.
        Model::Elle(options) => {
            let recorded = match recorded {
                Some(o) => ElleOptions::from_json(o)?,
                None => ElleOptions::default(),
            };
            let given = ElleOptions {
                models: args.consistency_models.clone().map(|Models(m)| m),
                time_limit: linear.time_limit,
            };
            Model::Elle(given.or(recorded).apply(options))
        }
        other => other,
    })
}

/// What a history's header records of `model`'s options (`model_options`).
pub fn model_options(model: &Model) -> Map<String, Json> {
    let mut options = Map::new();
    match model {
        Model::Queue { fifo: true } => {
            options.insert("fifo".into(), true.into());
        }
        Model::Set { linearizable: true } => {
            options.insert("linearizable".into(), true.into());
        }
        Model::Bank {
            total,
            negative_allowed,
        } => {
            if let Some(total) = total {
                options.insert("total".into(), (*total).into());
            }
            if *negative_allowed {
                options.insert("negative_allowed".into(), true.into());
            }
        }
        Model::Linear { model, bounds } => {
            options.extend(LinearOptions::of(*model, *bounds).to_json());
        }
        Model::Elle(elle) => options.extend(ElleOptions::of(elle).to_json()),
        _ => {}
    }
    options
}

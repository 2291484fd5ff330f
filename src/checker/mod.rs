//! Checkers: pure functions from a history to a verdict with witnesses. One module per model;
//! each follows the Jepsen checker it is named after. Same input, same result, on any machine.

mod bank;
mod counter;
pub mod elle;
mod faults;
mod intern;
pub mod linear;
mod model;
mod queue;
pub mod relations;
mod result;
mod set;
#[cfg(test)]
pub(crate) mod test_support;
mod unique_ids;
mod witness;

pub use faults::{Window as FaultWindow, annotate_faults, fault_windows};
pub use model::Model;
pub use result::{Anomaly, CheckerResult, Results, Verdict};

use std::collections::BTreeMap;

use crate::history::{History, HistoryError};

/// Checks a history against a model and the workload's relations between views, and names
/// the faults active around each anomaly. The relations' results follow the model's, keyed by
/// [`relations::Relation::name`]; `convergence` is set when there are relations.
pub fn check(
    model: &Model,
    relations: &[relations::Relation],
    history: &History,
) -> Result<Results, HistoryError> {
    let result = match model {
        Model::Set { linearizable } => Some(set::check(history, *linearizable)?),
        Model::Counter => Some(counter::check(history)?),
        Model::Queue { fifo } => Some(queue::check(history, *fifo)?),
        Model::UniqueIds => Some(unique_ids::check(history)?),
        Model::Bank {
            total,
            negative_allowed,
        } => Some(bank::check(history, *total, *negative_allowed)?),
        // No model checker of its own: the workload's relations are its checks.
        Model::Custom { .. } => None,
        Model::Linear { model, bounds } => Some(linear::check(history, *model, *bounds)?),
        Model::Elle(options) => Some(elle::check(history, options)?),
    };
    let mut checkers: BTreeMap<String, CheckerResult> = result
        .map(|result| (model.name().to_owned(), result))
        .into_iter()
        .collect();
    let mut convergence = None;
    if !relations.is_empty() {
        let (results, converged) = relations::check(relations, history)?;
        for (name, result) in results {
            // A relation named like the model cannot hide the model's result.
            let name = match checkers.contains_key(&name) {
                true => format!("relation {name}"),
                false => name,
            };
            checkers.insert(name, result);
        }
        convergence = Some(converged);
    }
    let mut results = Results::from_checkers(checkers);
    results.convergence = convergence;
    annotate_faults(history, &mut results);
    Ok(results)
}

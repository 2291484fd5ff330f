//! Checkers: pure functions from a history to a verdict with witnesses. One module per model;
//! each follows the Jepsen checker it is named after. Same input, same result, on any machine.

mod counter;
mod faults;
mod intern;
mod model;
mod queue;
pub mod relations;
mod result;
mod set;
#[cfg(test)]
mod test_support;
mod unique_ids;
mod witness;

pub use faults::annotate_faults;
pub use model::Model;
pub use result::{Anomaly, CheckerResult, Results, Verdict};

use std::collections::BTreeMap;

use crate::history::{History, HistoryError};

/// Checks a history against a model and names the faults active around each anomaly.
pub fn check(model: &Model, history: &History) -> Result<Results, HistoryError> {
    let result = match model {
        Model::Set { linearizable } => set::check(history, *linearizable)?,
        Model::Counter => counter::check(history)?,
        Model::Queue { fifo } => queue::check(history, *fifo)?,
        Model::UniqueIds => unique_ids::check(history)?,
        // No model checker of its own: the workload's relations are its checks.
        Model::Custom { .. } => return Ok(Results::from_checkers(BTreeMap::new())),
    };
    let mut results = Results::from_checkers(BTreeMap::from([(model.name().to_owned(), result)]));
    annotate_faults(history, &mut results);
    Ok(results)
}

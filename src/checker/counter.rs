//! placeholder: being written
use super::CheckerResult;
use crate::history::{History, HistoryError};

pub fn check(_history: &History) -> Result<CheckerResult, HistoryError> {
    todo!("being written")
}

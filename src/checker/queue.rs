//! placeholder: being written
use super::CheckerResult;
use crate::history::{History, HistoryError};

pub fn check(_history: &History, _fifo: bool) -> Result<CheckerResult, HistoryError> {
    todo!("being written")
}

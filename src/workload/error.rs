//! placeholder: being written
#[derive(Debug, thiserror::Error)]
#[error("placeholder")]
pub struct WorkloadError;

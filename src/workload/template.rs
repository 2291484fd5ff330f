//! placeholder: being written
#[derive(Clone, Debug)]
pub struct Template;

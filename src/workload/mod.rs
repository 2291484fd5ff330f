//! The workload file: raw serde types that mirror the TOML exactly, and their validation into a
//! [`Plan`] with errors that name the file, the line and the field.

mod bank;
mod cx;
mod deploy;
mod env;
mod error;
mod kv;
mod nemesis;
mod plan;
mod proxies;
mod raw;
mod register;
mod template;
mod txn;
mod validate;
mod views;

pub use env::resolve_env_refs;
pub use error::WorkloadError;
pub use plan::{
    Extract, HeaderSpec, HttpOp, HttpView, Isolation, Phases, Plan, PostgresTarget, Source,
    StatusSet, Target, ValueSpec,
};
pub use template::{PLACEHOLDERS, Placeholder, Template};
pub(crate) use template::{find_open, placeholder_list};

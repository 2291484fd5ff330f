//! replicas: a tiny replicated HTTP service for splitbrain's convergence tests (issue 4). One
//! binary plays two roles: the primary (the write model: items, orders with their payments,
//! stock, a bank) and replicas (read models that pull the primary's item changes). Switches turn on
//! the bugs that views and relations must catch: a replica that drops or delays changes, a
//! double capture, a racy stock reservation, a racy or unchecked bank transfer. It is a test target, not an example of how to
//! build a service: state lives in memory and is lost when a process stops.

pub mod args;
pub mod bank;
pub mod bugs;
pub mod change;
pub mod primary;
pub mod replica;
pub mod stock;

pub use args::Command;
pub use bugs::{Bugs, Role};

//! splitbrain: a Jepsen-style consistency checker for microservice systems.
//!
//! Data flows one way (see ARCHITECTURE.md): a workload file is validated into a [`workload::Plan`];
//! the [`runner`] drives it against the system and appends every event to `history.jsonl`;
//! the [`checker`]s turn a [`history::History`] into [`checker::Results`]; [`report`] shows them.

pub mod checker;
pub mod client;
pub mod deploy;
pub mod generator;
pub mod history;
pub mod nemesis;
pub mod report;
pub mod runner;
pub mod workload;

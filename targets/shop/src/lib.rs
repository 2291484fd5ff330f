//! shop: the demo system under test for splitbrain (issue 5). One binary plays three
//! services, each owning its SQLite database and talking to the others only through NATS
//! JetStream: **orders** (write model and a per-customer read model fed by events),
//! **inventory** (stock and reservations) and **payments** (captures within a limit). A
//! choreographed saga with compensation ties them together, with a transactional outbox and
//! idempotent consumers (inbox) so that kills and redeliveries change nothing. Bug switches
//! turn on the classic mistakes, each with the anomaly splitbrain must report.

pub mod args;
pub mod bugs;
pub mod bus;
pub mod db;
pub mod event;
pub mod inventory;
pub mod orders;
pub mod payments;
pub mod service;

pub use args::{Command, Role};
pub use bugs::Bugs;

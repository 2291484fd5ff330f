//! What to do next: the op mix, the values, and the final phase, all drawn from one seeded RNG
//! so the same seed gives the same sequence of operations.

mod mix;
mod txn;

pub use mix::{FinalPhase, Generator, final_phase_of};
pub use txn::{TxnGen, TxnSpec};

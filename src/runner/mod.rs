//! The async core: workers that drive the system, the recorder that writes the history as it
//! happens, the phases of a run, and the run folder it all lands in.

mod converge;
mod execute;
mod nemesis;
mod progress;
mod rate;
mod recorder;
mod run_dir;
mod run_log;

pub use execute::{RunStats, execute};
pub use nemesis::{Faults, Nemesis};
pub use rate::Arrivals;
pub use recorder::{Counts, Record, Recorder};
pub use run_dir::{RunDir, timestamp};
pub use run_log::RunLog;

//! The nemesis: which faults, when, on which nodes (`plan`), and where they land: `process`
//! (local processes splitbrain starts), `command` (shell hooks for staging), `proxy` (a TCP
//! fault proxy for slow and broken links). Every fault it starts is healed: at the end of the
//! fault phase, on Ctrl-C / SIGTERM, on panic (`Drop`), and by `splitbrain heal`.

pub mod command;
mod plan;
mod process;
pub mod proxy;

pub use plan::{Backend, FaultKind, NemesisPlan, NodeSpec, Schedule, Step, Target};
pub use process::{ProcessNodes, State, StateNode, heal_from_state};

/// A fault that could not be started or healed.
#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    #[error("failed to {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "failed to inject {fault}: the process backend cannot (validation should have said so)"
    )]
    Unsupported { fault: &'static str },
    #[error("failed to send {signal} to process group {pid}: {reason}")]
    Signal {
        signal: String,
        pid: i32,
        reason: String,
    },
}

/// Where `splitbrain heal` finds what a run of workload `name` left running.
pub fn state_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir()
        .join("splitbrain")
        .join(format!("{name}.nodes.json"))
}

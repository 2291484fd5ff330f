//! The nemesis: which faults, when, on which nodes (`plan`, with partition shapes in
//! `partition`), and where they land: `process` (local processes splitbrain starts),
//! `docker` (containers, through the Docker API and iptables in their network namespaces),
//! `command` (shell hooks for staging), `proxy` (a TCP fault proxy for slow and broken links)
//! and `proxies` (the workload's proxies, where `slow` lands whatever the backend). Every fault
//! it starts is healed: at the end of the fault phase, on Ctrl-C / SIGTERM, on panic (`Drop`),
//! and by `splitbrain heal`.

pub mod command;
pub mod docker;
mod partition;
mod plan;
mod process;
mod proxies;
pub mod proxy;

pub use docker::DockerNodes;
pub use partition::{Cuts, Refuse, Shape};
pub use plan::{
    Backend, ContainerRef, DEFAULT_SLOW, DockerNodeSpec, FaultKind, NemesisPlan, NodeSpec,
    ProxySpec, Schedule, Step, Target,
};
pub use process::{ProcessNodes, State, StateNode, heal_from_state};
pub use proxies::Proxies;

/// A fault that could not be started or healed.
#[derive(Debug, thiserror::Error)]
pub enum NemesisError {
    #[error("failed to {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to inject {fault}: this backend cannot (validation should have said so)")]
    Unsupported { fault: &'static str },
    #[error("failed to reach Docker at {host}: {reason}")]
    DockerUnreachable { host: String, reason: String },
    #[error("failed to {what}: Docker said: {reason}")]
    Docker { what: String, reason: String },
    #[error("failed to find node {node}: expected {wanted}, found {found}")]
    NoContainer {
        node: String,
        wanted: String,
        found: String,
    },
    #[error("node {node} is {state}: {hint}")]
    NotReady {
        node: String,
        state: String,
        hint: String,
    },
    #[error("failed to partition {node}: `iptables {rule}` said: {stderr}")]
    Iptables {
        node: String,
        rule: String,
        stderr: String,
    },
    #[error(
        "partitions and slow links on containers need root (splitbrain enters each \
         container's network namespace and changes its iptables or qdiscs): run as root, or \
         leave those faults out"
    )]
    NeedsRoot,
    #[error("failed to slow {node}: `tc {command}` said: {stderr}")]
    Tc {
        node: String,
        command: String,
        stderr: String,
    },
    #[error(
        "this kernel has no {qdisc} qdisc (tc said: {stderr}), which slow on containers needs: \
         put [[nemesis.proxies]] in front of the nodes to slow their links through \
         splitbrain's fault proxy instead"
    )]
    NoQdisc { qdisc: String, stderr: String },
    #[error(
        "partitions and slow links on containers need `{program}`, which is not on the PATH: install it (Debian: util-linux for nsenter, iptables, iproute2 for ip and tc)"
    )]
    Missing { program: &'static str },
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

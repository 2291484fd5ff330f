//! What the workload asks of the nemesis: which faults, on which nodes, when, for how long.
//! Validated by `workload`; executed by the runner's nemesis task through a backend.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use rand::Rng;
use rand::seq::SliceRandom;

use super::command::Hook;
use super::partition::Shape;
use super::proxy::{Direction, Toxic};

/// A fault the nemesis can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FaultKind {
    /// SIGKILL the node's process; restart it when the fault ends.
    Kill,
    /// Freeze the node (SIGSTOP); resume it (SIGCONT) when the fault ends.
    Pause,
    /// Stop the node gracefully (SIGTERM, then SIGKILL after 5 s); start it when the fault ends.
    Restart,
    /// Cut links between nodes, in one of the [`Shape`]s (docker backend or command hooks).
    Partition,
    /// Slow or broken links: the toxic of `[nemesis.slow]` on the node's fault proxies
    /// (any backend), or command hooks.
    Slow,
}

impl FaultKind {
    /// Every fault name, for error messages.
    pub const NAMES: &'static [&'static str] = &["kill", "pause", "restart", "partition", "slow"];

    /// The faults the process backend can inject itself.
    pub const PROCESS: &'static [FaultKind] =
        &[FaultKind::Kill, FaultKind::Pause, FaultKind::Restart];

    /// The faults the docker backend can inject itself.
    pub const DOCKER: &'static [FaultKind] = &[
        FaultKind::Kill,
        FaultKind::Pause,
        FaultKind::Restart,
        FaultKind::Partition,
        FaultKind::Slow,
    ];

    /// The faults the fault proxies inject, whatever the backend, when the workload has
    /// `[[nemesis.proxies]]`.
    pub const PROXY: &'static [FaultKind] = &[FaultKind::Slow];

    pub fn from_name(name: &str) -> Option<FaultKind> {
        match name {
            "kill" => Some(FaultKind::Kill),
            "pause" => Some(FaultKind::Pause),
            "restart" => Some(FaultKind::Restart),
            "partition" => Some(FaultKind::Partition),
            "slow" => Some(FaultKind::Slow),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Pause => "pause",
            FaultKind::Restart => "restart",
            FaultKind::Partition => "partition",
            FaultKind::Slow => "slow",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which nodes a fault hits (Jepsen's node specs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One node, chosen at random.
    One,
    /// Fewer than half, at least one, chosen at random.
    Minority,
    /// More than half, chosen at random.
    Majority,
    All,
    /// These nodes, by name.
    Nodes(Vec<String>),
}

impl Target {
    pub const NAMES: &'static [&'static str] = &["one", "minority", "majority", "all"];

    pub fn from_name(name: &str) -> Option<Target> {
        match name {
            "one" => Some(Target::One),
            "minority" => Some(Target::Minority),
            "majority" => Some(Target::Majority),
            "all" => Some(Target::All),
            _ => None,
        }
    }

    /// The nodes this target picks from `nodes`, in the order of `nodes`.
    pub fn select(&self, nodes: &[String], rng: &mut impl Rng) -> Vec<String> {
        let n = nodes.len();
        let count = match self {
            Target::One => 1.min(n),
            Target::Minority => (n.saturating_sub(1) / 2).max(1).min(n),
            Target::Majority => n / 2 + 1,
            Target::All => n,
            Target::Nodes(names) => {
                return nodes
                    .iter()
                    .filter(|n| names.contains(n))
                    .cloned()
                    .collect();
            }
        };
        let mut picked: Vec<usize> = (0..n).collect();
        picked.shuffle(rng);
        picked.truncate(count.min(n));
        picked.sort_unstable();
        picked.into_iter().map(|i| nodes[i].clone()).collect()
    }
}

/// One step of an explicit timeline: at `at` after the run starts, inject `fault` on `target`
/// for `duration`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub at: Duration,
    pub fault: FaultKind,
    pub target: Target,
    /// The partition's shape, when `fault` is a partition.
    pub partition: Shape,
    pub duration: Duration,
}

/// When faults happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Jepsen's default shape: wait `interval`, inject a fault drawn from `faults` on `target`
    /// for `duration`, heal, repeat until the main phase ends.
    Random {
        faults: Vec<FaultKind>,
        target: Target,
        /// The shape of every partition it injects.
        partition: Shape,
        interval: Duration,
        duration: Duration,
    },
    /// Exactly these steps, in order of `at`.
    Timeline(Vec<Step>),
}

/// A node splitbrain starts and owns (the process backend).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSpec {
    pub name: String,
    /// Program and arguments (no shell).
    pub command: Vec<String>,
}

/// A node that is a Docker container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DockerNodeSpec {
    pub name: String,
    pub container: ContainerRef,
}

/// How a node's container is found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerRef {
    /// By name or ID.
    Name(String),
    /// The one container carrying this label (`key=value` or `key`).
    Label(String),
}

/// Where faults land.
#[derive(Clone, Debug)]
pub enum Backend {
    /// Nodes splitbrain starts itself and signals.
    Process(Vec<NodeSpec>),
    /// Containers, through the Docker API and iptables in their network namespaces.
    Docker(Vec<DockerNodeSpec>),
    /// Nodes splitbrain cannot reach itself (staging): each fault is a start and a heal shell
    /// command.
    Command {
        nodes: Vec<String>,
        hooks: BTreeMap<FaultKind, Hook>,
    },
}

/// A link splitbrain runs a fault proxy on, for the whole run: clients (or the other nodes)
/// use `listen` instead of the node's own address `upstream`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxySpec {
    /// The node the link leads to: a `slow` fault on it acts on every proxy of it.
    pub node: String,
    pub listen: SocketAddr,
    pub upstream: SocketAddr,
}

impl ProxySpec {
    /// The proxy's name in the history and the run log: `node@listen`.
    pub fn name(&self) -> String {
        format!("{}@{}", self.node, self.listen)
    }
}

/// What `slow` does on the proxies when `[nemesis.slow]` does not say: 100 ms each way.
pub const DEFAULT_SLOW: Toxic = Toxic::Latency {
    direction: Direction::Both,
    latency: Duration::from_millis(100),
    jitter: Duration::ZERO,
};

/// The nemesis part of a plan.
#[derive(Clone, Debug)]
pub struct NemesisPlan {
    pub backend: Backend,
    pub schedule: Schedule,
    /// The fault proxies, started before the workload and stopped before checking.
    pub proxies: Vec<ProxySpec>,
    /// What `slow` sets on the proxies of its nodes.
    pub slow: Toxic,
}

impl NemesisPlan {
    pub fn node_names(&self) -> Vec<String> {
        match &self.backend {
            Backend::Process(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
            Backend::Docker(nodes) => nodes.iter().map(|n| n.name.clone()).collect(),
            Backend::Command { nodes, .. } => nodes.clone(),
        }
    }

    /// Whether `slow` lands as a qdisc inside containers: the docker backend, slow
    /// scheduled, and no fault proxies to take it.
    pub fn qdisc_slow(&self) -> bool {
        matches!(self.backend, Backend::Docker(_))
            && self.proxies.is_empty()
            && self.schedules(FaultKind::Slow)
    }

    /// Whether it may inject `fault`.
    pub fn schedules(&self, fault: FaultKind) -> bool {
        match &self.schedule {
            Schedule::Random { faults, .. } => faults.contains(&fault),
            Schedule::Timeline(steps) => steps.iter().any(|s| s.fault == fault),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn nodes(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn targets_pick_the_sizes_jepsen_does() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let five = nodes(5);
        assert_eq!(Target::One.select(&five, &mut rng).len(), 1);
        assert_eq!(Target::Minority.select(&five, &mut rng).len(), 2);
        assert_eq!(Target::Majority.select(&five, &mut rng).len(), 3);
        assert_eq!(Target::All.select(&five, &mut rng), five);
        assert_eq!(Target::Minority.select(&nodes(1), &mut rng).len(), 1);
        let named = Target::Nodes(vec!["n4".into(), "n2".into()]);
        assert_eq!(named.select(&five, &mut rng), ["n2", "n4"]);
    }

    #[test]
    fn the_same_seed_picks_the_same_nodes() {
        let pick = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..20)
                .map(|_| Target::Minority.select(&nodes(7), &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(pick(3), pick(3));
        assert_ne!(pick(3), pick(4));
    }
}

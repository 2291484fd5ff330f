//! The docker backend: nodes are containers, found by name or by label. Kill, restart and
//! pause go through the Docker API (bollard, API version negotiated with the engine);
//! partitions are DROP rules in a chain splitbrain owns (`SPLITBRAIN`, jumped to from
//! `INPUT`) inside each container's network namespace, entered with `nsenter -t PID -n` from
//! the PID Docker reports, with the host's iptables, so they work on `FROM scratch` images.
//!
//! Partitions compose: while several are in force (overlapping timeline steps), each node's
//! chain holds the union of their cuts, and healing one leaves the others in place.
//! Healing everything is idempotent: unpause what is paused, start what is stopped, remove
//! the chain wherever it is. That is also all `splitbrain heal` does for a dead run, since the
//! workload names every container.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::process::Output;

use bollard::Docker;
use bollard::models::ContainerInspectResponse;
use bollard::query_parameters::{
    InspectContainerOptions, KillContainerOptions, ListContainersOptions, StartContainerOptions,
    StopContainerOptions,
};
use serde_json::{Value, json};
use tokio::process::Command;

use super::NemesisError;
use super::partition::{Cuts, Refuse};
use super::plan::{ContainerRef, DockerNodeSpec, FaultKind};
use super::proxy::Toxic;

/// The chain splitbrain owns in every node; healing removes it and nothing else.
pub const CHAIN: &str = "SPLITBRAIN";

/// Seconds a graceful stop may take before Docker sends SIGKILL.
const GRACE_SECONDS: i32 = 5;

/// The containers of a run, resolved to IDs.
#[derive(Debug)]
pub struct DockerNodes {
    docker: Docker,
    nodes: Vec<Container>,
    /// The partitions in force (they may overlap) and the rules each node has now; one
    /// lock, so partitions starting and healing at once are applied one after the other.
    partitions: tokio::sync::Mutex<Partitions>,
    /// What `slow` does when there are no fault proxies: a qdisc in each container.
    slow: Option<Toxic>,
}

#[derive(Debug, Default)]
struct Partitions {
    active: Vec<Cuts>,
    /// Per node, the refusals its chain holds now (absent: no chain).
    applied: BTreeMap<String, Vec<Refuse>>,
}

#[derive(Debug, Clone)]
struct Container {
    name: String,
    id: String,
    /// Its addresses on every network when the run began, so a partition can name a peer
    /// that is down at the time.
    ips: Vec<String>,
}

/// What Docker says of a container now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerStatus {
    pub name: String,
    pub running: bool,
    pub paused: bool,
    /// The host PID of its main process (0 when it is not running).
    pub pid: i64,
}

impl DockerNodes {
    /// Reaches Docker (`DOCKER_HOST` or the local socket), negotiates the API version, and
    /// finds every node's container.
    pub async fn connect(specs: &[DockerNodeSpec]) -> Result<DockerNodes, NemesisError> {
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| unreachable_docker(e.to_string()))?
            .negotiate_version()
            .await
            .map_err(|e| unreachable_docker(e.to_string()))?;
        let mut nodes = Vec::new();
        for spec in specs {
            let id = match &spec.container {
                ContainerRef::Name(name) => name.clone(),
                ContainerRef::Label(label) => find_by_label(&docker, &spec.name, label).await?,
            };
            let info = inspect(&docker, &spec.name, &id).await?;
            nodes.push(Container {
                name: spec.name.clone(),
                id: info.id.clone().unwrap_or(id),
                ips: ips(&info),
            });
        }
        Ok(DockerNodes {
            docker,
            nodes,
            partitions: Default::default(),
            slow: None,
        })
    }

    /// Makes `slow` a qdisc (netem for latency and loss, tbf for bandwidth) on every
    /// interface of the hit containers; see [`qdisc`] for which toxics can be. Without it,
    /// `slow` is refused and healing leaves qdiscs alone (no `ip`/`tc` runs).
    pub fn slow_with(mut self, toxic: Toxic) -> DockerNodes {
        self.slow = Some(toxic);
        self
    }

    /// Every node's state, in the workload's order.
    pub async fn status(&self) -> Result<Vec<ContainerStatus>, NemesisError> {
        let mut out = Vec::new();
        for node in &self.nodes {
            out.push(status_of(&node.name, &self.inspect(node).await?));
        }
        Ok(out)
    }

    /// Refuses to start a run on nodes a dead run left broken: each must be running and
    /// not paused.
    pub async fn check_ready(&self, workload: &str) -> Result<(), NemesisError> {
        for status in self.status().await? {
            if !status.running || status.paused {
                let state = if status.paused {
                    "paused"
                } else {
                    "not running"
                };
                return Err(NemesisError::NotReady {
                    node: status.name,
                    state: state.into(),
                    hint: format!("start it, or run `splitbrain heal {workload}`"),
                });
            }
        }
        Ok(())
    }

    /// Injects `fault` on `names` (for a partition, `cuts` says which links); returns what
    /// was done, for the history.
    pub async fn inject(
        &self,
        fault: FaultKind,
        names: &[String],
        cuts: Option<&Cuts>,
    ) -> Result<Value, NemesisError> {
        if fault == FaultKind::Partition {
            let cuts = cuts.expect("a partition comes with its cuts");
            let mut partitions = self.partitions.lock().await;
            partitions.active.push(cuts.clone());
            let rules = self.apply(&mut partitions).await?;
            return Ok(json!({ "cuts": cuts.to_json(), "rules": rules }));
        }
        if fault == FaultKind::Slow {
            return self.slow(names).await;
        }
        let mut done = Vec::new();
        for node in self.select(names) {
            let pid = self.inspect(node).await?.state.and_then(|s| s.pid);
            let what = match fault {
                FaultKind::Kill => {
                    let options = KillContainerOptions {
                        signal: "SIGKILL".into(),
                    };
                    self.docker.kill_container(&node.id, Some(options)).await
                }
                FaultKind::Pause => self.docker.pause_container(&node.id).await,
                FaultKind::Restart => {
                    let options = StopContainerOptions {
                        t: Some(GRACE_SECONDS),
                        signal: None,
                    };
                    self.docker.stop_container(&node.id, Some(options)).await
                }
                FaultKind::Partition | FaultKind::Slow => {
                    return Err(NemesisError::Unsupported {
                        fault: fault.name(),
                    });
                }
            };
            what.map_err(|e| api_error(format!("{fault} {}", node.name), e))?;
            done.push(json!({ "node": node.name, "container": short(&node.id), "pid": pid }));
        }
        Ok(Value::Array(done))
    }

    /// Undoes a kill, pause, restart or slow on `names`: resume, start, or remove the
    /// qdisc (when slow is a qdisc here).
    pub async fn heal(&self, names: &[String]) -> Result<Value, NemesisError> {
        let mut done = Vec::new();
        for node in self.select(names) {
            let mut healed = self.revive(node).await?;
            if self.slow.is_some() {
                healed.extend(self.unslow(node).await?);
            }
            done.push(json!({ "node": node.name, "healed": healed }));
        }
        Ok(Value::Array(done))
    }

    /// Ends one partition: the links it cut come back unless another partition in force
    /// cuts them too. Returns each changed node's rules (empty: its chain was removed).
    pub async fn heal_partition(&self, cuts: &Cuts) -> Result<Value, NemesisError> {
        let mut partitions = self.partitions.lock().await;
        if let Some(at) = partitions.active.iter().position(|c| c == cuts) {
            partitions.active.remove(at);
        }
        let rules = self.apply(&mut partitions).await?;
        Ok(json!({ "rules": rules }))
    }

    /// Heals everything on every node, whatever splitbrain believes is active (so it also
    /// cleans up after a dead run); returns what was healed, one line each.
    pub async fn heal_all(&self) -> Result<Vec<String>, NemesisError> {
        let mut partitions = self.partitions.lock().await;
        *partitions = Partitions::default();
        let mut healed = Vec::new();
        for node in &self.nodes {
            for what in self.revive(node).await? {
                healed.push(format!("{}: {what}", node.name));
            }
            if let Some(pid) = self.running_pid(node).await?
                && remove_chain(pid).await
            {
                healed.push(format!("{}: removed iptables chain {CHAIN}", node.name));
            }
            if self.slow.is_some() {
                for what in self.unslow(node).await? {
                    healed.push(format!("{}: {what}", node.name));
                }
            }
        }
        Ok(healed)
    }

    fn select<'a>(&'a self, names: &'a [String]) -> impl Iterator<Item = &'a Container> + 'a {
        self.nodes.iter().filter(|n| names.contains(&n.name))
    }

    async fn inspect(&self, node: &Container) -> Result<ContainerInspectResponse, NemesisError> {
        inspect(&self.docker, &node.name, &node.id).await
    }

    /// Unpauses a paused container and starts a stopped one; says what it did.
    async fn revive(&self, node: &Container) -> Result<Vec<String>, NemesisError> {
        let status = status_of(&node.name, &self.inspect(node).await?);
        let mut done = Vec::new();
        if status.paused {
            self.docker
                .unpause_container(&node.id)
                .await
                .map_err(|e| api_error(format!("unpause {}", node.name), e))?;
            done.push("unpaused".to_owned());
        } else if !status.running {
            self.docker
                .start_container(&node.id, None::<StartContainerOptions>)
                .await
                .map_err(|e| api_error(format!("start {}", node.name), e))?;
            let pid = self.inspect(node).await?.state.and_then(|s| s.pid);
            done.push(format!("started (pid {})", pid.unwrap_or(0)));
        }
        Ok(done)
    }

    /// Brings every node's chain in line with the union of the partitions in force,
    /// rewriting only the nodes whose refusals changed. Returns the new rules of each
    /// changed node (`[]`: chain removed).
    async fn apply(
        &self,
        partitions: &mut Partitions,
    ) -> Result<BTreeMap<String, Vec<String>>, NemesisError> {
        let wanted = Cuts::union(&partitions.active).grudges();
        let by_name: HashMap<&str, &Container> =
            self.nodes.iter().map(|n| (n.name.as_str(), n)).collect();
        let mut changed = BTreeMap::new();
        for node in &self.nodes {
            let want = wanted.get(&node.name);
            if want == partitions.applied.get(&node.name) {
                continue;
            }
            let Some(pid) = self.running_pid(node).await? else {
                // A stopped node has no network to cut; it starts with none.
                partitions.applied.remove(&node.name);
                continue;
            };
            remove_chain(pid).await;
            partitions.applied.remove(&node.name);
            let Some(refuses) = want else {
                changed.insert(node.name.clone(), Vec::new());
                continue;
            };
            let mut lines = vec![format!("-N {CHAIN}"), format!("-I INPUT 1 -j {CHAIN}")];
            for refuse in refuses {
                for ip in &by_name[refuse.peer.as_str()].ips {
                    lines.push(if refuse.only_initiated {
                        // Drops what the peer opens; replies to what this node opens pass.
                        format!("-A {CHAIN} -s {ip} -m conntrack --ctdir ORIGINAL -j DROP")
                    } else {
                        format!("-A {CHAIN} -s {ip} -j DROP")
                    });
                }
            }
            for line in &lines {
                let args: Vec<&str> = line.split(' ').collect();
                let out = iptables(pid, &args).await?;
                if !out.status.success() {
                    remove_chain(pid).await;
                    return Err(NemesisError::Iptables {
                        node: node.name.clone(),
                        rule: line.clone(),
                        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    });
                }
            }
            partitions
                .applied
                .insert(node.name.clone(), refuses.clone());
            changed.insert(node.name.clone(), lines);
        }
        Ok(changed)
    }

    /// Puts the slow qdisc on every interface of the running containers among `names`.
    async fn slow(&self, names: &[String]) -> Result<Value, NemesisError> {
        let toxic = self.slow.as_ref().ok_or(NemesisError::Unsupported {
            fault: FaultKind::Slow.name(),
        })?;
        let qdisc = qdisc(toxic).ok_or(NemesisError::Unsupported {
            fault: FaultKind::Slow.name(),
        })?;
        let mut done = Vec::new();
        for node in self.select(names) {
            let Some(pid) = self.running_pid(node).await? else {
                continue;
            };
            for link in links(pid).await? {
                let mut args = vec!["qdisc", "replace", "dev", &link, "root", "handle", HANDLE];
                args.extend(qdisc.iter().map(String::as_str));
                let out = netns(pid, "tc", &args).await?;
                if !out.status.success() {
                    return Err(NemesisError::Tc {
                        node: node.name.clone(),
                        command: args.join(" "),
                        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
                    });
                }
                done.push(json!({ "node": node.name, "tc": args.join(" ") }));
            }
        }
        Ok(Value::Array(done))
    }

    /// Removes splitbrain's qdisc (and only it) from a running container's interfaces.
    async fn unslow(&self, node: &Container) -> Result<Vec<String>, NemesisError> {
        let Some(pid) = self.running_pid(node).await? else {
            return Ok(Vec::new());
        };
        let mut done = Vec::new();
        for link in links(pid).await? {
            let shown = netns(pid, "tc", &["qdisc", "show", "dev", &link]).await?;
            let ours = String::from_utf8_lossy(&shown.stdout)
                .lines()
                .any(|l| l.split_whitespace().nth(2) == Some(HANDLE));
            if ours {
                netns(pid, "tc", &["qdisc", "del", "dev", &link, "root"]).await?;
                done.push(format!("removed the slow qdisc on {link}"));
            }
        }
        Ok(done)
    }

    async fn running_pid(&self, node: &Container) -> Result<Option<i64>, NemesisError> {
        let status = status_of(&node.name, &self.inspect(node).await?);
        Ok((status.running && status.pid > 0).then_some(status.pid))
    }
}

/// What entering containers' network namespaces needs here: root, and `nsenter` and
/// `programs` on the PATH (`iptables` for partitions, `ip` and `tc` for a qdisc).
pub fn check_netns_tools(programs: &[&'static str]) -> Result<(), NemesisError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(NemesisError::NeedsRoot);
    }
    for &program in std::iter::once(&"nsenter").chain(programs) {
        let found = std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| dir.join(program).is_file())
        });
        if !found {
            return Err(NemesisError::Missing { program });
        }
    }
    Ok(())
}

/// The handle of the qdisc splitbrain adds, so healing removes only its own.
const HANDLE: &str = "5b1:";

/// The `tc qdisc` arguments (after `root handle 5b1:`) that make `toxic`, if a qdisc can:
/// netem for latency with jitter and for a blackhole (100 % loss), tbf for bandwidth. A
/// reset or a refusal needs the fault proxy.
pub fn qdisc(toxic: &Toxic) -> Option<Vec<String>> {
    let ms = |d: std::time::Duration| format!("{}ms", d.as_millis());
    match toxic {
        Toxic::Latency {
            latency, jitter, ..
        } => Some(vec![
            "netem".into(),
            "delay".into(),
            ms(*latency),
            ms(*jitter),
        ]),
        Toxic::Blackhole { .. } => Some(vec!["netem".into(), "loss".into(), "100%".into()]),
        Toxic::Bandwidth { bytes_per_sec, .. } if *bytes_per_sec > 0 => Some(vec![
            "tbf".into(),
            "rate".into(),
            format!("{}bit", bytes_per_sec * 8),
            "burst".into(),
            "32kbit".into(),
            "latency".into(),
            "400ms".into(),
        ]),
        _ => None,
    }
}

/// Checks that this kernel has the qdisc `slow` needs, in a network namespace of its own
/// (so no container is touched): this is where a kernel without netem says so.
pub async fn check_qdisc(toxic: &Toxic) -> Result<(), NemesisError> {
    let Some(qdisc) = qdisc(toxic) else {
        return Err(NemesisError::Unsupported {
            fault: FaultKind::Slow.name(),
        });
    };
    let out = Command::new("unshare")
        .args(["--net", "tc", "qdisc", "add", "dev", "lo", "root"])
        .args(&qdisc)
        .output()
        .await
        .map_err(|source| NemesisError::Io {
            what: "run unshare --net tc (to check the kernel's qdiscs)".into(),
            source,
        })?;
    if out.status.success() {
        return Ok(());
    }
    Err(NemesisError::NoQdisc {
        qdisc: qdisc[0].clone(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
}

/// The network interfaces in `pid`'s namespace, loopback left out.
async fn links(pid: i64) -> Result<Vec<String>, NemesisError> {
    let out = netns(pid, "ip", &["-o", "link", "show"]).await?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).to_owned())
        .filter(|name| name != "lo")
        .collect())
}

/// Runs `program args` in `pid`'s network namespace.
async fn netns(pid: i64, program: &str, args: &[&str]) -> Result<Output, NemesisError> {
    let pid = pid.to_string();
    Command::new("nsenter")
        .args(["-t", &pid, "-n", program])
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| NemesisError::Io {
            what: format!("run nsenter -t {pid} -n {program} {}", args.join(" ")),
            source,
        })
}

/// Deletes the jump and the chain in `pid`'s network namespace; `true` if the chain was there.
async fn remove_chain(pid: i64) -> bool {
    // A jump inserted twice (by hand, or a dead run and this one) needs deleting twice.
    for _ in 0..16 {
        match iptables(pid, &["-D", "INPUT", "-j", CHAIN]).await {
            Ok(out) if out.status.success() => continue,
            _ => break,
        }
    }
    let flushed = iptables(pid, &["-F", CHAIN])
        .await
        .is_ok_and(|o| o.status.success());
    let _ = iptables(pid, &["-X", CHAIN]).await;
    flushed
}

async fn iptables(pid: i64, args: &[&str]) -> Result<Output, NemesisError> {
    let mut all = vec!["-w"];
    all.extend_from_slice(args);
    netns(pid, "iptables", &all).await
}

async fn find_by_label(docker: &Docker, node: &str, label: &str) -> Result<String, NemesisError> {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([("label".into(), vec![label.into()])])),
        ..Default::default()
    };
    let found = docker
        .list_containers(Some(options))
        .await
        .map_err(|e| api_error(format!("list containers labelled {label}"), e))?;
    let names = |c: &bollard::models::ContainerSummary| {
        c.names
            .clone()
            .unwrap_or_default()
            .join(",")
            .replace('/', "")
    };
    match found.as_slice() {
        [one] => Ok(one.id.clone().unwrap_or_default()),
        [] => Err(NemesisError::NoContainer {
            node: node.into(),
            wanted: format!("a container labelled {label}"),
            found: "none".into(),
        }),
        many => Err(NemesisError::NoContainer {
            node: node.into(),
            wanted: format!("one container labelled {label}"),
            found: many.iter().map(names).collect::<Vec<_>>().join(" "),
        }),
    }
}

async fn inspect(
    docker: &Docker,
    node: &str,
    id: &str,
) -> Result<ContainerInspectResponse, NemesisError> {
    docker
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => NemesisError::NoContainer {
                node: node.into(),
                wanted: format!("a container named {id}"),
                found: "none".into(),
            },
            e => api_error(format!("inspect {node} ({id})"), e),
        })
}

fn status_of(name: &str, info: &ContainerInspectResponse) -> ContainerStatus {
    let state = info.state.clone().unwrap_or_default();
    ContainerStatus {
        name: name.to_owned(),
        running: state.running.unwrap_or(false),
        paused: state.paused.unwrap_or(false),
        pid: state.pid.unwrap_or(0),
    }
}

fn ips(info: &ContainerInspectResponse) -> Vec<String> {
    let networks = info
        .network_settings
        .as_ref()
        .and_then(|s| s.networks.as_ref());
    let mut ips: Vec<String> = networks
        .into_iter()
        .flatten()
        .filter_map(|(_, endpoint)| endpoint.ip_address.clone())
        .filter(|ip| !ip.is_empty())
        .collect();
    ips.sort();
    ips
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

fn unreachable_docker(reason: String) -> NemesisError {
    let host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    NemesisError::DockerUnreachable { host, reason }
}

fn api_error(what: String, e: bollard::errors::Error) -> NemesisError {
    NemesisError::Docker {
        what,
        reason: e.to_string(),
    }
}

//! The process backend: nodes are local processes splitbrain starts from the workload's
//! commands, each the leader of its own process group, so a signal reaches the node and every
//! child it forked. Kill is SIGKILL (restart at heal), pause is SIGSTOP / SIGCONT, restart is
//! SIGTERM (SIGKILL after 5 s) then a fresh start at heal.
//!
//! Healing is synchronous (signals and spawns), so it also runs from `Drop`: a panicking run
//! still resumes and stops what it started. A state file lists the live nodes' PIDs, so
//! `splitbrain heal` can clean up after a run that was killed with SIGKILL.

use std::fs::{File, OpenOptions};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::NemesisError;
use super::plan::{FaultKind, NodeSpec};

/// How long a graceful stop may take before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// The nodes of a run, started and owned by splitbrain.
#[derive(Debug)]
pub struct ProcessNodes {
    nodes: Mutex<Vec<Node>>,
    log_dir: PathBuf,
    state_path: PathBuf,
}

#[derive(Debug)]
struct Node {
    spec: NodeSpec,
    /// `None` while killed or stopped by a fault.
    child: Option<Child>,
    paused: bool,
}

/// The state file: what `splitbrain heal` needs to find a dead run's nodes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    pub nodes: Vec<StateNode>,
}

/// One live node in the state file.
#[derive(Debug, Serialize, Deserialize)]
pub struct StateNode {
    pub name: String,
    pub pid: i32,
    /// The program, to tell our process from another that reused the PID.
    pub program: String,
}

impl ProcessNodes {
    /// Starts every node; their output goes to `log_dir/<name>.log`.
    pub fn start(
        specs: &[NodeSpec],
        log_dir: &Path,
        state_path: PathBuf,
    ) -> Result<ProcessNodes, NemesisError> {
        std::fs::create_dir_all(log_dir).map_err(|source| NemesisError::Io {
            what: format!("create {}", log_dir.display()),
            source,
        })?;
        let nodes = ProcessNodes {
            nodes: Mutex::new(Vec::new()),
            log_dir: log_dir.to_path_buf(),
            state_path,
        };
        for spec in specs {
            let child = nodes.spawn(spec)?;
            let node = Node {
                spec: spec.clone(),
                child: Some(child),
                paused: false,
            };
            nodes.lock().push(node);
        }
        nodes.save_state();
        Ok(nodes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Node>> {
        self.nodes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn spawn(&self, spec: &NodeSpec) -> Result<Child, NemesisError> {
        let log = self.log_dir.join(format!("{}.log", spec.name));
        let open = || OpenOptions::new().create(true).append(true).open(&log);
        let io_err = |source| NemesisError::Io {
            what: format!("open {}", log.display()),
            source,
        };
        let (out, err): (File, File) = (open().map_err(io_err)?, open().map_err(io_err)?);
        Command::new(&spec.command[0])
            .args(&spec.command[1..])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|source| NemesisError::Io {
                what: format!("start node {} ({})", spec.name, spec.command.join(" ")),
                source,
            })
    }

    /// Injects `fault` on `names`; returns what was done, for the history.
    pub fn inject(&self, fault: FaultKind, names: &[String]) -> Result<Value, NemesisError> {
        let mut nodes = self.lock();
        let mut pids = Vec::new();
        for node in nodes.iter_mut().filter(|n| names.contains(&n.spec.name)) {
            let Some(pid) = node.child.as_ref().map(|c| c.id() as i32) else {
                continue; // already down
            };
            pids.push(pid);
            match fault {
                FaultKind::Pause => {
                    signal(pid, Signal::SIGSTOP)?;
                    node.paused = true;
                }
                FaultKind::Kill => node.stop(Signal::SIGKILL, Duration::ZERO),
                FaultKind::Restart => node.stop(Signal::SIGTERM, GRACE),
                other => {
                    return Err(NemesisError::Unsupported {
                        fault: other.name(),
                    });
                }
            }
        }
        drop(nodes);
        self.save_state();
        let sig = match fault {
            FaultKind::Pause => "SIGSTOP",
            FaultKind::Kill => "SIGKILL",
            _ => "SIGTERM",
        };
        Ok(json!({ "signal": sig, "pids": pids }))
    }

    /// Heals `names`, whatever the fault was: resumes paused nodes, starts stopped ones.
    pub fn heal(&self, names: &[String]) -> Result<Value, NemesisError> {
        let mut restarted = Vec::new();
        let mut resumed = Vec::new();
        let mut first_error = None;
        {
            let mut nodes = self.lock();
            for node in nodes.iter_mut().filter(|n| names.contains(&n.spec.name)) {
                match self.heal_node(node) {
                    Ok(Healed::Resumed(pid)) => resumed.push(pid),
                    Ok(Healed::Restarted(pid)) => restarted.push(pid),
                    Ok(Healed::Nothing) => {}
                    Err(e) => first_error = first_error.or(Some(e)),
                }
            }
        }
        self.save_state();
        match first_error {
            Some(e) => Err(e),
            None => Ok(json!({ "resumed": resumed, "restarted": restarted })),
        }
    }

    fn heal_node(&self, node: &mut Node) -> Result<Healed, NemesisError> {
        if node.paused {
            if let Some(child) = &node.child {
                signal(child.id() as i32, Signal::SIGCONT)?;
            }
            node.paused = false;
            return Ok(node
                .child
                .as_ref()
                .map_or(Healed::Nothing, |c| Healed::Resumed(c.id() as i32)));
        }
        if node.child.is_none() {
            let child = self.spawn(&node.spec)?;
            let pid = child.id() as i32;
            node.child = Some(child);
            return Ok(Healed::Restarted(pid));
        }
        Ok(Healed::Nothing)
    }

    /// Heals every node: resumes the paused, starts the stopped. Returns the node names
    /// healed; errors are collected, not stopped at.
    pub fn heal_all(&self) -> Result<Vec<String>, NemesisError> {
        let names: Vec<String> = self
            .lock()
            .iter()
            .filter(|n| n.paused || n.child.is_none())
            .map(|n| n.spec.name.clone())
            .collect();
        if names.is_empty() {
            return Ok(names);
        }
        self.heal(&names).map(|_| names)
    }

    /// Stops every node (resuming paused ones first, so SIGTERM is delivered) and removes
    /// the state file. Safe to call twice.
    pub fn shutdown(&self) {
        let mut nodes = self.lock();
        for node in nodes.iter_mut() {
            if node.paused {
                if let Some(child) = &node.child {
                    let _ = signal(child.id() as i32, Signal::SIGCONT);
                }
                node.paused = false;
            }
            node.stop(Signal::SIGTERM, GRACE);
        }
        drop(nodes);
        let _ = std::fs::remove_file(&self.state_path);
    }

    /// The PID of each running node, by name (for tests and the history).
    pub fn pids(&self) -> Vec<(String, Option<u32>)> {
        self.lock()
            .iter()
            .map(|n| (n.spec.name.clone(), n.child.as_ref().map(Child::id)))
            .collect()
    }

    fn save_state(&self) {
        let state = State {
            nodes: self
                .lock()
                .iter()
                .filter_map(|n| {
                    n.child.as_ref().map(|c| StateNode {
                        name: n.spec.name.clone(),
                        pid: c.id() as i32,
                        program: n.spec.command[0].clone(),
                    })
                })
                .collect(),
        };
        if let Some(dir) = self.state_path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let text = serde_json::to_string_pretty(&state).expect("the state serialises");
        let _ = std::fs::write(&self.state_path, text);
    }
}

impl Drop for ProcessNodes {
    /// A run that ends any way at all, a panic included, leaves no node paused or running.
    fn drop(&mut self) {
        self.shutdown();
    }
}

enum Healed {
    Resumed(i32),
    Restarted(i32),
    Nothing,
}

impl Node {
    /// Sends `sig` to the node's process group and reaps it, escalating to SIGKILL after
    /// `grace`.
    fn stop(&mut self, sig: Signal, grace: Duration) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id() as i32;
        let _ = signal(pid, sig);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL); // its children too
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = signal(pid, Signal::SIGKILL);
        let _ = child.wait();
    }
}

fn signal(pid: i32, sig: Signal) -> Result<(), NemesisError> {
    killpg(Pid::from_raw(pid), sig).map_err(|errno| NemesisError::Signal {
        signal: sig.as_str().to_owned(),
        pid,
        reason: errno.desc().to_owned(),
    })
}

/// `splitbrain heal` for the process backend: finds the nodes a dead run left (from its state
/// file), resumes and stops them, and removes the file. Returns one line per node acted on.
pub fn heal_from_state(state_path: &Path) -> Result<Vec<String>, NemesisError> {
    let text = match std::fs::read_to_string(state_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(NemesisError::Io {
                what: format!("read {}", state_path.display()),
                source,
            });
        }
    };
    let state: State = serde_json::from_str(&text).map_err(|e| NemesisError::Io {
        what: format!("parse {}", state_path.display()),
        source: std::io::Error::other(e),
    })?;
    let mut done = Vec::new();
    for node in state.nodes {
        if !runs_program(node.pid, &node.program) {
            done.push(format!(
                "{}: pid {} is gone; nothing to do",
                node.name, node.pid
            ));
            continue;
        }
        let _ = signal(node.pid, Signal::SIGCONT);
        let _ = signal(node.pid, Signal::SIGTERM);
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline && runs_program(node.pid, &node.program) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = signal(node.pid, Signal::SIGKILL);
        done.push(format!(
            "{}: resumed and stopped pid {}",
            node.name, node.pid
        ));
    }
    let _ = std::fs::remove_file(state_path);
    Ok(done)
}

/// Whether `pid` is alive and runs `program` (so a reused PID is left alone).
fn runs_program(pid: i32, program: &str) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // A zombie (state Z) is dead for our purposes.
    let zombie = stat
        .rsplit(')')
        .next()
        .is_some_and(|rest| rest.trim_start().starts_with('Z'));
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let name = |p: &[u8]| {
        Path::new(std::str::from_utf8(p).unwrap_or_default())
            .file_name()
            .map(|n| n.to_owned())
    };
    !zombie && name(argv0) == name(program.as_bytes())
}

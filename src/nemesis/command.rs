//! The command-hook backend of the nemesis: on a system splitbrain cannot reach itself
//! (staging behind kubectl, hosts behind ssh), the workload gives each fault a `start` and a
//! `heal` shell command, and splitbrain runs them when the nemesis schedule says so.
//!
//! A hook decides nothing about which fault or which nodes: the nemesis passes the affected
//! nodes and their peers, the hook renders its [`CommandTemplate`] and runs the result with
//! `sh -c`, each command in its own process group, with a deadline. It reports every run as a
//! [`CommandRun`] for the history's nemesis event.
//!
//! Secrets: commands refer to them as `$VAR` and the shell expands them; splitbrain never
//! does, so the history records the command as written. Values passed in `env` are also
//! redacted from the recorded output. Recipes for kubectl, ssh + iptables and Chaos Mesh are
//! in `fault-injection/`.

mod process;
mod template;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::task::JoinSet;

pub use template::{COMMAND_PLACEHOLDERS, CommandTemplate, validate_node_name};

/// The start and heal command of one fault.
#[derive(Clone, Debug)]
pub struct Hook {
    /// Starts the fault (cut the network, kill or pause the process).
    pub start: CommandTemplate,
    /// Heals it (flush the rules, wait for the restarted pod, resume the process). Must be
    /// safe to run when the fault is not active (after a start that failed, or from a heal
    /// after splitbrain was killed, which cannot know what was started).
    pub heal: CommandTemplate,
    /// How long each command may run before its process group is killed.
    pub timeout: Duration,
}

/// What running one command did, for the history's nemesis event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CommandRun {
    /// The command as run: placeholders filled, `$VAR`s as written (the shell expanded them).
    pub command: String,
    /// The exit code; `None` if `sh` was ended by a signal.
    pub status: Option<i32>,
    /// Standard output, cut to 4 KB, values of `env` redacted.
    pub stdout: String,
    /// Standard error, cut to 4 KB, values of `env` redacted.
    pub stderr: String,
    /// Wall-clock seconds from spawn to exit.
    pub seconds: f64,
}

/// Why a hook command did not succeed. No message carries the value of an environment
/// variable: commands hold `$VAR`s as written, and stderr has `env`'s values redacted.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The command exited non-zero or was ended by a signal (`status` is then `None`).
    #[error("failed to run nemesis hook `{command}`: {}", exit(*status, stderr))]
    Failed {
        /// The command as run.
        command: String,
        /// The exit code; `None` if ended by a signal.
        status: Option<i32>,
        /// Standard error, cut to 4 KB, values of `env` redacted.
        stderr: String,
    },
    /// The command ran past the hook's timeout; its whole process group was killed.
    #[error("failed to run nemesis hook `{command}`: still running after {after:?}, killed")]
    Timeout {
        /// The command as run.
        command: String,
        /// The hook's timeout.
        after: Duration,
    },
    /// `sh` could not be started (or waited for).
    #[error("failed to run nemesis hook `{command}` with sh: {source}")]
    Spawn {
        /// The command that was to run.
        command: String,
        /// What the operating system said.
        #[source]
        source: io::Error,
    },
    /// A node name that is not safe to put into a shell command; nothing was run.
    #[error("failed to run nemesis hook `{template}`: {message}")]
    InvalidNode {
        /// The template, as written.
        template: String,
        /// Which name and why (from [`validate_node_name`]).
        message: String,
    },
}

/// `exit status 3: no route to host`, for [`HookError::Failed`].
fn exit(status: Option<i32>, stderr: &str) -> String {
    let how = status.map_or_else(
        || "ended by a signal".to_owned(),
        |c| format!("exit status {c}"),
    );
    match stderr.trim_end() {
        "" => format!("{how}, nothing on stderr"),
        said => format!("{how}: {said}"),
    }
}

impl Hook {
    /// Runs the start command(s) for `nodes` (affected) with `peers` (the rest) and `env`
    /// added to the environment. All commands run, concurrently, even if one fails; returns
    /// every run in order (one per node if the template uses `{{node}}`), or the first
    /// error in that order once all have finished. See [`Hook::start_each`] to keep the runs
    /// that succeeded next to the ones that did not.
    pub async fn start(
        &self,
        nodes: &[String],
        peers: &[String],
        env: &[(String, String)],
    ) -> Result<Vec<CommandRun>, HookError> {
        first_error(self.start_each(nodes, peers, env).await)
    }

    /// Runs the heal command(s), as [`Hook::start`] runs the start command(s).
    pub async fn heal(
        &self,
        nodes: &[String],
        peers: &[String],
        env: &[(String, String)],
    ) -> Result<Vec<CommandRun>, HookError> {
        first_error(self.heal_each(nodes, peers, env).await)
    }

    /// Runs the start command(s) and returns each one's outcome, in order. A bad node name
    /// is one [`HookError::InvalidNode`] and nothing runs.
    pub async fn start_each(
        &self,
        nodes: &[String],
        peers: &[String],
        env: &[(String, String)],
    ) -> Vec<Result<CommandRun, HookError>> {
        run_all(&self.start, self.timeout, nodes, peers, env).await
    }

    /// Runs the heal command(s) and returns each one's outcome, as [`Hook::start_each`].
    pub async fn heal_each(
        &self,
        nodes: &[String],
        peers: &[String],
        env: &[(String, String)],
    ) -> Vec<Result<CommandRun, HookError>> {
        run_all(&self.heal, self.timeout, nodes, peers, env).await
    }
}

/// Renders `template` and runs every command concurrently, each on its own task. If this
/// future is dropped (the run is cancelled), the tasks are aborted and every command's
/// process group is killed.
async fn run_all(
    template: &CommandTemplate,
    timeout: Duration,
    nodes: &[String],
    peers: &[String],
    env: &[(String, String)],
) -> Vec<Result<CommandRun, HookError>> {
    let commands = match template.render(nodes, peers) {
        Ok(commands) => commands,
        Err(message) => {
            let template = template.as_str().to_owned();
            return vec![Err(HookError::InvalidNode { template, message })];
        }
    };
    let env: Arc<[(String, String)]> = env.into();
    let mut tasks = JoinSet::new();
    for (at, command) in commands.into_iter().enumerate() {
        let env = Arc::clone(&env);
        tasks.spawn(async move { (at, process::run_command(command, env, timeout).await) });
    }
    let mut outcomes: Vec<Option<Result<CommandRun, HookError>>> = Vec::new();
    outcomes.resize_with(tasks.len(), || None);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((at, outcome)) => outcomes[at] = Some(outcome),
            // The set is never aborted while joined, so a task only ends early by panicking.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    outcomes.into_iter().flatten().collect()
}

fn first_error(outcomes: Vec<Result<CommandRun, HookError>>) -> Result<Vec<CommandRun>, HookError> {
    outcomes.into_iter().collect()
}

#[cfg(test)]
mod tests;

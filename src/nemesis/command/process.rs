//! Running one rendered command with `sh -c`: its own process group, stdin closed, output
//! captured (bounded), a deadline after which the whole group is killed.
//!
//! The command runs in a new process group so that a timeout kills everything it started
//! (`sleep 600; iptables ...`, a `kubectl` started by a script), not only the `sh` on top.
//! Being outside splitbrain's group also keeps a terminal's Ctrl-C from reaching a hook
//! half-way: splitbrain decides what happens on Ctrl-C (it heals).

use std::io;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};

use super::{CommandRun, HookError};

/// How much of stdout and of stderr is kept, in bytes, after secrets are redacted.
pub(super) const OUTPUT_LIMIT: usize = 4096;

/// How much output is read before redaction; the rest is read and dropped.
const READ_LIMIT: usize = 64 * 1024;

/// How long to keep reading output after `sh` exited, in case something it left in the
/// background still holds the pipe open.
const OUTPUT_GRACE: Duration = Duration::from_millis(500);

/// How long to wait for a killed `sh` to be reaped before leaving it to `kill_on_drop`.
const REAP_GRACE: Duration = Duration::from_secs(1);

/// Runs `command` with `sh -c` and `env` added to splitbrain's environment. A non-zero exit
/// is [`HookError::Failed`]; running past `timeout` kills the process group and is
/// [`HookError::Timeout`]. Output and error messages have the values of `env` redacted.
pub(super) async fn run_command(
    command: String,
    env: Arc<[(String, String)]>,
    timeout: Duration,
) -> Result<CommandRun, HookError> {
    let began = Instant::now();
    let child = match spawn(&command, &env) {
        Ok(child) => child,
        Err(source) => return Err(HookError::Spawn { command, source }),
    };
    let mut group = Group::new(child);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = match group.wait(began + timeout, &mut stdout, &mut stderr).await {
        Some(Ok(status)) => status,
        Some(Err(source)) => return Err(HookError::Spawn { command, source }),
        None => {
            group.kill().await;
            return Err(HookError::Timeout {
                command,
                after: timeout,
            });
        }
    };
    let stdout = captured(&stdout, &env);
    let stderr = captured(&stderr, &env);
    if !status.success() {
        return Err(HookError::Failed {
            command,
            status: status.code(),
            stderr,
        });
    }
    Ok(CommandRun {
        command,
        status: status.code(),
        stdout,
        stderr,
        seconds: began.elapsed().as_secs_f64(),
    })
}

fn spawn(command: &str, env: &[(String, String)]) -> io::Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
}

/// A running command and its process group. Dropped before the command finished (the
/// hook's future was cancelled), it kills the whole group; `kill_on_drop` then kills `sh`.
struct Group {
    child: Child,
    /// The group id (the `sh`'s pid, as `process_group(0)` made it the leader); `None` once
    /// `sh` exited normally, after which the group is left alone.
    pgid: Option<u32>,
}

impl Group {
    fn new(child: Child) -> Group {
        let pgid = child.id();
        Group { child, pgid }
    }

    /// Waits for `sh` to exit while reading its output, until `deadline`. `None` on timeout.
    async fn wait(
        &mut self,
        deadline: Instant,
        stdout: &mut Vec<u8>,
        stderr: &mut Vec<u8>,
    ) -> Option<io::Result<ExitStatus>> {
        let out = self.child.stdout.take();
        let err = self.child.stderr.take();
        let drain = async { tokio::join!(read_capped(out, stdout), read_capped(err, stderr)) };
        tokio::pin!(drain);
        let deadline = tokio::time::Instant::from_std(deadline);
        let mut drained = false;
        let status = loop {
            tokio::select! {
                status = self.child.wait() => break status,
                _ = &mut drain, if !drained => drained = true,
                () = tokio::time::sleep_until(deadline) => return None,
            }
        };
        if status.is_ok() {
            // `sh` is reaped: its pid, hence the group id, may be reused from now on.
            self.pgid = None;
        }
        if !drained {
            let _ = tokio::time::timeout(OUTPUT_GRACE, &mut drain).await;
        }
        Some(status)
    }

    /// Kills the process group, then makes sure `sh` is reaped.
    async fn kill(&mut self) {
        self.kill_group();
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(REAP_GRACE, self.child.wait()).await;
    }

    /// `kill -s KILL -- -PGID`, through `sh`'s builtin: the library forbids `unsafe`, so no
    /// direct `kill(2)`. The group still exists (its leader is not reaped yet), so the id
    /// cannot have been reused.
    fn kill_group(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            let _ = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("kill -s KILL -- -{pgid} 2>/dev/null"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// Reads `pipe` to its end, keeping the first [`READ_LIMIT`] bytes in `into`.
async fn read_capped(pipe: Option<impl AsyncRead + Unpin>, into: &mut Vec<u8>) {
    let Some(mut pipe) = pipe else { return };
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let room = READ_LIMIT.saturating_sub(into.len());
                into.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
}

/// Output as text for the history: invalid UTF-8 replaced, every non-empty value of `env`
/// replaced by `${NAME}`, then cut to [`OUTPUT_LIMIT`] bytes.
pub(super) fn captured(bytes: &[u8], env: &[(String, String)]) -> String {
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    for (name, value) in env {
        if !value.is_empty() && text.contains(value.as_str()) {
            text = text.replace(value.as_str(), &format!("${{{name}}}"));
        }
    }
    cut(text, OUTPUT_LIMIT)
}

/// `text` cut to at most `limit` bytes at a character boundary, saying how much was cut.
fn cut(mut text: String, limit: usize) -> String {
    if text.len() <= limit {
        return text;
    }
    let mut at = limit;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let dropped = text.len() - at;
    text.truncate(at);
    text.push_str(&format!("\n[{dropped} more bytes cut]"));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_cut_to_the_limit_at_a_character_boundary() {
        let text = "é".repeat(OUTPUT_LIMIT);
        let kept = captured(text.as_bytes(), &[]);
        assert!(kept.starts_with(&"é".repeat(OUTPUT_LIMIT / 2)));
        assert!(kept.ends_with(&format!("[{} more bytes cut]", OUTPUT_LIMIT)));
    }

    #[test]
    fn values_of_the_given_environment_are_redacted_from_output() {
        let env = [("TOKEN".to_owned(), "s3cr3t".to_owned())];
        assert_eq!(
            captured(b"auth s3cr3t failed", &env),
            "auth ${TOKEN} failed"
        );
    }
}

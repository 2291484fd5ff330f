//! Hooks running real `sh` commands: files written per node in a temporary directory,
//! failures, timeouts and the group kill. No mocks.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;

fn hook(start: &str, heal: &str, timeout: Duration) -> Hook {
    Hook {
        start: CommandTemplate::parse(start).expect("test template parses"),
        heal: CommandTemplate::parse(heal).expect("test template parses"),
        timeout,
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn dir_env(dir: &Path) -> Vec<(String, String)> {
    vec![("DIR".to_owned(), dir.display().to_string())]
}

#[tokio::test]
async fn start_hook_runs_once_per_node_with_its_peers() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        r#"echo "{{node}} cut from {{peers}}" > "$DIR/{{node}}"; echo started {{node}}"#,
        "true",
        Duration::from_secs(10),
    );
    let nodes = names(&["orders-1", "orders-2"]);
    let runs = h
        .start(&nodes, &names(&["orders-3"]), &dir_env(dir.path()))
        .await
        .unwrap();
    assert_eq!(read(dir.path(), "orders-1"), "orders-1 cut from orders-3\n");
    assert_eq!(read(dir.path(), "orders-2"), "orders-2 cut from orders-3\n");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].status, Some(0));
    assert_eq!(runs[1].stdout, "started orders-2\n");
    assert!(
        runs[0].command.contains("\"$DIR/orders-1\""),
        "{}",
        runs[0].command
    );
}

#[tokio::test]
async fn heal_runs_the_heal_template_once_for_all_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        "echo start > \"$DIR/start\"",
        "echo {{nodes}} / {{peers}} > \"$DIR/heal\"",
        Duration::from_secs(10),
    );
    let runs = h
        .heal(&names(&["a", "b"]), &names(&["c"]), &dir_env(dir.path()))
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(read(dir.path(), "heal"), "a b / c\n");
    assert!(!dir.path().join("start").exists());
}

#[tokio::test]
async fn failing_command_gives_failed_with_status_and_stderr_yet_other_nodes_ran() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        r#"if [ {{node}} = n2 ]; then echo "no route to {{node}}" >&2; exit 3; fi; touch "$DIR/{{node}}""#,
        "true",
        Duration::from_secs(10),
    );
    let nodes = names(&["n1", "n2", "n3"]);
    let err = h
        .start(&nodes, &[], &dir_env(dir.path()))
        .await
        .unwrap_err();
    match &err {
        HookError::Failed {
            command,
            status,
            stderr,
        } => {
            assert!(command.starts_with("if [ n2 = n2 ]"), "{command}");
            assert_eq!(*status, Some(3));
            assert_eq!(stderr, "no route to n2\n");
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(
        err.to_string().contains("exit status 3: no route to n2"),
        "{err}"
    );
    assert!(dir.path().join("n1").exists() && dir.path().join("n3").exists());
    let each = h.start_each(&nodes, &[], &dir_env(dir.path())).await;
    assert!(each[0].is_ok() && each[1].is_err() && each[2].is_ok());
}

/// The state letter in `/proc/PID/stat`, or `None` once the process is gone.
fn process_state(pid: &str) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')').next()?.trim().chars().next()
}

#[tokio::test]
async fn command_past_the_timeout_is_killed_with_its_children_and_gives_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(500);
    let h = hook(
        r#"sleep 30 & echo $! > "$DIR/pid"; wait; touch "$DIR/late""#,
        "true",
        timeout,
    );
    let began = Instant::now();
    let err = h
        .start(&names(&["n1"]), &[], &dir_env(dir.path()))
        .await
        .unwrap_err();
    let took = began.elapsed();
    assert!(took < timeout + Duration::from_secs(1), "took {took:?}");
    assert!(
        matches!(&err, HookError::Timeout { after, .. } if *after == timeout),
        "{err:?}"
    );
    let pid = read(dir.path(), "pid").trim().to_owned();
    let gone = Instant::now() + Duration::from_secs(2);
    while !matches!(process_state(&pid), None | Some('Z')) {
        assert!(
            Instant::now() < gone,
            "the backgrounded sleep {pid} survived the timeout"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!dir.path().join("late").exists());
}

#[tokio::test]
async fn bad_node_name_runs_nothing_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let h = hook(
        "touch \"$DIR/ran\" {{node}}",
        "true",
        Duration::from_secs(5),
    );
    let err = h
        .start(&names(&["ok-1", "$(touch x)"]), &[], &dir_env(dir.path()))
        .await
        .unwrap_err();
    assert!(matches!(&err, HookError::InvalidNode { .. }), "{err:?}");
    assert!(err.to_string().contains("\"$(touch x)\""), "{err}");
    assert!(!dir.path().join("ran").exists());
}

#[tokio::test]
async fn environment_is_expanded_by_the_shell_and_never_recorded() {
    let h = hook(
        "echo token=$SB_TOKEN >&2; echo $SB_TOKEN",
        "true",
        Duration::from_secs(5),
    );
    let env = [("SB_TOKEN".to_owned(), "hunter2-secret".to_owned())];
    let runs = h.start(&[], &[], &env).await.unwrap();
    assert_eq!(runs[0].command, "echo token=$SB_TOKEN >&2; echo $SB_TOKEN");
    assert_eq!(runs[0].stdout, "${SB_TOKEN}\n");
    assert_eq!(runs[0].stderr, "token=${SB_TOKEN}\n");
    let json = serde_json::to_string(&runs).unwrap();
    assert!(!json.contains("hunter2"), "{json}");
}

#[tokio::test]
async fn large_output_is_cut_to_four_kilobytes_without_blocking_the_command() {
    let h = hook(
        "head -c 200000 /dev/zero | tr '\\0' x",
        "true",
        Duration::from_secs(10),
    );
    let runs = h.start(&[], &[], &[]).await.unwrap();
    assert!(runs[0].stdout.starts_with(&"x".repeat(4096)));
    assert!(runs[0].stdout.len() < 4096 + 64, "{}", runs[0].stdout.len());
}

#[tokio::test]
async fn command_that_leaves_a_background_process_still_returns() {
    let h = hook("sleep 5 & echo done", "true", Duration::from_secs(10));
    let began = Instant::now();
    let runs = h.start(&[], &[], &[]).await.unwrap();
    assert_eq!(runs[0].stdout, "done\n");
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
}

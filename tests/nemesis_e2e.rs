//! The nemesis with the process backend, end to end: the real `splitbrain` binary starts real
//! toyset processes, pauses them with SIGSTOP and kills them with SIGKILL, and must record
//! every fault, heal it, and leave nothing paused or running, even when it is interrupted or
//! killed itself (then `splitbrain heal` cleans up).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, history, splitbrain, toyset_bin};
use serde_json::Value;

/// A set workload whose one node is a toyset process that splitbrain starts.
fn workload(dir: &Path, name: &str, time_limit: &str, nemesis: &str) -> PathBuf {
    let port = free_port();
    let text = format!(
        r#"name = "{name}"
seed = 3
time_limit = "{time_limit}"
concurrency = 4
rate = 200

[target]
base_url = "http://127.0.0.1:{port}"
preflight = "/health"

[[nodes]]
name = "toyset-1"
command = ["{bin}", "--listen", "127.0.0.1:{port}"]

{nemesis}

[model]
kind = "set"
mix = {{ add = 0.8, read = 0.2 }}
[model.ops.add]
method = "PUT"
path = "/v1/items/{{{{value}}}}"
ok = [200, 201]
timeout = "300ms"
[model.ops.read]
method = "GET"
path = "/v1/items"
records = "/data"
element = "/n"
timeout = "300ms"

[phases]
quiet = "200ms"
final_reads = 2
"#,
        bin = toyset_bin().display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write workload");
    // An earlier, aborted run of this test may have left its node: heal it first (the bad
    // workloads of the bad-input test fail here, and that is fine).
    splitbrain(&["heal", path.to_str().expect("a UTF-8 path")]);
    path
}

fn nemesis_events(out: &Path, kind: &str, f: &str) -> Vec<Value> {
    history(out)
        .into_iter()
        .filter(|e| e["process"] == "nemesis" && e["type"] == kind && e["f"] == f)
        .collect()
}

/// The process state letter from /proc (`T` stopped, `S` sleeping ...), `None` if gone.
fn proc_state(pid: i64) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let state = stat.rsplit(')').next()?.trim_start().chars().next()?;
    (state != 'Z').then_some(state)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn state_file(name: &str) -> PathBuf {
    splitbrain::nemesis::state_path(name)
}

#[test]
fn pauses_are_recorded_healed_and_leave_a_valid_run_with_info_ops() {
    let dir = tempfile::tempdir().unwrap();
    let nemesis =
        "[nemesis]\nfaults = [\"pause\"]\ntarget = \"all\"\ninterval = \"1s\"\nduration = \"1s\"";
    let wl = workload(dir.path(), "e2e-pause", "4s", nemesis);
    let out = dir.path().join("run");
    let output = splitbrain(&["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let started = nemesis_events(&out, "info", "start-pause");
    let healed = nemesis_events(&out, "info", "stop-pause");
    assert!(
        !started.is_empty() && started.len() == healed.len(),
        "{started:?} {healed:?}"
    );
    let pid = started[0]["value"]["applied"]["pids"][0]
        .as_i64()
        .expect("a pid");
    assert_eq!(
        healed[0]["value"]["healed"]["resumed"][0].as_i64(),
        Some(pid)
    );
    let infos = history(&out)
        .iter()
        .filter(|e| e["type"] == "info" && e["process"] != "nemesis")
        .count();
    assert!(infos > 0, "requests to the paused node timed out as info");
    assert_eq!(
        proc_state(pid),
        None,
        "the node was stopped at the end of the run"
    );
    assert!(!state_file("e2e-pause").exists());
}

#[test]
fn a_killed_node_is_restarted_with_a_new_pid_and_its_lost_memory_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let nemesis = "[nemesis]\nfaults = [\"kill\"]\ninterval = \"1s\"\nduration = \"500ms\"";
    let wl = workload(dir.path(), "e2e-kill", "3s", nemesis);
    let out = dir.path().join("run");
    let output = splitbrain(&["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let killed = &nemesis_events(&out, "info", "start-kill")[0]["value"];
    let healed = &nemesis_events(&out, "info", "stop-kill")[0]["value"];
    let old = killed["applied"]["pids"][0].as_i64().expect("killed pid");
    let new = healed["healed"]["restarted"][0]
        .as_i64()
        .expect("restarted pid");
    assert_ne!(old, new, "a restart is a new process");
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let lost = &results["checkers"]["set"]["anomalies"][0];
    assert_eq!(lost["type"], "lost", "{results}");
    let faults = lost["faults"].as_array().expect("faults listed");
    assert!(
        faults
            .iter()
            .any(|f| f.as_str().unwrap().starts_with("kill [toyset-1]")),
        "{faults:?}"
    );
}

/// Starts a run whose node is paused from 0.5 s for 30 s, and waits until it is.
fn run_paused(dir: &Path, name: &str) -> (std::process::Child, PathBuf, PathBuf, i64) {
    let nemesis = "[[nemesis.timeline]]\nat = \"500ms\"\nfault = \"pause\"\nduration = \"30s\"\ntarget = \"all\"";
    let wl = workload(dir, name, "40s", nemesis);
    let out = dir.join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start splitbrain");
    wait_for("the pause to start", || {
        !nemesis_events(&out, "info", "start-pause").is_empty()
    });
    let started = nemesis_events(&out, "info", "start-pause");
    let pid = started[0]["value"]["applied"]["pids"][0]
        .as_i64()
        .expect("a pid");
    assert_eq!(proc_state(pid), Some('T'), "the node is really stopped");
    (child, wl, out, pid)
}

#[test]
fn an_interrupted_run_heals_the_pause_before_it_exits() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _, out, pid) = run_paused(dir.path(), "e2e-sigint");
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let output = child.wait_with_output().expect("splitbrain exits");
    assert!(sent.elapsed() < Duration::from_secs(10), "stopped promptly");
    assert!(output.status.code().is_some_and(|c| c <= 2), "{output:?}");
    let healed = nemesis_events(&out, "info", "stop-pause");
    assert_eq!(
        healed[0]["value"]["healed"]["resumed"][0].as_i64(),
        Some(pid),
        "{healed:?}"
    );
    assert_eq!(proc_state(pid), None, "the node was resumed and stopped");
    assert!(!state_file("e2e-sigint").exists());
}

#[test]
fn a_run_killed_mid_pause_leaves_no_node_frozen() {
    // The kernel sends SIGHUP and SIGCONT to a process group that is orphaned while one of its
    // members is stopped, so a hard-killed splitbrain cannot leave a paused process behind.
    let dir = tempfile::tempdir().unwrap();
    let (mut child, wl, _, pid) = run_paused(dir.path(), "e2e-sigkill-paused");
    child.kill().expect("SIGKILL splitbrain");
    child.wait().expect("reap");
    wait_for("the orphaned node to leave the stopped state", || {
        proc_state(pid) != Some('T')
    });
    let healed = splitbrain(&["heal", wl.to_str().unwrap()]);
    assert_eq!(healed.status.code(), Some(0), "{healed:?}");
    wait_for("the node to be gone", || proc_state(pid).is_none());
    assert!(!state_file("e2e-sigkill-paused").exists());
}

#[test]
fn heal_stops_the_nodes_a_killed_run_left_running() {
    let dir = tempfile::tempdir().unwrap();
    let nemesis = "[[nemesis.timeline]]\nat = \"30s\"\nfault = \"pause\"\nduration = \"1s\"";
    let wl = workload(dir.path(), "e2e-sigkill", "40s", nemesis);
    let out = dir.path().join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start splitbrain");
    wait_for("the run to get going", || history(&out).len() > 100);
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(state_file("e2e-sigkill")).unwrap()).unwrap();
    let pid = state["nodes"][0]["pid"].as_i64().expect("the node's pid");
    child.kill().expect("SIGKILL splitbrain");
    child.wait().expect("reap");
    std::thread::sleep(Duration::from_millis(200));
    assert!(proc_state(pid).is_some(), "the orphaned node still runs");
    let again = dir.path().join("again");
    let second = splitbrain(&[
        "run",
        wl.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(
        second.status.code(),
        Some(4),
        "a new run refuses to start over the leftovers"
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("splitbrain heal"));
    let healed = splitbrain(&["heal", wl.to_str().unwrap()]);
    assert_eq!(healed.status.code(), Some(0), "{healed:?}");
    let stdout = String::from_utf8_lossy(&healed.stdout);
    assert!(stdout.contains(&format!("pid {pid}")), "{stdout}");
    wait_for("the node to be gone", || proc_state(pid).is_none());
    assert!(!state_file("e2e-sigkill").exists());
}

#[test]
fn bad_nemesis_input_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[nemesis]\nfaults = [\"pause\"]\nnodes = [\"toyset-9\"]",
            "unknown node \"toyset-9\"",
        ),
        (
            "[nemesis]\nfaults = [\"partition\"]",
            "partition needs the docker backend",
        ),
        (
            "[nemesis]\nfaults = [\"pause\"]\ninterval = \"9s\"",
            "shorter than time_limit",
        ),
        (
            "[[nemesis.timeline]]\nat = \"3s\"\nfault = \"kill\"\nduration = \"5s\"",
            "expected it to end within time_limit",
        ),
    ];
    for (i, (nemesis, expected)) in cases.iter().enumerate() {
        let wl = workload(dir.path(), &format!("e2e-bad-{i}"), "5s", nemesis);
        let output = splitbrain(&["validate", wl.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{nemesis}: {stderr}");
        assert!(stderr.contains(expected), "{nemesis}: {stderr}");
        assert!(
            stderr.contains(&format!("e2e-bad-{i}.toml:")),
            "names the file and line: {stderr}"
        );
    }
}

#[test]
fn command_hooks_pause_a_node_splitbrain_did_not_start_and_heal_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut node = Command::new(toyset_bin())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start toyset as 'staging'");
    let pids = dir.path().join("pids");
    std::fs::create_dir(&pids).unwrap();
    std::fs::write(pids.join("staging-1"), node.id().to_string()).unwrap();
    let nemesis = format!(
        "[nemesis]\nfaults = [\"pause\"]\ninterval = \"1s\"\nduration = \"1s\"\n\
         [nemesis.hooks.pause]\nstart = \"kill -STOP $(cat {p}/{{{{node}}}})\"\n\
         heal = \"kill -CONT $(cat {p}/{{{{node}}}})\"\ntimeout = \"5s\"",
        p = pids.display()
    );
    let wl = workload(dir.path(), "e2e-hooks", "4s", &nemesis);
    // Point the workload at the toyset started above, and make its node a staging node.
    staging_nodes(&wl);
    let text = use_port(&std::fs::read_to_string(&wl).unwrap(), port);
    std::fs::write(&wl, text).unwrap();

    let out = dir.path().join("run");
    let output = splitbrain(&["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let state = proc_state(i64::from(node.id()));
    node.kill().unwrap();
    node.wait().unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let started = nemesis_events(&out, "info", "start-pause");
    assert!(!started.is_empty());
    assert!(started[0]["error"].is_null(), "{started:?}");
    let run = &started[0]["value"]["applied"][0];
    assert_eq!(run["status"], 0, "{run}");
    assert!(
        run["command"]
            .as_str()
            .unwrap()
            .starts_with("kill -STOP $(cat"),
        "{run}"
    );
    assert_eq!(
        nemesis_events(&out, "info", "stop-pause").len(),
        started.len()
    );
    assert!(
        matches!(state, Some('S' | 'R')),
        "the node runs on, not frozen: {state:?}"
    );
    let infos = history(&out)
        .iter()
        .filter(|e| e["type"] == "info" && e["process"] != "nemesis")
        .count();
    assert!(infos > 0, "requests to the paused node timed out as info");
}

/// `workload` picks its own port; put `port` in its place everywhere.
fn use_port(text: &str, port: u16) -> String {
    let at = text.find("http://127.0.0.1:").expect("a base_url") + "http://127.0.0.1:".len();
    let old: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    text.replace(&format!("127.0.0.1:{old}"), &format!("127.0.0.1:{port}"))
}

/// Makes the workload's node one splitbrain does not start (`staging-1`, no command).
fn staging_nodes(wl: &Path) {
    let text = std::fs::read_to_string(wl).unwrap();
    let start = text.find("[[nodes]]").unwrap();
    let end = text[start..].find("\n\n").unwrap() + start;
    let text = text.replace(&text[start..end], "[[nodes]]\nname = \"staging-1\"");
    std::fs::write(wl, text).unwrap();
}

#[test]
fn bad_hooks_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[nemesis]\nfaults = [\"partition\"]\n[nemesis.hooks.pause]\nstart = \"true\"\nheal = \"true\"",
            "expected a [nemesis.hooks.partition] table",
        ),
        (
            "[nemesis]\nfaults = [\"pause\"]\n[nemesis.hooks.pause]\nstart = \"kill {{nod}}\"\nheal = \"true\"",
            "nod",
        ),
    ];
    for (i, (nemesis, expected)) in cases.iter().enumerate() {
        let wl = workload(dir.path(), &format!("e2e-bad-hooks-{i}"), "5s", nemesis);
        staging_nodes(&wl);
        let output = splitbrain(&["validate", wl.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{nemesis}: {stderr}");
        assert!(stderr.contains(expected), "{nemesis}: {stderr}");
        assert!(stderr.contains("nemesis."), "names the field: {stderr}");
    }
}

/// Replaces the workload's node with `nodes` (TOML for `[[nodes]]` tables).
fn replace_nodes(wl: &Path, nodes: &str) {
    let text = std::fs::read_to_string(wl).unwrap();
    let start = text.find("[[nodes]]").unwrap();
    let end = text[start..].find("\n\n").unwrap() + start;
    let text = text.replace(&text[start..end], nodes.trim_end());
    std::fs::write(wl, text).unwrap();
}

#[test]
fn bad_docker_nodes_and_partition_shapes_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let three = "[[nodes]]\nname = \"n1\"\ncontainer = \"c1\"\n\
                 [[nodes]]\nname = \"n2\"\ncontainer = \"c2\"\n\
                 [[nodes]]\nname = \"n3\"\nlabel = \"app=n3\"";
    let cases = [
        (
            three,
            "[nemesis]\nfaults = [\"slow\"]\n[nemesis.slow]\ntoxic = \"reset\"",
            "reset and refuse need the fault proxy",
        ),
        (
            three,
            "[nemesis]\nfaults = [\"slow\"]\n[nemesis.slow]\ndirection = \"upstream\"",
            "which has no direction",
        ),
        (
            three,
            "[nemesis]\nfaults = [\"partition\"]\npartition = \"majorities-ring\"",
            "majorities-ring needs at least 4 nodes, found 3",
        ),
        (
            three,
            "[nemesis]\nfaults = [\"partition\"]\npartition = \"halves\"\ntarget = \"one\"",
            "halves places every node itself",
        ),
        (
            three,
            "[nemesis]\nfaults = [\"partition\"]\npartition = \"split\"",
            "expected one of isolate, halves, majorities-ring, bridge, one-way, found \"split\"",
        ),
        (
            three,
            "[nemesis]\nfaults = [\"kill\"]\npartition = \"halves\"",
            "expected fault(s) to include partition",
        ),
        (
            three,
            "[[nemesis.timeline]]\nat = \"1s\"\nfault = \"pause\"\nduration = \"1s\"\npartition = \"bridge\"",
            "nemesis.timeline[0].partition",
        ),
        (
            "[[nodes]]\nname = \"n1\"\ncontainer = \"c1\"\nlabel = \"app=x\"",
            "[nemesis]\nfaults = [\"kill\"]",
            "expected one of command (splitbrain starts it), container or label",
        ),
        (
            "[[nodes]]\nname = \"n1\"\ncontainer = \"c1\"\n[[nodes]]\nname = \"n2\"",
            "[nemesis]\nfaults = [\"kill\"]",
            "expected every node to be a Docker container",
        ),
        (
            "[[nodes]]\nname = \"n1\"\ncontainer = \"\"",
            "[nemesis]\nfaults = [\"kill\"]",
            "expected a container name or ID",
        ),
        (
            "[[nodes]]\nname = \"n1\"\n[[nodes]]\nname = \"n2\"",
            "[nemesis]\nfaults = [\"partition\"]\npartition = \"one-way\"\n\
             [nemesis.hooks.partition]\nstart = \"true\"\nheal = \"true\"",
            "which describes isolate only",
        ),
    ];
    for (i, (nodes, nemesis, expected)) in cases.iter().enumerate() {
        let wl = workload(dir.path(), &format!("e2e-bad-docker-{i}"), "20s", nemesis);
        replace_nodes(&wl, nodes);
        let output = splitbrain(&["validate", wl.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{nemesis}: {stderr}");
        assert!(stderr.contains(expected), "{nemesis}: {stderr}");
        assert!(
            stderr.contains(&format!("e2e-bad-docker-{i}.toml:")),
            "names the file and line: {stderr}"
        );
    }
    // And a good one validates.
    let good = "[[nemesis.timeline]]\nat = \"1s\"\nfault = \"partition\"\n\
                partition = \"bridge\"\nduration = \"2s\"";
    let wl = workload(dir.path(), "e2e-good-docker", "5s", good);
    replace_nodes(&wl, three);
    let output = splitbrain(&["validate", wl.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}

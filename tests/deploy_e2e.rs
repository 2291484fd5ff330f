//! `[deploy]`: splitbrain starts the system under test as containers of the project's own
//! images (built locally by scripts/build-images.sh), on a network of their own, waits until
//! each is healthy, points the workload at them, faults them by name, and removes them at the
//! end; `--keep` leaves them for `splitbrain down`; a container that does not come up is exit
//! 4 with its last log lines. Every network here is named `sbt-deploy-*`.

mod common;

use common::{Deployment, build_images, docker, run, splitbrain};

/// The shop as `[deploy]`: NATS, then orders, inventory and payments on it.
fn shop_deploy(network: &str, bugs: &str) -> String {
    let service = |role: &str, extra: &str| {
        format!(
            r#"
[[deploy.containers]]
name = "{role}"
image = "splitbrain/shop:dev"
command = ["{role}", "--listen", "0.0.0.0:8080", "--db", "/data/{role}.db", "--nats", "nats://nats:4222"{extra}]
env = {{ SHOP_BUGS = "{bugs}" }}
volumes = ["{role}-data:/data"]
health = {{ http = "/health", port = 8080 }}
"#
        )
    };
    format!(
        r#"
[deploy]
network = "{network}"
startup_timeout = "20s"

[[deploy.containers]]
name = "nats"
image = "splitbrain/nats:dev"
volumes = ["nats-data:/data"]
aliases = ["broker"]
health = {{ http = "/healthz", port = 8222 }}
{}{}{}"#,
        service("orders", ""),
        service("inventory", r#", "--stock", "a=1000""#),
        service("payments", ""),
    )
}

const SHOP_WORKLOAD: &str = r#"
name = "deployed-shop"
seed = 3
time_limit = "6s"
concurrency = 4
rate = 20

[target]
base_url = "http://orders:8080"
preflight = "/health"

[model]
kind = "custom"
mix = { place = 1 }

[model.ops.place]
method = "POST"
path = "/orders"
body = '{"id": {{value}}, "customer": "c{{process}}", "sku": "a", "qty": 1, "amount": 10}'
ok = [200]
fail = [400, 409]
timeout = "2s"

[views.orders]
path = "/orders"
records = "/orders"
id = "/id"
fields = { status = "/status" }

[views.payments]
base_url = "http://payments:8080"
path = "/payments"
records = "/payments"
id = "/id"
fields = { order_id = "/order_id", state = "/state" }

[[relations]]
kind = "covers"
view = "orders"
op = "place"

[[relations]]
kind = "matches"
view = "orders"
filter = { status = "CONFIRMED" }
other = "payments"
other_filter = { state = "CAPTURED" }
key = "order_id"

[[nemesis.timeline]]
at = "2s"
fault = "kill"
nodes = ["payments"]
duration = "2s"

[phases]
quiet = "1s"
converge_timeout = "30s"
poll_interval = "500ms"
"#;

#[test]
fn a_deployed_shop_is_started_faulted_by_name_checked_and_removed() {
    build_images();
    let deployment = Deployment::cleaned("sbt-deploy-shop");
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{SHOP_WORKLOAD}{}", shop_deploy("sbt-deploy-shop", ""));
    let (code, results, output) = run(dir.path(), &text);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(code, 0, "{results:#}\n{stderr}");
    assert_eq!(results["valid"], true);
    assert_eq!(results["convergence"]["converged"], true, "{results:#}");
    for name in ["nats", "orders", "inventory", "payments"] {
        assert!(
            stderr.contains(&format!("deployed {name} (")),
            "no health line for {name}: {stderr}"
        );
        let log = std::fs::read_to_string(dir.path().join(format!("run/nodes/{name}.log")))
            .unwrap_or_default();
        assert!(!log.is_empty(), "no log saved for {name}");
    }
    // The kill landed on the deployed payments container, by its node name.
    let history = common::history(&dir.path().join("run"));
    let kill = history
        .iter()
        .find(|e| e["process"] == "nemesis" && e["f"] == "start-kill" && e["type"] == "info")
        .expect("a start-kill event");
    assert!(kill.to_string().contains("payments"), "{kill}");
    // Orders were placed through the published port of the deployed orders service.
    let placed = history
        .iter()
        .filter(|e| e["f"] == "place" && e["type"] == "ok")
        .count();
    assert!(placed > 20, "only {placed} orders acknowledged");
    assert_eq!(deployment.left(), Vec::<String>::new());
}

/// A one-container deployment of netnode (a set over HTTP).
fn netnode_workload(network: &str, command: &str) -> String {
    format!(
        r#"
name = "deployed-netnode"
seed = 1
time_limit = "1s"
concurrency = 2
rate = 20

[target]
base_url = "http://n1:7000"
preflight = "/ping"

[model]
kind = "set"
mix = {{ add = 0.9, read = 0.1 }}

[model.ops.add]
method = "POST"
path = "/add"
body = '{{"value": {{{{value}}}}}}'
ok = [200]
timeout = "1s"

[model.ops.read]
method = "GET"
path = "/read"
records = "/elements"
timeout = "1s"

[phases]
quiet = "0s"
final_reads = 1

[deploy]
network = "{network}"
startup_timeout = "5s"

[[deploy.containers]]
name = "n1"
image = "splitbrain/netnode:dev"
command = [{command}]
health = {{ tcp = 7000 }}
"#
    )
}

#[test]
fn keep_leaves_the_deployment_up_a_second_run_refuses_and_down_removes_it() {
    build_images();
    let deployment = Deployment::cleaned("sbt-deploy-keep");
    let dir = tempfile::tempdir().unwrap();
    let workload = dir.path().join("workload.toml");
    let text = netnode_workload(
        "sbt-deploy-keep",
        r#""--name", "n1", "--listen", "0.0.0.0:7000""#,
    );
    std::fs::write(&workload, text).unwrap();
    let path = workload.to_str().unwrap();
    let out = dir.path().join("run");
    let first = splitbrain(&["run", path, "--keep", "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert_eq!(first.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("left up (--keep): sbt-deploy-keep-n1"),
        "{stdout}"
    );
    let running = docker(&["inspect", "-f", "{{.State.Running}}", "sbt-deploy-keep-n1"]);
    assert_eq!(String::from_utf8_lossy(&running.stdout).trim(), "true");

    let again = splitbrain(&[
        "run",
        path,
        "--out",
        dir.path().join("again").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("already up") && stderr.contains("splitbrain down"),
        "{stderr}"
    );

    let removed = splitbrain(&["down", path]);
    let stdout = String::from_utf8_lossy(&removed.stdout);
    assert_eq!(removed.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("removed container sbt-deploy-keep-n1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("removed network sbt-deploy-keep"),
        "{stdout}"
    );
    assert_eq!(deployment.left(), Vec::<String>::new());
}

#[test]
fn a_container_that_does_not_come_up_is_exit_4_with_its_last_log_lines() {
    build_images();
    let deployment = Deployment::cleaned("sbt-deploy-fail");
    let dir = tempfile::tempdir().unwrap();
    // netnode without --name exits at once with its usage line.
    let text = netnode_workload("sbt-deploy-fail", r#""--listen", "0.0.0.0:7000""#);
    let workload = dir.path().join("workload.toml");
    std::fs::write(&workload, text).unwrap();
    let output = splitbrain(&["run", workload.to_str().unwrap(), "--out", "/nonexistent/x"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("container n1 (splitbrain/netnode:dev) did not become healthy"),
        "{stderr}"
    );
    assert!(stderr.contains("exited with code"), "{stderr}");
    assert!(stderr.contains("missing --name"), "no log line: {stderr}");
    assert_eq!(deployment.left(), Vec::<String>::new());
}

#[test]
fn an_image_that_is_not_built_is_exit_4_naming_it() {
    let deployment = Deployment::cleaned("sbt-deploy-noimage");
    let dir = tempfile::tempdir().unwrap();
    let text = netnode_workload("sbt-deploy-noimage", r#""--name", "n1""#)
        .replace("splitbrain/netnode:dev", "splitbrain/never-built:dev");
    let workload = dir.path().join("workload.toml");
    std::fs::write(&workload, text).unwrap();
    let output = splitbrain(&["run", workload.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains(
            "container n1: image \"splitbrain/never-built:dev\" is not in the local Docker"
        ),
        "{stderr}"
    );
    assert_eq!(deployment.left(), Vec::<String>::new());
}

#[test]
fn a_missing_environment_variable_is_exit_3_before_anything_starts() {
    let deployment = Deployment::cleaned("sbt-deploy-env");
    let dir = tempfile::tempdir().unwrap();
    let text = netnode_workload("sbt-deploy-env", r#""--name", "n1""#).replace(
        "health = { tcp = 7000 }",
        "health = { tcp = 7000 }\nenv = { TOKEN = \"${SBT_SURELY_UNSET_VAR}\" }",
    );
    let workload = dir.path().join("workload.toml");
    std::fs::write(&workload, text).unwrap();
    let output = splitbrain(&["run", workload.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("container n1: environment variable SBT_SURELY_UNSET_VAR is not set"),
        "{stderr}"
    );
    assert_eq!(deployment.left(), Vec::<String>::new());
}

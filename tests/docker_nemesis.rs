//! The docker backend with real containers: five netnode containers (the project's own
//! static binary in a `FROM scratch` image, built by scripts/build-images.sh) on a Docker
//! network of the test's own. Each node probes its peers and reports what it reaches and a
//! heartbeat, so the tests can see that every partition shape cuts exactly its links and no
//! others, that kill gives a new process, that pause freezes, and that an interrupted or
//! killed run leaves nothing cut off or paused (after `splitbrain heal` for a killed one).
//!
//! Needs Docker and root (iptables in the containers' network namespaces); `.ci/run` has both.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{build_images, docker, history};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use splitbrain::nemesis::{ContainerRef, Cuts, DockerNodeSpec, DockerNodes, FaultKind, Shape};

const IMAGE: &str = "splitbrain/netnode:dev";

/// The tests share the machine's two cores and its Docker: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Netnode containers `<tag>-n1 …` on network `<tag>` (172.29.<subnet>.0/24), removed on drop.
struct Cluster {
    tag: String,
    subnet: u8,
    names: Vec<String>,
}

impl Cluster {
    fn start(tag: &str, subnet: u8, size: usize) -> Cluster {
        build_images();
        let cluster = Cluster {
            tag: tag.to_owned(),
            subnet,
            names: (1..=size).map(|i| format!("n{i}")).collect(),
        };
        cluster.remove(); // what an aborted earlier run of this test left
        let net = format!("172.29.{subnet}.0/24");
        let made = docker(&["network", "create", "--subnet", &net, tag]);
        assert!(made.status.success(), "{made:?}");
        for name in &cluster.names {
            let peers: Vec<String> = cluster
                .names
                .iter()
                .filter(|p| *p != name)
                .map(|p| format!("{p}={}:7000", cluster.ip(p)))
                .collect();
            let ran = docker(&[
                "run",
                "-d",
                "--init",
                "--name",
                &cluster.container(name),
                "--label",
                &format!("splitbrain-test={}", cluster.container(name)),
                "--network",
                tag,
                "--ip",
                &cluster.ip(name),
                "-e",
                &format!("NETNODE_NAME={name}"),
                "-e",
                &format!("NETNODE_PEERS={}", peers.join(",")),
                IMAGE,
            ]);
            assert!(ran.status.success(), "{ran:?}");
        }
        cluster
    }

    fn container(&self, name: &str) -> String {
        format!("{}-{name}", self.tag)
    }

    fn ip(&self, name: &str) -> String {
        let i: u8 = name[1..].parse().expect("nodes are n1, n2 …");
        format!("172.29.{}.{}", self.subnet, 10 + i)
    }

    /// The nodes as the workload names them: the last by label, the others by name.
    fn specs(&self) -> Vec<DockerNodeSpec> {
        let last = self.names.len() - 1;
        self.names
            .iter()
            .enumerate()
            .map(|(i, name)| DockerNodeSpec {
                name: name.clone(),
                container: if i == last {
                    ContainerRef::Label(format!("splitbrain-test={}", self.container(name)))
                } else {
                    ContainerRef::Name(self.container(name))
                },
            })
            .collect()
    }

    fn inspect(&self, name: &str, format: &str) -> String {
        let out = docker(&["inspect", "-f", format, &self.container(name)]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn paused(&self, name: &str) -> bool {
        self.inspect(name, "{{.State.Paused}}") == "true"
    }

    /// The iptables rules in the node's network namespace.
    fn rules(&self, name: &str) -> String {
        let pid = self.inspect(name, "{{.State.Pid}}");
        let out = Command::new("nsenter")
            .args(["-t", &pid, "-n", "iptables", "-w", "-S"])
            .output()
            .expect("run nsenter");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn status(&self, name: &str) -> Option<Value> {
        http_get(&self.ip(name), "/status")
    }

    /// Waits until every node has probed every peer at least three times more than when
    /// called, then returns who reaches whom.
    fn links(&self) -> BTreeMap<(String, String), bool> {
        let probes = |s: &Value, peer: &str| s["peers"][peer]["probes"].as_u64().unwrap_or(0);
        let before: Vec<Value> = self.names.iter().map(|n| self.must_status(n)).collect();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let now: Vec<Value> = self.names.iter().map(|n| self.must_status(n)).collect();
            let fresh = self.names.iter().enumerate().all(|(i, a)| {
                self.names
                    .iter()
                    .filter(|b| *b != a)
                    .all(|b| probes(&now[i], b) >= probes(&before[i], b) + 3)
            });
            if fresh {
                let mut links = BTreeMap::new();
                for (i, a) in self.names.iter().enumerate() {
                    for b in self.names.iter().filter(|b| *b != a) {
                        let reachable = now[i]["peers"][b]["reachable"] == true;
                        links.insert((a.clone(), b.clone()), reachable);
                    }
                }
                return links;
            }
            assert!(Instant::now() < deadline, "probes did not advance: {now:?}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn must_status(&self, name: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.status(name) {
                return status;
            }
            assert!(Instant::now() < deadline, "{name} does not answer /status");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Asserts that exactly the links in `cuts` are down (and, with no cuts, that all are up).
    fn assert_links(&self, cuts: &Cuts, what: &str) {
        let links = self.links();
        let wrong: Vec<String> = links
            .iter()
            .filter(|((a, b), up)| **up == cuts.is_cut(a, b))
            .map(|((a, b), up)| format!("{a}→{b} is {}", if *up { "up" } else { "down" }))
            .collect();
        assert!(wrong.is_empty(), "{what}: {wrong:?} (cuts {cuts:?})");
    }

    fn remove(&self) {
        for name in &self.names {
            docker(&["rm", "-f", &self.container(name)]);
        }
        docker(&["network", "rm", &self.tag]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.remove();
    }
}

/// One HTTP/1.0 GET to a netnode (it closes every connection); `None` on any failure.
fn http_get(ip: &str, path: &str) -> Option<Value> {
    use std::io::{Read, Write};
    let addr = format!("{ip}:7000").parse().ok()?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.split("\r\n\r\n").nth(1)?).ok()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("a tokio runtime")
}

#[test]
fn every_partition_shape_cuts_exactly_its_links_and_heal_restores_them() {
    let _serial = serial();
    let cluster = Cluster::start("sbt-shapes", 201, 5);
    let rt = runtime();
    let nodes = rt.block_on(DockerNodes::connect(&cluster.specs())).unwrap();
    cluster.assert_links(&Cuts::default(), "before any fault");
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let shapes = [
        Shape::Isolate,
        Shape::Halves,
        Shape::MajoritiesRing,
        Shape::Bridge,
        Shape::OneWay,
    ];
    for shape in shapes {
        let cuts = shape.cuts(&cluster.names, &["n2".to_owned()], &mut rng);
        assert!(!cuts.is_empty(), "{shape}");
        let applied = rt
            .block_on(nodes.inject(FaultKind::Partition, &cuts.nodes(), Some(&cuts)))
            .unwrap();
        assert!(applied["rules"].is_object(), "{applied}");
        cluster.assert_links(&cuts, &format!("during {shape}"));
        rt.block_on(nodes.heal_partition(&cuts)).unwrap();
        for name in &cluster.names {
            assert!(
                !cluster.rules(name).contains("SPLITBRAIN"),
                "{name} after {shape}"
            );
        }
        cluster.assert_links(&Cuts::default(), &format!("after healing {shape}"));
    }

    // Overlapping partitions compose, and healing one leaves the other in force.
    let first = Shape::Isolate.cuts(&cluster.names, &["n1".to_owned()], &mut rng);
    let second = Shape::OneWay.cuts(&cluster.names, &["n2".to_owned()], &mut rng);
    for cuts in [&first, &second] {
        rt.block_on(nodes.inject(FaultKind::Partition, &cuts.nodes(), Some(cuts)))
            .unwrap();
    }
    cluster.assert_links(&Cuts::union([&first, &second]), "two partitions at once");
    rt.block_on(nodes.heal_partition(&first)).unwrap();
    cluster.assert_links(&second, "after healing the first");
    rt.block_on(nodes.heal_partition(&second)).unwrap();
    cluster.assert_links(&Cuts::default(), "after healing both");
}

#[test]
fn kill_starts_a_new_process_restart_stops_gracefully_and_pause_freezes() {
    let _serial = serial();
    let cluster = Cluster::start("sbt-procs", 202, 3);
    let rt = runtime();
    let nodes = rt.block_on(DockerNodes::connect(&cluster.specs())).unwrap();
    let n1 = ["n1".to_owned()];

    // kill: the container stops at once; heal starts a new process with a fresh heartbeat.
    let before = cluster.must_status("n1");
    let old_pid = cluster.inspect("n1", "{{.State.Pid}}");
    let killed = rt
        .block_on(nodes.inject(FaultKind::Kill, &n1, None))
        .unwrap();
    assert_eq!(killed[0]["pid"].to_string(), old_pid, "{killed}");
    assert_eq!(cluster.inspect("n1", "{{.State.Running}}"), "false");
    assert_eq!(
        cluster.inspect("n1", "{{.State.ExitCode}}"),
        "137",
        "SIGKILL"
    );
    assert!(cluster.status("n1").is_none());
    rt.block_on(nodes.heal(&n1)).unwrap();
    let after = cluster.must_status("n1");
    assert_ne!(
        cluster.inspect("n1", "{{.State.Pid}}"),
        old_pid,
        "a new process"
    );
    assert_ne!(after["boot"], before["boot"]);
    assert!(
        after["heartbeat"].as_u64() < before["heartbeat"].as_u64(),
        "counter reset"
    );

    // restart: a graceful stop (exit 143 = SIGTERM, through --init), then a fresh start.
    rt.block_on(nodes.inject(FaultKind::Restart, &n1, None))
        .unwrap();
    assert_eq!(cluster.inspect("n1", "{{.State.ExitCode}}"), "143");
    rt.block_on(nodes.heal(&n1)).unwrap();
    assert!(cluster.must_status("n1")["boot"] != after["boot"]);

    // pause: the heartbeat stops while frozen and goes on from where it stopped.
    let n2 = ["n2".to_owned()];
    let before = cluster.must_status("n2");
    rt.block_on(nodes.inject(FaultKind::Pause, &n2, None))
        .unwrap();
    assert!(cluster.paused("n2"));
    assert!(
        cluster.status("n2").is_none(),
        "a frozen node answers nothing"
    );
    std::thread::sleep(Duration::from_secs(2));
    rt.block_on(nodes.heal(&n2)).unwrap();
    assert!(!cluster.paused("n2"));
    let after = cluster.must_status("n2");
    assert_eq!(after["boot"], before["boot"], "the same process");
    let beats = after["heartbeat"].as_u64().unwrap() - before["heartbeat"].as_u64().unwrap();
    // 2 s awake would be 40 beats; frozen, only the moments around the pause count.
    assert!(beats < 20, "{beats} beats while paused for 2 s");
    // And the others saw it go: its peers' probes failed during the pause (checked live by
    // the shapes test); here it is enough that all links are back.
    cluster.assert_links(&Cuts::default(), "after pause");
}

/// A set workload against n1 while the timeline partitions the cluster into halves and
/// pauses n5, both for longer than the test waits.
fn workload(dir: &Path, cluster: &Cluster) -> PathBuf {
    let nodes: String = cluster
        .specs()
        .iter()
        .map(|s| match &s.container {
            ContainerRef::Name(c) => {
                format!("[[nodes]]\nname = \"{}\"\ncontainer = \"{c}\"\n", s.name)
            }
            ContainerRef::Label(l) => {
                format!("[[nodes]]\nname = \"{}\"\nlabel = \"{l}\"\n", s.name)
            }
        })
        .collect();
    let text = format!(
        r#"name = "{tag}"
seed = 5
time_limit = "60s"
concurrency = 4
rate = 50

[target]
base_url = "http://{ip}:7000"
preflight = "/ping"

{nodes}
[[nemesis.timeline]]
at = "1s"
fault = "partition"
partition = "halves"
duration = "50s"

[[nemesis.timeline]]
at = "1s"
fault = "pause"
nodes = ["n5"]
duration = "50s"

[model]
kind = "set"
mix = {{ add = 0.8, read = 0.2 }}
[model.ops.add]
method = "POST"
path = "/add"
body = '{{"value": {{{{value}}}}}}'
ok = [200]
timeout = "500ms"
[model.ops.read]
method = "GET"
path = "/read"
records = "/elements"
timeout = "500ms"

[phases]
quiet = "100ms"
final_reads = 1
"#,
        tag = cluster.tag,
        ip = cluster.ip("n1"),
    );
    let path = dir.join("workload.toml");
    std::fs::write(&path, text).expect("write the workload");
    path
}

fn started(out: &Path, f: &str) -> bool {
    history(out)
        .iter()
        .any(|e| e["process"] == "nemesis" && e["type"] == "info" && e["f"] == f)
}

/// Starts `splitbrain run` and waits until the partition and the pause are both in place.
fn run_faulted(dir: &Path, cluster: &Cluster) -> (std::process::Child, PathBuf, PathBuf) {
    let wl = workload(dir, cluster);
    let out = dir.join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start splitbrain");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(started(&out, "start-partition") && started(&out, "start-pause")) {
        assert!(Instant::now() < deadline, "the faults did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(cluster.paused("n5"));
    let cut_off = cluster
        .names
        .iter()
        .filter(|n| cluster.rules(n).contains("-A SPLITBRAIN -s 172.29."))
        .count();
    assert_eq!(cut_off, 5, "halves put rules on every node");
    (child, wl, out)
}

fn assert_healed(cluster: &Cluster) {
    for name in &cluster.names {
        assert!(!cluster.paused(name), "{name} is still paused");
        assert!(
            !cluster.rules(name).contains("SPLITBRAIN"),
            "{name} is still cut off"
        );
    }
    cluster.assert_links(&Cuts::default(), "after the run");
}

#[test]
fn an_interrupted_run_heals_the_partition_and_the_pause_before_it_exits() {
    let _serial = serial();
    let cluster = Cluster::start("sbt-sigint", 203, 5);
    let dir = tempfile::tempdir().unwrap();
    let (child, _, out) = run_faulted(dir.path(), &cluster);
    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().expect("splitbrain exits");
    assert!(sent.elapsed() < Duration::from_secs(15), "stopped promptly");
    assert!(output.status.code().is_some_and(|c| c <= 1), "{output:?}");
    let stops: Vec<Value> = history(&out)
        .into_iter()
        .filter(|e| e["process"] == "nemesis" && e["type"] == "info")
        .filter(|e| e["f"] == "stop-partition" || e["f"] == "stop-pause")
        .collect();
    assert_eq!(stops.len(), 2, "{stops:?}");
    assert!(stops.iter().all(|e| e["error"].is_null()), "{stops:?}");
    assert_healed(&cluster);
}

#[test]
fn heal_cleans_up_after_a_run_killed_mid_partition() {
    let _serial = serial();
    let cluster = Cluster::start("sbt-sigkill", 204, 5);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, wl, _) = run_faulted(dir.path(), &cluster);
    child.kill().expect("SIGKILL splitbrain");
    child.wait().expect("reap");
    std::thread::sleep(Duration::from_millis(300));
    assert!(cluster.paused("n5"), "nothing healed the pause");
    assert!(
        cluster.rules("n1").contains("SPLITBRAIN"),
        "nor the partition"
    );
    let again = dir.path().join("again");
    let refused = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "run",
            wl.to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(4), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("n5 is paused") && stderr.contains("splitbrain heal"),
        "{stderr}"
    );
    let healed = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["heal", wl.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(healed.status.code(), Some(0), "{healed:?}");
    let stdout = String::from_utf8_lossy(&healed.stdout);
    assert!(stdout.contains("n5: unpaused"), "{stdout}");
    assert!(
        stdout.contains("removed iptables chain SPLITBRAIN"),
        "{stdout}"
    );
    assert_healed(&cluster);
}

#[test]
fn unreachable_docker_and_missing_containers_are_refused_before_any_fault() {
    let _serial = serial();
    let cluster = Cluster::start("sbt-badinput", 205, 5);
    let dir = tempfile::tempdir().unwrap();
    let wl = workload(dir.path(), &cluster);
    let runs = std::cell::Cell::new(0);
    let run = |path: &Path, docker_host: Option<&str>| {
        runs.set(runs.get() + 1);
        let mut command = Command::new(env!("CARGO_BIN_EXE_splitbrain"));
        command.args(["run", path.to_str().unwrap(), "--out"]);
        command.arg(dir.path().join(format!("out-{}", runs.get())));
        if let Some(host) = docker_host {
            command.env("DOCKER_HOST", host);
        }
        command.output().unwrap()
    };
    let out = run(&wl, Some("unix:///nonexistent/docker.sock"));
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed to reach Docker at unix:///nonexistent/docker.sock"),
        "{stderr}"
    );

    // Three of the five containers are gone: the first missing one is named.
    for name in ["n3", "n4", "n5"] {
        docker(&["rm", "-f", &cluster.container(name)]);
    }
    let out = run(&wl, None);
    assert_eq!(out.status.code(), Some(4), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("failed to find node n3"), "{stderr}");
    for name in ["n1", "n2"] {
        assert!(!cluster.rules(name).contains("SPLITBRAIN"));
        assert!(!cluster.paused(name));
    }
}

#[test]
fn partitions_without_root_are_refused_before_docker_is_even_asked() {
    let dir = tempfile::tempdir().unwrap();
    let names = ["n1", "n2", "n3"];
    let nodes: String = names
        .iter()
        .map(|n| format!("[[nodes]]\nname = \"{n}\"\ncontainer = \"sbt-noroot-{n}\"\n"))
        .collect();
    let text = format!(
        "name = \"sbt-noroot\"\ntime_limit = \"5s\"\nconcurrency = 1\n\
         [target]\nbase_url = \"http://127.0.0.1:9\"\n{nodes}\
         [nemesis]\nfaults = [\"partition\"]\ninterval = \"1s\"\n\
         [model]\nkind = \"set\"\n\
         [model.ops.add]\nmethod = \"POST\"\npath = \"/add\"\nbody = '{{\"value\": {{{{value}}}}}}'\n\
         [model.ops.read]\nmethod = \"GET\"\npath = \"/read\"\nrecords = \"/elements\"\n"
    );
    let wl = dir.path().join("noroot.toml");
    std::fs::write(&wl, text).unwrap();
    // World-readable, so the unprivileged user can read it.
    Command::new("chmod")
        .args(["-R", "a+rwX", dir.path().to_str().unwrap()])
        .status()
        .unwrap();
    let out = dir.path().join("out");
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["run", wl.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("run setpriv");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("need root"), "{stderr}");
    assert!(!out.join("history.jsonl").exists(), "nothing started");
}

/// A GET with a generous timeout, returning the body's length and how long it took.
fn timed_get(ip: &str, path: &str) -> (usize, Duration) {
    use std::io::{Read, Write};
    let addr = format!("{ip}:7000").parse().unwrap();
    let began = Instant::now();
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
    let mut body = Vec::new();
    stream.read_to_end(&mut body).unwrap();
    (body.len(), began.elapsed())
}

fn post_add(ip: &str, value: u32) {
    use std::io::{Read, Write};
    let addr = format!("{ip}:7000").parse().unwrap();
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    let body = format!("{{\"value\": {value}}}");
    write!(
        stream,
        "POST /add HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
}

fn qdiscs(cluster: &Cluster, name: &str) -> String {
    let pid = cluster.inspect(name, "{{.State.Pid}}");
    let out = Command::new("nsenter")
        .args(["-t", &pid, "-n", "tc", "qdisc", "show"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn slow_without_proxies_paces_a_container_with_a_qdisc_and_heal_removes_it() {
    use splitbrain::nemesis::proxy::{Direction, Toxic};
    let _serial = serial();
    let cluster = Cluster::start("sbt-slow", 206, 2);
    let n1 = ["n1".to_owned()];
    for value in 0..2500 {
        post_add(&cluster.ip("n1"), value);
    }
    let (size, fast) = timed_get(&cluster.ip("n1"), "/read");
    assert!(size > 10_000, "{size} bytes");
    // 10,000 B/s after a 4 KB burst: the response takes its size / rate, give or take.
    let toxic = Toxic::Bandwidth {
        direction: Direction::Both,
        bytes_per_sec: 10_000,
    };
    let rt = runtime();
    rt.block_on(splitbrain::nemesis::docker::check_qdisc(&toxic))
        .expect("tbf is on every kernel here");
    let nodes = rt
        .block_on(DockerNodes::connect(&cluster.specs()))
        .unwrap()
        .slow_with(toxic);
    let applied = rt
        .block_on(nodes.inject(FaultKind::Slow, &n1, None))
        .unwrap();
    assert!(
        applied[0]["tc"]
            .as_str()
            .unwrap()
            .contains("tbf rate 80000bit"),
        "{applied}"
    );
    assert!(qdiscs(&cluster, "n1").contains("qdisc tbf 5b1:"));
    assert!(
        !qdiscs(&cluster, "n2").contains("5b1:"),
        "only the hit node"
    );
    let (_, slow) = timed_get(&cluster.ip("n1"), "/read");
    let expected = Duration::from_secs_f64((size as f64 - 4096.0) / 10_000.0);
    assert!(
        slow >= expected.mul_f64(0.7) && slow <= expected * 3,
        "{size} bytes took {slow:?} at 10,000 B/s (expected about {expected:?}, {fast:?} unpaced)"
    );
    eprintln!(
        "slow: {size} bytes in {fast:?} unpaced, {slow:?} at 10,000 B/s (expected {expected:?})"
    );
    rt.block_on(nodes.heal(&n1)).unwrap();
    assert!(!qdiscs(&cluster, "n1").contains("5b1:"), "healed");
    let (_, after) = timed_get(&cluster.ip("n1"), "/read");
    assert!(after < expected / 4, "{after:?} after the heal");
}

#[test]
fn slow_latency_on_containers_needs_netem_and_says_so_where_the_kernel_has_none() {
    use splitbrain::nemesis::proxy::{Direction, Toxic};
    let toxic = Toxic::Latency {
        direction: Direction::Both,
        latency: Duration::from_millis(100),
        jitter: Duration::from_millis(10),
    };
    let rt = runtime();
    let probe = rt.block_on(splitbrain::nemesis::docker::check_qdisc(&toxic));
    let _serial = serial();
    let cluster = Cluster::start("sbt-netem", 207, 2);
    if probe.is_ok() {
        // A kernel with netem: the latency lands as a netem qdisc, and heal removes it.
        let n2 = ["n2".to_owned()];
        let nodes = rt
            .block_on(DockerNodes::connect(&cluster.specs()))
            .unwrap()
            .slow_with(toxic);
        rt.block_on(nodes.inject(FaultKind::Slow, &n2, None))
            .unwrap();
        assert!(qdiscs(&cluster, "n2").contains("qdisc netem 5b1:"));
        rt.block_on(nodes.heal(&n2)).unwrap();
        assert!(!qdiscs(&cluster, "n2").contains("5b1:"));
        return;
    }
    // This machine's kernel: the run is refused before any fault, naming the way out.
    let dir = tempfile::tempdir().unwrap();
    let wl = workload(dir.path(), &cluster);
    let text = std::fs::read_to_string(&wl)
        .unwrap()
        .replace("partition = \"halves\"\n", "")
        .replace("fault = \"partition\"", "fault = \"slow\"")
        .replace("nodes = [\"n5\"]", "nodes = [\"n2\"]")
        + "\n[nemesis.slow]\ntoxic = \"latency\"\nlatency = \"100ms\"\n";
    std::fs::write(&wl, text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["run", wl.to_str().unwrap(), "--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("this kernel has no netem qdisc") && stderr.contains("[[nemesis.proxies]]"),
        "{stderr}"
    );
    assert!(!qdiscs(&cluster, "n1").contains("5b1:"));
}

//! The netnode binary as local processes on 127.0.0.1: peers find each other, a killed node
//! drops out of the survivors' view within a few probe rounds, the heartbeat ticks, and the
//! set answers over HTTP. Every wait is bounded; `Nodes` kills its children on every path.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

/// Running netnodes, killed and reaped on drop (also when an assertion panics).
struct Nodes {
    children: Vec<Child>,
    ports: Vec<u16>,
}

impl Drop for Nodes {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Nodes {
    /// `count` nodes `n1..`, each peering with all the others.
    fn start(count: usize) -> Nodes {
        let ports = free_ports(count);
        let mut nodes = Nodes {
            children: Vec::new(),
            ports: ports.clone(),
        };
        for (i, port) in ports.iter().enumerate() {
            let mut command = Command::new(env!("CARGO_BIN_EXE_netnode"));
            command.args(["--name", &format!("n{}", i + 1)]);
            command.args(["--listen", &format!("127.0.0.1:{port}")]);
            for (j, peer) in ports.iter().enumerate().filter(|(j, _)| *j != i) {
                command.args(["--peer", &format!("n{}=127.0.0.1:{peer}", j + 1)]);
            }
            command
                .env_remove("NETNODE_PEERS")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            let mut child = command.spawn().expect("failed to start netnode");
            let mut stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
            nodes.children.push(child);
            // The startup line comes after bind: the node is listening once we read it.
            let mut line = String::new();
            stderr
                .read_line(&mut line)
                .expect("failed to read netnode's stderr");
            let expected = format!("netnode n{} listening on 127.0.0.1:{port}, peers: ", i + 1);
            if !line.starts_with(&expected) {
                let mut rest = String::new();
                let _ = stderr.read_to_string(&mut rest);
                panic!("netnode n{} did not start: {line}{rest}", i + 1);
            }
        }
        nodes
    }

    fn status(&self, node: usize) -> Value {
        let (code, body) = request(self.ports[node], "GET", "/status", "");
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("/status is JSON")
    }
}

/// Ports the kernel just handed out; a tiny window remains in which someone else takes one.
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("failed to bind a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("bound").port())
        .collect()
}

/// One HTTP/1.1 request, read until the server closes: (status code, body).
fn request(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("failed to connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("set timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("failed to send");
    stream.write_all(body.as_bytes()).expect("failed to send");
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .expect("failed to read the reply");
    let (head, body) = reply
        .split_once("\r\n\r\n")
        .expect("a blank line ends the head");
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status code");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|l| l.parse().ok())
        .expect("a Content-Length");
    assert_eq!(length, body.len(), "Content-Length matches the body");
    assert!(head.contains("\r\nConnection: close"), "{head}");
    (code, body.to_owned())
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most `WAIT`.
fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(t) = probe() {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn peer(status: &Value, name: &str) -> (bool, u64) {
    let p = &status["peers"][name];
    let reachable = p["reachable"].as_bool().expect("reachable is a bool");
    (reachable, p["probes"].as_u64().expect("probes is a number"))
}

#[test]
fn a_killed_node_becomes_unreachable_while_the_others_still_reach_each_other() {
    let mut nodes = Nodes::start(3);
    let names = ["n1", "n2", "n3"];
    wait_for("every peer reachable from every node", || {
        let all = (0..3).all(|i| {
            let status = nodes.status(i);
            names
                .iter()
                .filter(|n| **n != names[i])
                .all(|n| peer(&status, n).0)
        });
        all.then_some(())
    });
    for (i, name) in names.iter().enumerate() {
        let status = nodes.status(i);
        assert_eq!(status["name"], *name);
        assert_eq!(status["pid"], nodes.children[i].id());
    }

    let before: Vec<(u64, u64)> = (0..2)
        .map(|i| {
            (
                peer(&nodes.status(i), "n3").1,
                peer(&nodes.status(i), names[1 - i]).1,
            )
        })
        .collect();
    nodes.children[2].kill().expect("failed to kill n3");
    nodes.children[2].wait().expect("failed to reap n3");

    for i in 0..2 {
        let rounds = wait_for("n3 unreachable", || {
            let (reachable, probes) = peer(&nodes.status(i), "n3");
            (!reachable).then_some(probes - before[i].0)
        });
        // The round in flight at the kill may still have seen n3; the one after cannot.
        assert!(
            rounds <= 3,
            "{} saw n3 unreachable only after {rounds} rounds",
            names[i]
        );
        let other = names[1 - i];
        wait_for("fresh probes of the surviving peer", || {
            let (reachable, probes) = peer(&nodes.status(i), other);
            assert!(reachable, "{} lost {other} when only n3 died", names[i]);
            (probes >= before[i].1 + 3).then_some(())
        });
    }
}

#[test]
fn heartbeat_increases_over_time() {
    let nodes = Nodes::start(1);
    let first = nodes.status(0)["heartbeat"]
        .as_u64()
        .expect("heartbeat is a number");
    wait_for("the heartbeat to advance by 5", || {
        let now = nodes.status(0)["heartbeat"]
            .as_u64()
            .expect("heartbeat is a number");
        (now >= first + 5).then_some(())
    });
    assert_eq!(nodes.status(0)["peers"], serde_json::json!({}));
}

#[test]
fn added_values_are_read_back_sorted() {
    let nodes = Nodes::start(1);
    for value in [17, 1, 5, 17] {
        let (code, body) = request(
            nodes.ports[0],
            "POST",
            "/add",
            &format!(r#"{{"value": {value}}}"#),
        );
        assert_eq!((code, body.as_str()), (200, r#"{"ok":true}"#));
    }
    let (code, body) = request(nodes.ports[0], "GET", "/read", "");
    assert_eq!((code, body.as_str()), (200, r#"{"elements":[1,5,17]}"#));
}

#[test]
fn malformed_requests_get_400_and_unknown_routes_404() {
    let nodes = Nodes::start(1);
    let port = nodes.ports[0];
    assert_eq!(request(port, "POST", "/add", r#"{"value": "x"}"#).0, 400);
    assert_eq!(request(port, "POST", "/add", "").0, 400);
    assert_eq!(request(port, "GET", "/read", "").1, r#"{"elements":[]}"#);
    assert_eq!(request(port, "GET", "/nope", "").0, 404);
    assert_eq!(request(port, "DELETE", "/read", "").0, 404);
    assert_eq!(request(port, "GET", "/ping", ""), (200, "pong".to_owned()));
}

#[test]
fn bad_flags_exit_2_with_a_line_naming_the_flag() {
    let out = Command::new(env!("CARGO_BIN_EXE_netnode"))
        .args(["--name", "n1", "--peer", "n2=some-host:7000"])
        .env_remove("NETNODE_PEERS")
        .output()
        .expect("failed to run netnode");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().next().is_some_and(|l| l.contains("--peer")),
        "{stderr}"
    );
}

#[test]
fn a_paused_node_is_unreachable_until_it_continues() {
    let nodes = Nodes::start(2);
    let reachable = |i: usize, name: &str| peer(&nodes.status(i), name).0;
    wait_for("n1 and n2 reach each other", || {
        (reachable(0, "n2") && reachable(1, "n1")).then_some(())
    });
    let signal = |sig: &str| {
        let pid = nodes.children[1].id().to_string();
        let status = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("failed to run kill");
        assert!(status.success(), "kill {sig} {pid}");
    };
    // A stopped process's kernel still accepts connections; only the pong is missing.
    signal("-STOP");
    wait_for("paused n2 unreachable", || {
        (!reachable(0, "n2")).then_some(())
    });
    signal("-CONT");
    wait_for("continued n2 reachable again", || {
        reachable(0, "n2").then_some(())
    });
}

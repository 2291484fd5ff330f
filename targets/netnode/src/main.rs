//! netnode: a tiny test node for splitbrain's fault-injection tests.
//!
//! Several instances run on one Docker network (or as local processes). Each one ticks a
//! heartbeat counter, probes every peer over TCP, and serves its view over HTTP (`http.rs`),
//! so a test can prove that a partition cut exactly the right links (`/status` peers), that
//! kill really kills (`pid`, `boot`, connection refused) and that pause really freezes (the
//! heartbeat stops, probes of the paused node time out). `/add` and `/read` give it a little
//! state to lose.
//!
//! Standard library only, so it links statically and runs in a `FROM scratch` image. Peer
//! addresses are IP:port: static glibc cannot resolve names in a scratch image.

mod http;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const USAGE: &str = "usage: netnode --name NAME [--listen IP:PORT] [--peer NAME=IP:PORT]...";
const HEARTBEAT_EVERY: Duration = Duration::from_millis(50);
const PROBE_EVERY: Duration = Duration::from_millis(200);
const PROBE_TIMEOUT: Duration = Duration::from_millis(300);
/// A pong is four bytes plus headers; anything longer is not a netnode.
const PROBE_MAX_REPLY: usize = 4096;

/// What the node was started with.
#[derive(Debug)]
struct Config {
    name: String,
    listen: SocketAddr,
    peers: Vec<(String, SocketAddr)>,
}

/// One peer as this node sees it. `reachable` is written before `probes` is bumped, so a
/// reader that sees round N sees that round's (or a later) answer.
struct Peer {
    name: String,
    addr: SocketAddr,
    reachable: AtomicBool,
    probes: AtomicU64,
}

/// Everything the HTTP handlers read or change.
pub(crate) struct Node {
    name: String,
    /// Nanoseconds since the epoch at start: tells a restarted process from the old one.
    boot: u64,
    heartbeat: AtomicU64,
    peers: Vec<Peer>,
    set: Mutex<BTreeSet<i64>>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match parse_config(&args, |key| std::env::var(key).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("netnode: {e}; {USAGE}");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(config.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("netnode: failed to listen on {}: {e}", config.listen);
            return ExitCode::from(1);
        }
    };
    let listening = listener.local_addr().unwrap_or(config.listen);
    let node = Arc::new(Node::new(config));
    let peers: Vec<String> = node
        .peers
        .iter()
        .map(|p| format!("{}={}", p.name, p.addr))
        .collect();
    let peers = if peers.is_empty() {
        "none".to_owned()
    } else {
        peers.join(", ")
    };
    eprintln!(
        "netnode {} listening on {listening}, peers: {peers}",
        node.name
    );

    let heartbeat = Arc::clone(&node);
    thread::spawn(move || {
        loop {
            thread::sleep(HEARTBEAT_EVERY);
            heartbeat.heartbeat.fetch_add(1, Ordering::SeqCst);
        }
    });
    for index in 0..node.peers.len() {
        let node = Arc::clone(&node);
        thread::spawn(move || probe_forever(&node.peers[index]));
    }
    http::serve(&listener, &node);
    ExitCode::from(1)
}

impl Node {
    fn new(config: Config) -> Self {
        let boot = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Node {
            name: config.name,
            boot: u64::try_from(boot).unwrap_or(u64::MAX),
            heartbeat: AtomicU64::new(0),
            peers: config
                .peers
                .into_iter()
                .map(|(name, addr)| Peer {
                    name,
                    addr,
                    reachable: AtomicBool::new(false),
                    probes: AtomicU64::new(0),
                })
                .collect(),
            set: Mutex::new(BTreeSet::new()),
        }
    }

    /// `/status`: names are restricted to `[A-Za-z0-9._-]` at startup, so need no escaping.
    pub(crate) fn status_json(&self) -> String {
        let peers: Vec<String> = self
            .peers
            .iter()
            .map(|p| {
                let reachable = p.reachable.load(Ordering::SeqCst);
                let probes = p.probes.load(Ordering::SeqCst);
                format!(
                    r#""{}":{{"reachable":{reachable},"probes":{probes}}}"#,
                    p.name
                )
            })
            .collect();
        format!(
            r#"{{"name":"{}","pid":{},"boot":{},"heartbeat":{},"peers":{{{}}}}}"#,
            self.name,
            std::process::id(),
            self.boot,
            self.heartbeat.load(Ordering::SeqCst),
            peers.join(",")
        )
    }

    pub(crate) fn add(&self, value: i64) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(value);
    }

    pub(crate) fn read_json(&self) -> String {
        let set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        let elements: Vec<String> = set.iter().map(i64::to_string).collect();
        format!(r#"{{"elements":[{}]}}"#, elements.join(","))
    }
}

/// One thread per peer, so an unreachable peer (whose probe waits out its timeouts) does
/// not delay the probes of the others.
fn probe_forever(peer: &Peer) {
    loop {
        let started = Instant::now();
        peer.reachable.store(probe(peer.addr), Ordering::SeqCst);
        peer.probes.fetch_add(1, Ordering::SeqCst);
        thread::sleep(PROBE_EVERY.saturating_sub(started.elapsed()));
    }
}

/// Reachable means a full round trip: connected, and the reply says `pong` in time. A paused
/// peer still completes TCP handshakes (the kernel does that), so connecting is not enough.
fn probe(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) else {
        return false;
    };
    let deadline = Instant::now() + PROBE_TIMEOUT;
    if stream.set_write_timeout(Some(PROBE_TIMEOUT)).is_err()
        || stream.write_all(b"GET /ping HTTP/1.0\r\n\r\n").is_err()
    {
        return false;
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 512];
    while reply.len() < PROBE_MAX_REPLY {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
        }
    }
    reply.windows(4).any(|w| w == b"pong")
}

/// Environment first, then flags over it. Errors name the flag or variable at fault.
fn parse_config(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Config, String> {
    let mut name = env("NETNODE_NAME");
    let mut listen = env("NETNODE_LISTEN");
    let env_peers = env("NETNODE_PEERS");
    let mut flag_peers: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "--name" => &mut name,
            "--listen" => &mut listen,
            "--peer" => {
                let value = inline.or_else(|| args.next().cloned());
                flag_peers.push(value.ok_or("--peer needs a value NAME=IP:PORT")?);
                continue;
            }
            "-h" | "--help" => return Err("help requested".to_owned()),
            other => return Err(format!("unknown flag {other}")),
        };
        let value = inline.or_else(|| args.next().cloned());
        *slot = Some(value.ok_or_else(|| format!("{flag} needs a value"))?);
    }
    let name = name.ok_or("missing --name (or NETNODE_NAME)")?;
    check_name(&name).map_err(|e| format!("bad --name: {e}"))?;
    let listen = listen.unwrap_or_else(|| "0.0.0.0:7000".to_owned());
    let listen = listen
        .parse()
        .map_err(|_| format!("bad --listen {listen:?}: expected IP:PORT"))?;
    let peers = if flag_peers.is_empty() {
        let list = env_peers.unwrap_or_default();
        let list = list.split(',').map(str::trim).filter(|s| !s.is_empty());
        parse_peers(list).map_err(|e| format!("bad NETNODE_PEERS: {e}"))?
    } else {
        parse_peers(flag_peers.iter().map(String::as_str))
            .map_err(|e| format!("bad --peer: {e}"))?
    };
    Ok(Config {
        name,
        listen,
        peers,
    })
}

fn parse_peers<'a>(
    specs: impl Iterator<Item = &'a str>,
) -> Result<Vec<(String, SocketAddr)>, String> {
    let mut peers: Vec<(String, SocketAddr)> = Vec::new();
    for spec in specs {
        let (name, addr) = spec
            .split_once('=')
            .ok_or_else(|| format!("{spec:?} is not NAME=IP:PORT"))?;
        check_name(name)?;
        let addr = addr
            .parse()
            .map_err(|_| format!("{spec:?}: {addr:?} is not IP:PORT (no DNS names)"))?;
        if peers.iter().any(|(n, _)| n == name) {
            return Err(format!("peer {name:?} given twice"));
        }
        peers.push((name.to_owned(), addr));
    }
    Ok(peers)
}

fn check_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || !name.chars().all(allowed) {
        return Err(format!("name {name:?} must be non-empty [A-Za-z0-9._-]"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        parse_config(&args, |key| {
            env.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn flags_win_over_environment() {
        let env = [
            ("NETNODE_NAME", "env"),
            ("NETNODE_PEERS", "n2=10.0.0.2:7000, n3=10.0.0.3:7000"),
        ];
        let c = parse(&["--name", "n1", "--peer=n9=127.0.0.1:9"], &env).unwrap();
        assert_eq!(c.name, "n1");
        assert_eq!(c.listen, "0.0.0.0:7000".parse().unwrap());
        assert_eq!(
            c.peers,
            vec![("n9".to_owned(), "127.0.0.1:9".parse().unwrap())]
        );
        let c = parse(&[], &env).unwrap();
        assert_eq!(c.name, "env");
        assert_eq!(c.peers.len(), 2);
    }

    #[test]
    fn bad_flags_are_named_in_the_error() {
        assert!(parse(&["--nmae", "x"], &[]).unwrap_err().contains("--nmae"));
        assert!(parse(&["--name"], &[]).unwrap_err().contains("--name"));
        assert!(
            parse(&["--name", "a b"], &[])
                .unwrap_err()
                .contains("--name")
        );
        let e = parse(&["--name", "n1", "--listen", "x:1"], &[]).unwrap_err();
        assert!(e.contains("--listen"));
        let e = parse(&["--name", "n1", "--peer", "n2=db:7000"], &[]).unwrap_err();
        assert!(e.contains("--peer"));
        let e = parse(
            &["--name", "n1"],
            &[("NETNODE_PEERS", "n2=1.2.3.4:5,n2=1.2.3.4:6")],
        );
        assert!(e.unwrap_err().contains("NETNODE_PEERS"));
    }

    #[test]
    fn status_lists_peers_in_the_given_order() {
        let c = parse(
            &[
                "--name",
                "n1",
                "--peer",
                "b=1.2.3.4:1",
                "--peer",
                "a=1.2.3.4:2",
            ],
            &[],
        );
        let node = Node::new(c.unwrap());
        let status = node.status_json();
        assert!(status.starts_with(r#"{"name":"n1","pid":"#), "{status}");
        assert!(
            status.ends_with(
                r#""peers":{"b":{"reachable":false,"probes":0},"a":{"reachable":false,"probes":0}}}"#
            ),
            "{status}"
        );
    }
}

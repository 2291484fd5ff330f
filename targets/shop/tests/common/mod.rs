//! The shop as local processes for the tests: Debian's `nats-server -js` on a free port with
//! its store in a temp folder, and the three services on ports they pick, each with its
//! SQLite file in the same folder. Every wait is bounded; `Shop` kills everything on drop,
//! also when an assertion panics.

#![allow(dead_code)] // each test file uses its own part of the helper

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const STARTUP: Duration = Duration::from_secs(15);

/// How the services are started.
pub struct Config {
    /// `SHOP_BUGS` for every service.
    pub bugs: &'static str,
    /// Inventory's `--stock`.
    pub stock: &'static str,
    /// Payments' `--limit`.
    pub limit: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bugs: "",
            stock: "a=100,b=100",
            limit: 100,
        }
    }
}

/// One running service: its process, base URL and stderr lines.
struct Service {
    child: Child,
    url: String,
    log: mpsc::Receiver<String>,
}

/// A running shop. Roles are `orders`, `inventory`, `payments`.
pub struct Shop {
    dir: tempfile::TempDir,
    config: Config,
    nats: Option<Child>,
    nats_port: u16,
    pub nats_url: String,
    services: BTreeMap<&'static str, Service>,
    pub http: reqwest::Client,
}

impl Drop for Shop {
    fn drop(&mut self) {
        for service in self.services.values_mut() {
            let _ = service.child.kill();
            let _ = service.child.wait();
        }
        self.stop_nats();
    }
}

/// A port nobody listens on right now (the OS's pick, released for the child to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("the OS gives a free port")
        .port()
}

impl Shop {
    /// NATS and the three services, each healthy.
    pub async fn start(config: Config) -> Shop {
        let dir = tempfile::tempdir().expect("a temp folder");
        let port = free_port();
        let mut shop = Shop {
            dir,
            config,
            nats: None,
            nats_port: port,
            nats_url: format!("nats://127.0.0.1:{port}"),
            services: BTreeMap::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a plain HTTP client builds"),
        };
        shop.start_nats();
        for role in ["orders", "inventory", "payments"] {
            shop.start_service(role).await;
        }
        shop
    }

    /// Starts nats-server (again, on the same port and store) and waits until it listens.
    pub fn start_nats(&mut self) {
        assert!(self.nats.is_none(), "nats-server runs already");
        let port = self.nats_port;
        let nats = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(self.dir.path().join("jetstream"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("failed to start nats-server (apt-get install nats-server)");
        self.nats = Some(nats);
        let deadline = Instant::now() + STARTUP;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {port}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9` of nats-server, reaped (its store stays).
    pub fn stop_nats(&mut self) {
        if let Some(mut nats) = self.nats.take() {
            let _ = nats.kill();
            let _ = nats.wait();
        }
    }

    /// Waits (at most `limit`) for a line of `role`'s stderr containing `needle`.
    pub fn wait_log(&self, role: &str, needle: &str, limit: Duration) -> String {
        let log = &self.services.get(role).expect("the role runs").log;
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("shop {role} logged no line with {needle:?} within {limit:?}"),
            }
        }
    }

    pub fn db(&self, role: &str) -> PathBuf {
        self.dir.path().join(format!("{role}.db"))
    }

    /// Starts `role` on its database (again, after a kill) and waits until it is healthy.
    pub async fn start_service(&mut self, role: &'static str) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shop"));
        cmd.arg(role)
            .args(["--listen", "127.0.0.1:0", "--nats", &self.nats_url, "--db"])
            .arg(self.db(role))
            .env("SHOP_BUGS", self.config.bugs)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        match role {
            "inventory" => cmd.args(["--stock", self.config.stock]),
            "payments" => cmd.args(["--limit", &self.config.limit.to_string()]),
            _ => &mut cmd,
        };
        let mut child = cmd.spawn().expect("failed to start shop");
        let log = stderr_lines(&mut child, role);
        let line = log.recv_timeout(STARTUP);
        let url = line.as_ref().ok().and_then(|line| {
            // "shop orders listening on 127.0.0.1:PORT, db ..."
            let (_, rest) = line.split_once(" listening on ")?;
            Some(format!("http://{}", rest.split_once(',')?.0))
        });
        let Some(url) = url else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shop {role} did not start: {line:?}");
        };
        self.services.insert(
            role,
            Service {
                child,
                url: url.clone(),
                log,
            },
        );
        let http = self.http.clone();
        let healthy = within(STARTUP, || {
            let probe = http.get(format!("{url}/health")).send();
            async move { probe.await.ok().filter(|r| r.status() == 200) }
        })
        .await;
        assert!(healthy.is_some(), "shop {role} never became healthy");
    }

    /// `kill -9` of `role`, reaped.
    pub fn kill(&mut self, role: &str) {
        let mut service = self.services.remove(role).expect("the role runs");
        service.child.kill().expect("SIGKILL reaches the child");
        let _ = service.child.wait();
    }

    pub fn url(&self, role: &str) -> &str {
        &self.services.get(role).expect("the role runs").url
    }

    pub async fn get(&self, role: &str, path: &str) -> Value {
        let url = format!("{}{path}", self.url(role));
        let resp = self.http.get(&url).send().await.expect("GET failed");
        assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
        resp.json().await.expect("the body is JSON")
    }

    /// `POST /orders`; the status and the body.
    pub async fn place(
        &self,
        id: i64,
        customer: &str,
        sku: &str,
        qty: i64,
        amount: i64,
    ) -> (u16, Value) {
        let body =
            json!({"id": id, "customer": customer, "sku": sku, "qty": qty, "amount": amount});
        let resp = self
            .http
            .post(format!("{}/orders", self.url("orders")))
            .json(&body)
            .send()
            .await
            .expect("POST /orders failed");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("the body is JSON"))
    }

    /// `/orders` as id → status.
    pub async fn statuses(&self) -> BTreeMap<i64, String> {
        records(&self.get("orders", "/orders").await, "orders")
            .iter()
            .map(|o| {
                (
                    o["id"].as_i64().expect("an id"),
                    o["status"].as_str().expect("a status").to_owned(),
                )
            })
            .collect()
    }

    /// Waits (at most `limit`) until `n` orders exist, none PENDING, the read model equals
    /// the write model and no stock is reserved; panics with what it last saw.
    pub async fn settled(&self, n: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            let orders = self.get("orders", "/orders").await;
            let history = self.get("orders", "/history").await;
            let stock = self.get("inventory", "/stock").await;
            let all = records(&orders, "orders");
            let done = all.len() == n
                && all.iter().all(|o| o["status"] != "PENDING")
                && history == orders
                && records(&stock, "stock").iter().all(|s| s["reserved"] == 0);
            if done {
                return;
            }
            let last = json!({"orders": orders, "history": history, "stock": stock});
            assert!(
                Instant::now() < deadline,
                "not settled within {limit:?}: {last}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Debian's nats-server: on the PATH, or where the package puts it (/usr/sbin may be missing
/// from a CI runner's PATH).
fn nats_server() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("nats-server"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nats-server"))
}

/// The list under `key` in a `{"KEY":[...]}` body.
pub fn records<'a>(body: &'a Value, key: &str) -> &'a Vec<Value> {
    body[key]
        .as_array()
        .unwrap_or_else(|| panic!("no list {key} in {body}"))
}

/// The child's stderr, line by line, read by a thread that drains it to the end (so the child
/// never blocks on a full pipe) and echoes it for failing tests' output.
fn stderr_lines(child: &mut Child, role: &'static str) -> mpsc::Receiver<String> {
    let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let (send, recv) = mpsc::channel();
    thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("[{role}] {line}");
            let _ = send.send(line);
        }
    });
    recv
}

/// Polls `probe` every 20 ms until it returns `Some`, for at most `limit`.
pub async fn within<T, F: Future<Output = Option<T>>>(
    limit: Duration,
    mut probe: impl FnMut() -> F,
) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(t) = probe().await {
            return Some(t);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

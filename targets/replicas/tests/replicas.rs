//! The replicas binary as local processes on 127.0.0.1: a replica converges to its primary
//! once writes stop, and each bug switch makes the anomaly it promises. Processes listen on
//! port 0 and name their port in the startup line; every wait is bounded; `Procs` kills its
//! children on every path.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const STARTUP: Duration = Duration::from_secs(10);

/// Running replicas processes, killed and reaped on drop (also when an assertion panics).
#[derive(Default)]
struct Procs {
    children: Vec<Child>,
}

impl Drop for Procs {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Procs {
    /// Starts `replicas ROLE ARGS... --listen 127.0.0.1:0` and returns its base URL, read from
    /// the startup line.
    fn start(&mut self, args: &[&str]) -> String {
        let mut child = Command::new(env!("CARGO_BIN_EXE_replicas"))
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env_remove("REPLICAS_BUGS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start replicas");
        let lines = stderr_lines(&mut child);
        self.children.push(child);
        let line = lines
            .recv_timeout(STARTUP)
            .unwrap_or_else(|e| panic!("replicas {args:?} wrote no startup line: {e}"));
        // "replicas primary listening on 127.0.0.1:PORT, bugs: ..."
        let addr = line
            .split_once(" listening on ")
            .and_then(|(_, rest)| rest.split_once(','))
            .map(|(addr, _)| addr)
            .unwrap_or_else(|| panic!("replicas {args:?} did not start: {line}"));
        format!("http://{addr}")
    }

    fn primary(&mut self, args: &[&str]) -> String {
        self.start(&[&["primary"], args].concat())
    }

    fn replica(&mut self, primary: &str, args: &[&str]) -> String {
        self.start(&[&["replica", "--primary", primary], args].concat())
    }
}

/// The child's stderr, line by line, read by a thread that drains it to the end (so the child
/// never blocks on a full pipe) and echoes it for failing tests' output.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = BufReader::new(child.stderr.take().expect("stderr is piped"));
    let (send, recv) = mpsc::channel();
    thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            eprintln!("[child] {line}");
            let _ = send.send(line);
        }
    });
    recv
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a plain HTTP client builds")
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    let resp = client.get(url).send().await.expect("GET failed");
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.expect("the body is JSON")
}

async fn post(client: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let resp = client
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("POST failed");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("the body is JSON"))
}

/// The ids in `{"items":[{"id":N,"seq":K},...]}`.
fn ids(items: &Value) -> Vec<i64> {
    items["items"]
        .as_array()
        .expect("items is a list")
        .iter()
        .map(|i| i["id"].as_i64().expect("an integer id"))
        .collect()
}

/// Polls `probe` every 10 ms until it returns `Some`, for at most `limit`.
async fn within<T, F: Future<Output = Option<T>>>(
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
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn replica_converges_to_the_primarys_items_after_writes_stop() {
    let mut procs = Procs::default();
    let primary = procs.primary(&[]);
    let replica = procs.replica(&primary, &[]);
    let c = client();
    for id in (1..=30).rev() {
        assert_eq!(
            post(&c, &format!("{primary}/items"), json!({"id": id}))
                .await
                .0,
            200
        );
    }
    // Idempotent: a repeated id is no new item and no new change.
    assert_eq!(
        post(&c, &format!("{primary}/items"), json!({"id": 7}))
            .await
            .0,
        200
    );
    let expected = get(&c, &format!("{primary}/items")).await;
    assert_eq!(ids(&expected), (1..=30).collect::<Vec<_>>());
    assert_eq!(expected["items"][0], json!({"id": 1, "seq": 30}));

    let converged = within(Duration::from_secs(2), || async {
        let copy = get(&c, &format!("{replica}/items")).await;
        (copy == expected).then_some(())
    })
    .await;
    assert!(
        converged.is_some(),
        "the replica did not converge within 2 s"
    );
}

#[tokio::test]
async fn replica_with_drop_every_5_never_gets_the_5th_10th_15th_and_20th_change() {
    let mut procs = Procs::default();
    let primary = procs.primary(&[]);
    let replica = procs.replica(&primary, &["--poll", "50ms", "--bugs", "drop-every=5"]);
    let c = client();
    // One at a time, so item N is change N and the dropped changes are items 5, 10, 15, 20.
    for id in 1..=20 {
        assert_eq!(
            post(&c, &format!("{primary}/items"), json!({"id": id}))
                .await
                .0,
            200
        );
    }
    let pulled = within(Duration::from_secs(2), || async {
        (get(&c, &format!("{replica}/health")).await["last_seq"] == 20).then_some(())
    })
    .await;
    assert!(
        pulled.is_some(),
        "the replica did not pull all 20 changes within 2 s"
    );
    // Several more polls: a dropped change is never retried.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let copy: BTreeSet<i64> = ids(&get(&c, &format!("{replica}/items")).await)
        .into_iter()
        .collect();
    let missing: Vec<i64> = (1..=20).filter(|id| !copy.contains(id)).collect();
    assert_eq!(missing, [5, 10, 15, 20]);
    assert_eq!(copy.len(), 16);
}

#[tokio::test]
async fn replica_with_lag_300_shows_a_write_after_300_ms_and_within_800_ms() {
    let mut procs = Procs::default();
    let primary = procs.primary(&[]);
    let replica = procs.replica(&primary, &["--bugs", "lag=300"]);
    let c = client();
    let start = Instant::now();
    assert_eq!(
        post(&c, &format!("{primary}/items"), json!({"id": 42}))
            .await
            .0,
        200
    );
    let seen = within(Duration::from_secs(2), || async {
        let copy = ids(&get(&c, &format!("{replica}/items")).await);
        copy.contains(&42).then(|| start.elapsed())
    })
    .await
    .expect("the item never reached the replica within 2 s");
    // 295, not 300: the primary stamps whole milliseconds.
    assert!(
        seen >= Duration::from_millis(295),
        "seen after {seen:?}, before the lag"
    );
    assert!(seen <= Duration::from_millis(800), "seen after {seen:?}");
}

#[tokio::test]
async fn double_capture_every_2_captures_every_second_confirmed_order_twice() {
    let mut procs = Procs::default();
    let primary = procs.primary(&["--bugs", "double-capture-every=2"]);
    let c = client();
    // Orders 3, 6 and 9 are over 100 and CANCELLED: the CONFIRMED ones are 1 2 4 5 7 8 10,
    // and every second of those is captured twice: 2, 5 and 8.
    for id in 1..=10 {
        let amount = if id % 3 == 0 { 150 } else { 50 };
        let (status, order) = post(
            &c,
            &format!("{primary}/orders"),
            json!({"id": id, "amount": amount}),
        )
        .await;
        assert_eq!(status, 200);
        let expected = if amount <= 100 {
            "CONFIRMED"
        } else {
            "CANCELLED"
        };
        assert_eq!(
            order,
            json!({"id": id, "status": expected, "amount": amount})
        );
    }
    // Placing an order again changes nothing.
    post(
        &c,
        &format!("{primary}/orders"),
        json!({"id": 2, "amount": 50}),
    )
    .await;
    assert_eq!(
        get(&c, &format!("{primary}/orders")).await["orders"]
            .as_array()
            .unwrap()
            .len(),
        10
    );

    let payments = get(&c, &format!("{primary}/payments")).await;
    let mut captures: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for p in payments["payments"].as_array().expect("payments is a list") {
        assert_eq!(p["state"], "CAPTURED");
        let order = p["order_id"].as_i64().expect("an integer order_id");
        captures
            .entry(order)
            .or_default()
            .push(p["id"].as_str().unwrap().to_owned());
    }
    let twice: Vec<i64> = captures
        .iter()
        .filter(|(_, ps)| ps.len() == 2)
        .map(|(o, _)| *o)
        .collect();
    assert_eq!(twice, [2, 5, 8]);
    assert_eq!(captures[&5], ["p-5", "p-5-dup"]);
    assert_eq!(
        captures.keys().copied().collect::<Vec<_>>(),
        [1, 2, 4, 5, 7, 8, 10]
    );
}

/// `count` reserves of 1 unit of `sku`, all at once; their statuses.
async fn reserve_concurrently(primary: &str, sku: &str, count: usize) -> Vec<u16> {
    let c = client();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let (c, url, sku) = (c.clone(), format!("{primary}/reserve"), sku.to_owned());
            tokio::spawn(async move { post(&c, &url, json!({"sku": sku, "qty": 1})).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("a reserve task panicked"));
    }
    statuses
}

/// `(available, reserved, sold)` of `sku`.
async fn level(primary: &str, sku: &str) -> (i64, i64, i64) {
    let stock = get(&client(), &format!("{primary}/stock")).await;
    let level = stock["stock"]
        .as_array()
        .expect("stock is a list")
        .iter()
        .find(|l| l["id"] == sku)
        .unwrap_or_else(|| panic!("no sku {sku} in {stock}"));
    let field = |f: &str| level[f].as_i64().expect("an integer level");
    (field("available"), field("reserved"), field("sold"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserves_without_bugs_conserve_the_stock_and_refuse_what_is_not_there() {
    let mut procs = Procs::default();
    let primary = procs.primary(&["--stock", "a=100,b=3"]);
    let statuses = reserve_concurrently(&primary, "a", 50).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(level(&primary, "a").await, (50, 50, 0));

    let mut statuses = reserve_concurrently(&primary, "b", 5).await;
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 409, 409]);
    assert_eq!(level(&primary, "b").await, (0, 3, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racy_stock_loses_reservations_and_oversells_under_concurrent_reserves() {
    let mut procs = Procs::default();
    let primary = procs.primary(&["--stock", "a=100,b=3", "--bugs", "racy-stock"]);
    let statuses = reserve_concurrently(&primary, "a", 20).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let (available, reserved, sold) = level(&primary, "a").await;
    // Every reserve takes its unit off available; overlapping ones overwrite each other's
    // reserved.
    assert_eq!(available, 80);
    assert!(
        available + reserved + sold != 100,
        "the race did not trigger: reserved {reserved}"
    );
    // Reserves that read the same 3 available all pass the check.
    reserve_concurrently(&primary, "b", 10).await;
    let (available, ..) = level(&primary, "b").await;
    assert!(
        available < 0,
        "the race did not oversell: available {available}"
    );
}

/// The transfers `(from, to, amount)`, all at once; their statuses.
async fn transfer_concurrently(primary: &str, moves: &[(i64, i64, i64)]) -> Vec<u16> {
    let c = client();
    let tasks: Vec<_> = moves
        .iter()
        .map(|&(from, to, amount)| {
            let (c, url) = (c.clone(), format!("{primary}/transfer"));
            let body = json!({"from": from, "to": to, "amount": amount});
            tokio::spawn(async move { post(&c, &url, body).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.expect("a transfer task panicked"));
    }
    statuses
}

/// The balances in `{"accounts":[{"id":N,"balance":B},...]}`, by account.
async fn balances(primary: &str) -> BTreeMap<i64, i64> {
    let accounts = get(&client(), &format!("{primary}/accounts")).await;
    accounts["accounts"]
        .as_array()
        .expect("accounts is a list")
        .iter()
        .map(|a| {
            let field = |f: &str| a[f].as_i64().expect("an integer");
            (field("id"), field("balance"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_without_bugs_conserve_the_money_and_refuse_overdrafts() {
    let mut procs = Procs::default();
    let primary = procs.primary(&["--accounts", "3", "--balance", "10"]);
    assert_eq!(
        balances(&primary).await,
        BTreeMap::from([(0, 10), (1, 10), (2, 10)])
    );
    // 0 → 1 and 1 → 2 racing, 30 times each: whatever passes, the money stays 30.
    let moves: Vec<(i64, i64, i64)> = (0..60).map(|i| (i % 2, i % 2 + 1, 1)).collect();
    let statuses = transfer_concurrently(&primary, &moves).await;
    assert!(
        statuses.iter().all(|s| [200, 409].contains(s)),
        "{statuses:?}"
    );
    let after = balances(&primary).await;
    assert_eq!(after.values().sum::<i64>(), 30, "{after:?}");
    assert!(after.values().all(|b| *b >= 0), "{after:?}");
    assert_eq!(
        after[&0], 0,
        "account 0 gave all it had and then 409s: {after:?}"
    );

    let c = client();
    let url = format!("{primary}/transfer");
    let (status, body) = post(&c, &url, json!({"from": 0, "to": 1, "amount": 1})).await;
    assert_eq!(
        (status, body),
        (409, json!({"error": "insufficient funds"}))
    );
    let (status, body) = post(&c, &url, json!({"from": 2, "to": 0, "amount": 1})).await;
    assert_eq!((status, body), (200, json!({"ok": true})));
    assert_eq!(
        post(&c, &url, json!({"from": 0, "to": 9, "amount": 1}))
            .await
            .0,
        404
    );
    assert_eq!(post(&c, &url, json!({"from": 0, "to": 1})).await.0, 400);
    assert_eq!(
        post(&c, &url, json!({"from": 0, "to": 1, "amount": 0}))
            .await
            .0,
        400
    );
    assert_eq!(
        post(&c, &url, json!({"from": 1, "to": 1, "amount": 1}))
            .await
            .0,
        400
    );
    assert_eq!(balances(&primary).await.values().sum::<i64>(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racy_transfer_leaves_money_in_no_account_while_a_read_looks() {
    let mut procs = Procs::default();
    let primary = procs.primary(&["--bugs", "racy-transfer"]);
    // Four clients, 50 transfers each, one after another: about 50 ms of transfers.
    let clients: Vec<_> = (0..4)
        .map(|k| {
            let primary = primary.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for i in 0..50 {
                    let one = ((i + k) % 5, (i + k + 1) % 5, 1);
                    statuses.extend(transfer_concurrently(&primary, &[one]).await);
                }
                statuses
            })
        })
        .collect();
    // Reads meanwhile: some land in a 1 ms window where a debit has no credit yet.
    let mut totals = Vec::new();
    while !clients.iter().all(|c| c.is_finished()) {
        totals.push(balances(&primary).await.values().sum::<i64>());
    }
    for client in clients {
        let statuses = client.await.expect("a transfer client panicked");
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    }
    assert!(
        totals.iter().any(|t| *t < 500),
        "no read saw money missing: {totals:?}"
    );
    assert!(totals.iter().all(|t| *t <= 500), "{totals:?}");
    // Every transfer credits in the end: the money is back once they are done.
    assert_eq!(balances(&primary).await.values().sum::<i64>(), 500);
}

#[tokio::test]
async fn no_funds_check_lets_an_account_overdraw() {
    let mut procs = Procs::default();
    let primary = procs.primary(&["--balance", "3", "--bugs", "no-funds-check"]);
    let c = client();
    let (status, _) = post(
        &c,
        &format!("{primary}/transfer"),
        json!({"from": 4, "to": 0, "amount": 5}),
    )
    .await;
    assert_eq!(status, 200);
    let after = balances(&primary).await;
    assert_eq!(after[&4], -2);
    assert_eq!(after.values().sum::<i64>(), 15);
}

#[test]
fn unknown_bug_switches_exit_2_with_one_line_naming_them() {
    for (bugs, named) in [("drop-evry=5", "drop-evry"), ("lag=soon", "soon")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_replicas"))
            .args(["primary", "--listen", "127.0.0.1:0", "--bugs", bugs])
            .stderr(Stdio::piped())
            .spawn()
            .expect("failed to start replicas");
        let lines = stderr_lines(&mut child);
        let mut procs = Procs {
            children: vec![child],
        };
        let status = wait_exit(&mut procs.children[0], Duration::from_secs(10));
        assert_eq!(status.code(), Some(2));
        let line = lines.recv_timeout(STARTUP).expect("an error line");
        assert!(line.contains(named), "{line}");
        assert!(
            lines.recv_timeout(Duration::from_secs(1)).is_err(),
            "more than one line"
        );
    }
}

#[test]
fn sigterm_stops_a_primary_with_exit_0() {
    let mut procs = Procs::default();
    procs.primary(&[]);
    let pid = procs.children[0].id().to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("failed to run kill");
    assert!(kill.success());
    let status = wait_exit(&mut procs.children[0], Duration::from_secs(10));
    assert!(status.success(), "{status}");
}

/// Waits for `child` to exit, at most `limit`.
fn wait_exit(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("failed to wait for replicas") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "replicas did not exit within {limit:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

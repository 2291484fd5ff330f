//! The fault proxy over real TCP on 127.0.0.1: an echo server, a byte source and a tiny axum
//! service started by each test, with each toxic set, observed, and healed. Every wait is
//! bounded; the whole file runs in a few seconds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use splitbrain::nemesis::proxy::{Direction, FaultProxy, ProxyError, Toxic};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Long enough for anything on loopback that should happen "at once".
const PROMPT: Duration = Duration::from_secs(1);

async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    (listener, addr)
}

/// A server that writes back whatever it reads, on every connection.
async fn echo_server() -> SocketAddr {
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let (mut r, mut w) = stream.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

/// A server that writes `len` bytes to each client, then closes.
async fn source_server(len: usize) -> SocketAddr {
    let (listener, addr) = listener().await;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.write_all(&vec![7u8; len]).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

/// A tiny HTTP service answering `GET /` with "pong".
async fn http_server() -> SocketAddr {
    let (listener, addr) = listener().await;
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "pong" }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn proxy_to(upstream: SocketAddr) -> FaultProxy {
    let listen: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
    FaultProxy::start("test-link", listen, upstream, 7)
        .await
        .expect("proxy starts")
}

async fn connect(addr: SocketAddr) -> TcpStream {
    let stream = timeout(PROMPT, TcpStream::connect(addr))
        .await
        .expect("connect in time")
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Sends `msg` and reads it back from an echo; returns the round-trip time.
async fn round_trip(stream: &mut TcpStream, msg: &[u8]) -> Duration {
    let started = Instant::now();
    stream.write_all(msg).await.expect("write");
    let mut back = vec![0u8; msg.len()];
    timeout(Duration::from_secs(2), stream.read_exact(&mut back))
        .await
        .expect("echo in time")
        .expect("echo");
    assert_eq!(back, msg);
    started.elapsed()
}

/// Whether the stream is closed: a read gives EOF or an error (reset) within [`PROMPT`].
async fn sees_close(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    matches!(
        timeout(PROMPT, stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn bytes_pass_through_unchanged_without_toxics() {
    let proxy = proxy_to(echo_server().await).await;
    let stream = connect(proxy.local_addr()).await;
    let sent: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (mut r, mut w) = stream.into_split();
    let to_send = sent.clone();
    let writer = tokio::spawn(async move { w.write_all(&to_send).await });
    let mut back = vec![0u8; sent.len()];
    timeout(Duration::from_secs(5), r.read_exact(&mut back))
        .await
        .expect("echo in time")
        .expect("echo");
    assert!(back == sent, "the bytes came back changed");
    writer.await.expect("writer task").expect("write");

    let http = proxy_to(http_server().await).await;
    let body = http_client()
        .get(format!("http://{}/", http.local_addr()))
        .send()
        .await
        .expect("request through the proxy")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "pong");
    assert!(proxy.toxics().is_empty());
}

#[tokio::test]
async fn upstream_latency_adds_the_asked_delay_to_each_round_trip() {
    let proxy = proxy_to(echo_server().await).await;
    let mut stream = connect(proxy.local_addr()).await;
    let baseline = round_trip(&mut stream, b"warm").await;
    proxy.set(Toxic::Latency {
        direction: Direction::Upstream,
        latency: Duration::from_millis(100),
        jitter: Duration::ZERO,
    });
    let mut samples = Vec::new();
    for _ in 0..20 {
        samples.push(round_trip(&mut stream, b"ping").await);
    }
    let (min, max) = (samples.iter().min().copied(), samples.iter().max().copied());
    let median = median(samples);
    eprintln!("latency 100ms: baseline {baseline:?}, median {median:?}, min {min:?}, max {max:?}");
    assert!(
        median >= Duration::from_millis(100) && median <= Duration::from_millis(140),
        "median round trip {median:?} is not within [100ms, 140ms]"
    );
    proxy.clear();
    let healed = round_trip(&mut stream, b"ping").await;
    assert!(
        healed < Duration::from_millis(50),
        "after clear: {healed:?}"
    );
}

#[tokio::test]
async fn latency_jitter_spreads_round_trips_within_its_bounds() {
    let proxy = proxy_to(echo_server().await).await;
    let mut stream = connect(proxy.local_addr()).await;
    proxy.set(Toxic::Latency {
        direction: Direction::Both,
        latency: Duration::from_millis(60),
        jitter: Duration::from_millis(30),
    });
    let mut samples = Vec::new();
    for _ in 0..20 {
        samples.push(round_trip(&mut stream, b"ping").await);
    }
    let min = samples.iter().min().copied().expect("twenty samples");
    let max = samples.iter().max().copied().expect("twenty samples");
    eprintln!(
        "latency 60ms ± 30ms both ways: median {:?}, min {min:?}, max {max:?}",
        median(samples)
    );
    // Two draws of 60 ± 30 ms per round trip: within [60ms, 180ms] plus scheduling slack.
    assert!(min >= Duration::from_millis(60), "min {min:?}");
    assert!(max <= Duration::from_millis(220), "max {max:?}");
    assert!(
        max - min >= Duration::from_millis(15),
        "no visible spread: {min:?}..{max:?}"
    );
}

#[tokio::test]
async fn reset_closes_live_connections_at_once_and_new_ones_until_cleared() {
    let proxy = proxy_to(echo_server().await).await;
    let mut live = connect(proxy.local_addr()).await;
    round_trip(&mut live, b"before").await;
    let waiting = tokio::spawn(async move { sees_close(&mut live).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    proxy.set(Toxic::Reset {
        direction: Direction::Both,
    });
    assert!(
        waiting.await.expect("reader task"),
        "the live connection stayed open"
    );
    let noticed = started.elapsed();
    eprintln!("reset noticed by an in-flight reader after {noticed:?}");
    assert!(noticed < Duration::from_millis(200));

    let mut fresh = connect(proxy.local_addr()).await;
    let _ = fresh.write_all(b"hello").await;
    assert!(sees_close(&mut fresh).await, "a new connection got through");

    proxy.clear();
    let mut healed = connect(proxy.local_addr()).await;
    round_trip(&mut healed, b"after").await;
}

#[tokio::test]
async fn reset_downstream_gives_the_client_a_connection_reset_error() {
    let proxy = proxy_to(echo_server().await).await;
    let mut live = connect(proxy.local_addr()).await;
    round_trip(&mut live, b"before").await;
    proxy.set(Toxic::Reset {
        direction: Direction::Downstream,
    });
    let mut buf = [0u8; 8];
    let read = timeout(PROMPT, live.read(&mut buf)).await.expect("prompt");
    let err = read.expect_err("an RST, not an orderly EOF");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn blackhole_times_out_requests_and_the_same_proxy_serves_again_after_clear() {
    let proxy = proxy_to(http_server().await).await;
    let url = format!("http://{}/", proxy.local_addr());
    let client = http_client();
    proxy.set(Toxic::Blackhole {
        direction: Direction::Both,
    });
    let err = client.get(&url).send().await.expect_err("no answer");
    assert!(err.is_timeout(), "expected a timeout, got {err}");

    proxy.clear();
    let body = client.get(&url).send().await.expect("served again");
    assert_eq!(body.text().await.expect("body"), "pong");
}

#[tokio::test]
async fn a_blackholed_connection_resumes_after_clear() {
    let proxy = proxy_to(echo_server().await).await;
    let mut stream = connect(proxy.local_addr()).await;
    round_trip(&mut stream, b"before").await;
    proxy.set(Toxic::Blackhole {
        direction: Direction::Upstream,
    });
    stream.write_all(b"dropped").await.expect("write");
    let mut buf = [0u8; 16];
    let silent = timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
    assert!(silent.is_err(), "bytes crossed a blackhole: {silent:?}");

    proxy.clear();
    round_trip(&mut stream, b"resumed").await;
}

#[tokio::test]
async fn refuse_closes_new_connections_at_once_and_spares_live_ones() {
    let proxy = proxy_to(echo_server().await).await;
    let mut live = connect(proxy.local_addr()).await;
    round_trip(&mut live, b"before").await;
    proxy.set(Toxic::Refuse);
    let mut refused = connect(proxy.local_addr()).await;
    let mut buf = [0u8; 8];
    let read = timeout(PROMPT, refused.read(&mut buf))
        .await
        .expect("prompt");
    assert_eq!(read.expect("an orderly close"), 0);
    round_trip(&mut live, b"still").await;

    proxy.clear();
    let mut healed = connect(proxy.local_addr()).await;
    round_trip(&mut healed, b"after").await;
}

#[tokio::test]
async fn bandwidth_slows_a_200_kb_transfer_to_roughly_the_asked_rate() {
    const LEN: usize = 200_000;
    const RATE: u64 = 400_000;
    let proxy = proxy_to(source_server(LEN).await).await;
    proxy.set(Toxic::Bandwidth {
        direction: Direction::Downstream,
        bytes_per_sec: RATE,
    });
    let mut stream = connect(proxy.local_addr()).await;
    let started = Instant::now();
    let mut got = Vec::new();
    timeout(Duration::from_secs(3), stream.read_to_end(&mut got))
        .await
        .expect("transfer in time")
        .expect("transfer");
    let elapsed = started.elapsed();
    assert_eq!(got.len(), LEN);
    let rate = LEN as f64 / elapsed.as_secs_f64();
    eprintln!("bandwidth {RATE} B/s asked: 200 KB in {elapsed:?}, {rate:.0} B/s");
    assert!(
        rate > RATE as f64 * 0.5 && rate < RATE as f64 * 1.3,
        "{rate:.0} B/s is far from {RATE}"
    );
}

#[tokio::test]
async fn setting_a_toxic_of_the_same_kind_replaces_it_and_toxics_lists_the_active_set() {
    let proxy = proxy_to(echo_server().await).await;
    let slow = |ms| Toxic::Latency {
        direction: Direction::Downstream,
        latency: Duration::from_millis(ms),
        jitter: Duration::ZERO,
    };
    proxy.set(slow(10));
    proxy.set(Toxic::Refuse);
    proxy.set(slow(20));
    assert_eq!(proxy.toxics(), vec![slow(20), Toxic::Refuse]);
    proxy.clear();
    assert!(proxy.toxics().is_empty());
}

#[tokio::test]
async fn shutdown_closes_live_connections_and_stops_listening() {
    let proxy = proxy_to(echo_server().await).await;
    let addr = proxy.local_addr();
    let mut live = connect(addr).await;
    round_trip(&mut live, b"before").await;
    timeout(PROMPT, proxy.shutdown())
        .await
        .expect("prompt shutdown");
    assert!(
        sees_close(&mut live).await,
        "a connection outlived the proxy"
    );
    assert!(TcpStream::connect(addr).await.is_err(), "still listening");
}

#[tokio::test]
async fn a_down_upstream_resets_the_client() {
    let (gone, upstream) = listener().await;
    drop(gone);
    let proxy = proxy_to(upstream).await;
    let mut client = connect(proxy.local_addr()).await;
    assert!(sees_close(&mut client).await);
}

#[tokio::test]
async fn start_names_the_address_it_failed_to_bind() {
    let (_held, taken) = listener().await;
    let err = FaultProxy::start("orders-1", taken, taken, 1)
        .await
        .expect_err("the port is taken");
    let ProxyError::Bind { addr, .. } = &err;
    assert_eq!(*addr, taken);
    let text = err.to_string();
    assert!(text.starts_with("failed to bind fault proxy \"orders-1\" on 127.0.0.1:"));
}

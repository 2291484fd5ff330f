//! Fault proxy overhead with no toxic: round-trip time of small messages and bulk throughput
//! over loopback, directly to an echo server and through a `FaultProxy`, so a latency toxic's
//! error can be read against the proxy's own cost.
//!
//! `cargo bench --bench proxy` (`BENCH_ROUND_TRIPS`, default 2000; `BENCH_MEGABYTES`, default
//! 64). `cargo test --bench proxy` runs it unoptimised, as a quick measurement.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use splitbrain::nemesis::proxy::FaultProxy;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let round_trips = env_or("BENCH_ROUND_TRIPS", 2000);
    let megabytes = env_or("BENCH_MEGABYTES", 64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let echo = echo_server().await;
        let listen: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
        let proxy = FaultProxy::start("bench", listen, echo, 1)
            .await
            .expect("proxy starts");
        for (label, addr) in [("direct ", echo), ("proxied", proxy.local_addr())] {
            let rtt = round_trips_at(addr, round_trips).await;
            let rate = throughput_at(addr, megabytes).await;
            println!(
                "{label}: round trip p50 {:?} p99 {:?} ({round_trips} trips); bulk {rate:.0} MB/s ({megabytes} MB echoed)",
                rtt.0, rtt.1
            );
        }
        proxy.shutdown().await;
    });
}

async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
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

/// Median and 99th percentile of `count` 64-byte round trips on one connection.
async fn round_trips_at(addr: SocketAddr, count: usize) -> (Duration, Duration) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let msg = [1u8; 64];
    let mut back = [0u8; 64];
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        stream.write_all(&msg).await.expect("write");
        stream.read_exact(&mut back).await.expect("read");
        samples.push(started.elapsed());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

/// MB/s of `megabytes` written and echoed back through one connection.
async fn throughput_at(addr: SocketAddr, megabytes: usize) -> f64 {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut r, mut w) = stream.into_split();
    let total = megabytes * 1_000_000;
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        let block = vec![9u8; 64 * 1024];
        let mut left = total;
        while left > 0 {
            let n = left.min(block.len());
            w.write_all(&block[..n]).await.expect("write");
            left -= n;
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < total {
        let n = r.read(&mut buf).await.expect("read");
        assert!(n > 0, "echo closed early");
        got += n;
    }
    writer.await.expect("writer");
    megabytes as f64 / started.elapsed().as_secs_f64()
}

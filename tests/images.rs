//! The images scripts/build-images.sh builds locally (no registry): each starts from
//! `FROM scratch` and does its job. netnode is exercised by tests/docker_nemesis.rs; this file
//! covers NATS with JetStream (a packed Debian program) and the shop's three services on it.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{build_images, docker};

/// Removes the container and network named `tag` (before, for leftovers, and after).
struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        docker(&["rm", "-f", self.0]);
        docker(&["network", "rm", self.0]);
    }
}

/// Polls `url` until its body contains `want`, for up to 20 s.
fn wait_for(url: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new("curl").args(["-s", url]).output().unwrap();
        let body = String::from_utf8_lossy(&out.stdout).into_owned();
        if body.contains(want) {
            return body;
        }
        assert!(Instant::now() < deadline, "{url} never had {want}: {body}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_shop_images_run_the_saga_on_the_nats_image() {
    build_images();
    let net = "sbt-shopimg";
    let names = [
        "sbt-shopimg-nats",
        "sbt-shopimg-orders",
        "sbt-shopimg-inventory",
        "sbt-shopimg-payments",
    ];
    let cleanup = || {
        for name in names {
            docker(&["rm", "-f", name]);
        }
        docker(&["network", "rm", net]);
    };
    cleanup();
    struct Guard<F: Fn()>(F);
    impl<F: Fn()> Drop for Guard<F> {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    let _guard = Guard(cleanup);
    assert!(
        docker(&["network", "create", "--subnet", "172.29.211.0/24", net])
            .status
            .success()
    );
    let nats = docker(&[
        "run",
        "-d",
        "--name",
        names[0],
        "--network",
        net,
        "--ip",
        "172.29.211.10",
        "splitbrain/nats:dev",
    ]);
    assert!(nats.status.success(), "{nats:?}");
    for (i, role) in ["orders", "inventory", "payments"].iter().enumerate() {
        let ip = format!("172.29.211.{}", 11 + i);
        let ran = docker(&[
            "run",
            "-d",
            "--name",
            names[i + 1],
            "--network",
            net,
            "--ip",
            &ip,
            "splitbrain/shop:dev",
            role,
            "--listen",
            "0.0.0.0:8080",
            "--db",
            &format!("/data/{role}.db"),
            "--nats",
            "nats://172.29.211.10:4222",
        ]);
        assert!(ran.status.success(), "{ran:?}");
    }
    for i in 11..14 {
        wait_for(&format!("http://172.29.211.{i}:8080/health"), "ok");
    }
    for (id, amount) in [(1, 50), (2, 500)] {
        let body = format!(r#"{{"id":{id},"customer":"c1","sku":"a","qty":1,"amount":{amount}}}"#);
        let placed = Command::new("curl")
            .args([
                "-sf",
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
                "-d",
                &body,
            ])
            .arg("http://172.29.211.11:8080/orders")
            .output()
            .unwrap();
        assert!(placed.status.success(), "{placed:?}");
    }
    // Within the limit: confirmed and captured; over it: cancelled, the stock released.
    wait_for("http://172.29.211.11:8080/orders/1", "CONFIRMED");
    wait_for("http://172.29.211.11:8080/orders/2", "CANCELLED");
    let payments = wait_for("http://172.29.211.13:8080/payments", "CAPTURED");
    assert_eq!(payments.matches("CAPTURED").count(), 1, "{payments}");
    let stock = wait_for("http://172.29.211.12:8080/stock", "\"sold\":1");
    assert!(stock.contains("\"reserved\":0"), "{stock}");
}

#[test]
fn the_nats_image_serves_jetstream_from_scratch() {
    build_images();
    let tag = "sbt-natsimg";
    drop(Cleanup(tag));
    let _cleanup = Cleanup(tag);
    assert!(
        docker(&["network", "create", "--subnet", "172.29.210.0/24", tag])
            .status
            .success()
    );
    let ran = docker(&[
        "run",
        "-d",
        "--name",
        tag,
        "--network",
        tag,
        "--ip",
        "172.29.210.10",
        "splitbrain/nats:dev",
    ]);
    assert!(ran.status.success(), "{ran:?}");
    // Only the program, its libraries and the loader are in the image.
    let history = docker(&["image", "inspect", "-f", "{{.Size}}", "splitbrain/nats:dev"]);
    let size: u64 = String::from_utf8_lossy(&history.stdout)
        .trim()
        .parse()
        .unwrap();
    assert!(size < 40_000_000, "{size} bytes");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let out = Command::new("curl")
            .args([
                "-s",
                "http://172.29.210.10:8222/healthz?js-enabled-only=true",
            ])
            .output()
            .unwrap();
        let body = String::from_utf8_lossy(&out.stdout);
        if body.contains("\"ok\"") {
            break;
        }
        let logs = docker(&["logs", tag]);
        assert!(
            Instant::now() < deadline,
            "not healthy: {body}\n{}",
            String::from_utf8_lossy(&logs.stderr)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let jsz = Command::new("curl")
        .args(["-s", "http://172.29.210.10:8222/jsz"])
        .output()
        .unwrap();
    let jsz: serde_json::Value = serde_json::from_slice(&jsz.stdout).unwrap();
    assert_eq!(jsz["config"]["store_dir"], "/data/jetstream", "{jsz}");
}

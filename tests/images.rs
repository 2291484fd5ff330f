//! The images scripts/build-images.sh builds locally (no registry): each starts from
//! `FROM scratch` and does its job. netnode is exercised by tests/docker_nemesis.rs; this file
//! covers the packed Debian programs (NATS with JetStream, for the shop).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

/// Removes the container and network named `tag` (before, for leftovers, and after).
struct Cleanup(&'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        docker(&["rm", "-f", self.0]);
        docker(&["network", "rm", self.0]);
    }
}

#[test]
fn the_nats_image_serves_jetstream_from_scratch() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let built = Command::new("bash")
        .arg(root.join("scripts/build-images.sh"))
        .current_dir(root)
        .status()
        .expect("run scripts/build-images.sh");
    assert!(built.success());
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

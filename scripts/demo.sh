#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing (scripts/setup.sh), build
# splitbrain and the images of the shop (targets/shop) and NATS locally
# (scripts/build-images.sh), then run workloads/shop.toml: splitbrain deploys NATS and the
# three services as containers, places orders from 16 workers for 30 s while its nemesis
# partitions, kills and pauses them, heals, waits for the services to settle, checks the
# relations between their views, and removes the containers. The verdict is VALID (exit 0);
# SHOP_BUGS=racy-stock (or another switch from targets/shop/README.md) turns on a bug and
# the verdict is INVALID (exit 1) with the anomaly. The run folder (report.html,
# history.jsonl, results.json, junit.xml, run.log, nodes/*.log) is reports/shop/latest/.
# Exit code: splitbrain's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p splitbrain
bash scripts/build-images.sh
status=0
./target/release/splitbrain run workloads/shop.toml || status=$?
echo "run folder: reports/shop/latest, open reports/shop/latest/report.html (exit code $status)"
exit $status

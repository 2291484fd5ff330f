#!/usr/bin/env bash
# The main job on a fresh machine: build splitbrain and the toyset demo service, start toyset
# with one bug switched on (it silently drops 1 add in 100), run the set workload against it,
# and leave the run folder (history.jsonl, results.json, run.log) under reports/.
# Exit code: splitbrain's (1 here: the lost adds are found).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace
./target/release/toyset --listen 127.0.0.1:8080 --bugs "${TOYSET_BUGS:-lose-every=100}" &
toyset=$!
trap 'kill $toyset 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -fsS http://127.0.0.1:8080/health >/dev/null 2>&1 && break
  sleep 0.1
done
status=0
./target/release/splitbrain run workloads/toyset-set.toml || status=$?
echo "run folder: reports/toyset-set/latest (exit code $status)"
exit $status

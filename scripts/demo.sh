#!/usr/bin/env bash
# The main job on a fresh machine: build splitbrain and the toyset demo service, then run
# workloads/toyset-set-faults.toml: splitbrain starts a toyset node itself, drives the set
# workload against it while its nemesis pauses the node (SIGSTOP / SIGCONT) every few seconds,
# heals everything, checks the history and leaves the run folder (history.jsonl with the
# nemesis events, results.json, run.log, nodes/*.log) under reports/toyset-set-faults/latest/.
# toyset is started with one bug on (it drops 1 acknowledged add in 100), so the verdict is
# INVALID with the lost elements and the faults active around them; TOYSET_BUGS= runs a
# correct node (exit 0). Exit code: splitbrain's.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --workspace
export TOYSET_BUGS="${TOYSET_BUGS-lose-every=100}"
status=0
./target/release/splitbrain run workloads/toyset-set-faults.toml || status=$?
echo "run folder: reports/toyset-set-faults/latest (exit code $status)"
exit $status

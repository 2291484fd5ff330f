#!/usr/bin/env bash
# What splitbrain's demo and tests need from the machine, installed where missing (Debian,
# as root): iptables and nsenter (util-linux) for partitions inside containers;
# nats-server (packed into the NATS image by scripts/build-images.sh, and started by the
# shop's own tests); etcd-server (packed into the etcd image for the register workloads);
# and chromium, the headless browser that tests/common/browser.rs opens
# the HTML report in (Debian's, with its recommended fonts; never a downloaded build). Then
# sets up PostgreSQL (scripts/setup-postgres.sh: the cluster, role and database the
# postgres workloads and tests use), and checks that a Docker daemon answers. Idempotent and quick.
set -euo pipefail
need=()
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || need+=(iptables)
command -v nsenter >/dev/null || need+=(util-linux)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v etcd >/dev/null || need+=(etcd-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
bash "$(dirname "$0")/setup-postgres.sh"
docker info >/dev/null 2>&1 || { echo "setup: no Docker daemon answers (docker info failed)" >&2; exit 1; }

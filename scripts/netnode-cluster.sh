#!/usr/bin/env bash
# netnode-cluster.sh up [N] | down: N (default 5) netnode containers, netnode-n1 … netnode-nN,
# on a Docker network of their own (splitbrain-netnode, 172.29.100.0/24, n1 at .11), each
# probing the others, for workloads/netnode-partitions.toml. `up` builds the image first
# (scripts/build-images.sh: local, nothing is pulled) and replaces an earlier cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

network=splitbrain-netnode
subnet=172.29.100

down() {
  docker ps -aq --filter label=splitbrain-demo=netnode | xargs -r docker rm -f >/dev/null
  docker network rm "$network" >/dev/null 2>&1 || true
}

up() {
  local n=${1:-5}
  bash scripts/build-images.sh
  down
  docker network create --subnet "$subnet.0/24" "$network" >/dev/null
  for i in $(seq 1 "$n"); do
    local peers=()
    for j in $(seq 1 "$n"); do
      [ "$i" = "$j" ] || peers+=("n$j=$subnet.$((10 + j)):7000")
    done
    docker run -d --init --name "netnode-n$i" --label splitbrain-demo=netnode \
      --network "$network" --ip "$subnet.$((10 + i))" \
      -e "NETNODE_NAME=n$i" -e "NETNODE_PEERS=$(IFS=,; echo "${peers[*]}")" \
      splitbrain/netnode:dev >/dev/null
    echo "netnode-n$i at http://$subnet.$((10 + i)):7000/status"
  done
}

case "${1:-}" in
  up) up "${2:-5}" ;;
  down) down ;;
  *) echo "usage: $0 up [N] | down" >&2; exit 2 ;;
esac

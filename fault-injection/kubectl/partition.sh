#!/bin/sh
# Partition one pod from its peers with iptables inside the pod, or heal it.
#
#   partition.sh start NODE PEER...   drop packets from each PEER's pod IP on NODE
#   partition.sh heal NODE            flush NODE's SPLITBRAIN chain (safe to run twice)
#
# NODE and PEER are pod names in $NAMESPACE (default: kubectl's current namespace). The pod's
# first container needs the iptables binary and the NET_ADMIN capability. Set CONTAINER to
# pick another container. Exit status: 0 done, 1 a kubectl or iptables call failed, 2 usage.
set -eu

usage() {
    echo "usage: $0 start NODE PEER... | $0 heal NODE" >&2
    exit 2
}

[ $# -ge 2 ] || usage
action=$1
node=$2
shift 2

ns_args=""
[ -n "${NAMESPACE:-}" ] && ns_args="-n $NAMESPACE"
container_args=""
[ -n "${CONTAINER:-}" ] && container_args="-c $CONTAINER"

# Runs iptables in NODE.
in_pod() {
    # shellcheck disable=SC2086 # ns_args and container_args are meant to split into words
    kubectl exec $ns_args $container_args "$node" -- iptables "$@"
}

# Creates the SPLITBRAIN chain and hooks it into INPUT, once.
ensure_chain() {
    in_pod -N SPLITBRAIN 2>/dev/null || true
    in_pod -C INPUT -j SPLITBRAIN 2>/dev/null || in_pod -I INPUT -j SPLITBRAIN
}

case $action in
start)
    [ $# -ge 1 ] || usage
    ensure_chain
    for peer in "$@"; do
        # shellcheck disable=SC2086
        ip=$(kubectl get pod $ns_args "$peer" -o jsonpath='{.status.podIP}')
        if [ -z "$ip" ]; then
            echo "$0: pod $peer has no IP (not scheduled yet?)" >&2
            exit 1
        fi
        in_pod -A SPLITBRAIN -s "$ip" -j DROP
    done
    ;;
heal)
    ensure_chain
    in_pod -F SPLITBRAIN
    ;;
*)
    usage
    ;;
esac

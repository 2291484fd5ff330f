#!/usr/bin/env bash
# Builds the Docker images that splitbrain's container tests run, locally and without a
# registry: nothing is pulled (the images start FROM scratch) and nothing is pushed. Quick and
# idempotent: cargo and the Docker layer cache turn a rerun with no changes into a no-op that
# prints the same image ids. A new image is one more call at the bottom.
set -euo pipefail
cd "$(dirname "$0")/.."

triple=x86_64-unknown-linux-gnu
target_dir=target/static
contexts=$(mktemp -d)
trap 'rm -rf "$contexts"' EXIT

# static_image PACKAGE TAG: builds the std-only workspace binary PACKAGE statically linked and
# packs it with targets/PACKAGE/Dockerfile (which COPYs PACKAGE) into the image TAG.
static_image() {
  local package=$1 tag=$2
  RUSTFLAGS='-C target-feature=+crt-static' \
    cargo build --release -p "$package" --target "$triple" --target-dir "$target_dir"
  local context="$contexts/$package"
  mkdir "$context"
  cp "$target_dir/$triple/release/$package" "targets/$package/Dockerfile" "$context/"
  local id
  id=$(docker build -q -t "$tag" "$context")
  echo "built $tag ($id) from targets/$package"
}

# debian_image PROGRAM TAG ARGS...: packs an installed Debian program (found on the PATH)
# with the shared libraries and loader it links, and nothing else, into a scratch image
# whose entrypoint is the program with ARGS.
debian_image() {
  local program=$1 tag=$2
  shift 2
  local binary
  binary=$(command -v "$program") || {
    echo "build-images: $program is not installed (apt-get install it first)" >&2
    return 1
  }
  local context="$contexts/$program"
  mkdir -p "$context/rootfs"
  # The binary, then every library ldd names (the loader included), at the same paths.
  for file in "$binary" $(ldd "$binary" | grep -o '/[^ ]*'); do
    mkdir -p "$context/rootfs$(dirname "$file")"
    cp -L "$file" "$context/rootfs$file"
  done
  local entry
  entry=$(printf '"%s",' "$binary" "$@")
  printf 'FROM scratch\nCOPY rootfs/ /\nENTRYPOINT [%s]\n' "${entry%,}" >"$context/Dockerfile"
  local id
  id=$(docker build -q -t "$tag" "$context")
  echo "built $tag ($id) from $binary"
}

# With arguments, only the images named (netnode, shop, nats, etcd); without, all of them.
wanted() { [ $# -eq 0 ] || [[ " ${*} " == *" $image "* ]]; }
image=netnode; if wanted "$@"; then static_image netnode splitbrain/netnode:dev; fi
image=shop; if wanted "$@"; then static_image shop splitbrain/shop:dev; fi
# NATS with JetStream for the shop (issue 5); its store lives in /data (mount a volume there).
image=nats; if wanted "$@"; then debian_image nats-server splitbrain/nats:dev -js -sd /data -m 8222; fi
# etcd 3.4 for the register workloads (issue 7); each member's command line names it, its
# peers and --enable-v2=true (workloads/etcd-register.toml).
image=etcd; if wanted "$@"; then debian_image etcd splitbrain/etcd:dev; fi

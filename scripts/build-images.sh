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

static_image netnode splitbrain/netnode:dev

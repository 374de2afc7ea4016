#!/usr/bin/env bash
# Runs the whole test suite: unit, snapshot and protocol tests, then the end-to-end tests
# against the real engine, which this script installs, starts and feeds with images first.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing the engine packages"
scripts/install-engine.sh

step "starting dockerd and the registry on 127.0.0.1:5000"
scripts/engine.sh start
eval "$(scripts/engine.sh env)"
export DOCKER_HOST

step "building the frontend, builder and runtime images"
scripts/build-images.sh all

step "cargo test, end-to-end tests included"
cargo test --locked -- --include-ignored

#!/usr/bin/env bash
# Runs the whole test suite: unit, snapshot and protocol tests, then the end-to-end tests
# against the real engine, which scripts/setup.sh installs, starts and feeds with images.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

eval "$(scripts/setup.sh)"
export DOCKER_HOST

printf '\n==> %s\n' "cargo test, end-to-end tests included" >&2
cargo test --locked -- --include-ignored

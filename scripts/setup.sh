#!/usr/bin/env bash
# Sets up everything a build needs on this machine: installs the engine packages, starts
# dockerd and the registry, and builds and pushes the frontend, builder and runtime images.
# Prints the DOCKER_HOST line for `eval`, so callers can run:
#   eval "$(scripts/setup.sh)"
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

step() { printf '\n==> %s\n' "$*" >&2; }

step "installing the engine packages"
scripts/install-engine.sh >&2

step "starting dockerd and the registry on 127.0.0.1:5000"
scripts/engine.sh start >&2
eval "$(scripts/engine.sh env)"
export DOCKER_HOST

step "building the frontend, builder and runtime images"
scripts/build-images.sh all >&2

scripts/engine.sh env

#!/usr/bin/env bash
# Runs the whole path once on a fresh machine: sets up the engine and the images
# (scripts/setup.sh), builds examples/greet/environment.yml with `docker buildx build`, and
# runs the image it made.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

step() { printf '\n==> %s\n' "$*" >&2; }

eval "$(scripts/setup.sh)"
export DOCKER_HOST

step "building the example's local channel"
python3 scripts/build-fixture-channel.py examples/greet/channel

step "docker buildx build -f examples/greet/environment.yml examples/greet"
/usr/bin/docker buildx build --progress=plain \
    --build-arg BUILDER_IMAGE=localhost:5000/conda-frontend/builder:test \
    --build-arg RUNTIME_IMAGE=localhost:5000/conda-frontend/runtime-base:debian12 \
    -t conda-frontend-example/greet:latest \
    -f examples/greet/environment.yml examples/greet

step "docker run --rm conda-frontend-example/greet:latest"
/usr/bin/docker run --rm conda-frontend-example/greet:latest

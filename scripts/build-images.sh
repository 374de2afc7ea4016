#!/usr/bin/env bash
# Builds the images that the end-to-end tests need and pushes them to the local registry
# started by scripts/engine.sh. Everything is assembled on this machine from Debian packages
# and this repository's static binaries, with FROM scratch + COPY, so no image is pulled.
#
#   scripts/build-images.sh [runtime|builder|frontend|all]    (default: all)
#
#   runtime   localhost:5000/conda-frontend/runtime-base:debian12  stand-in for distroless/base-debian12
#   builder   localhost:5000/conda-frontend/builder:test           stand-in for condaforge/miniforge3
#   frontend  localhost:5000/conda-frontend:dev                    the frontend image
#
# Environment:
#   DOCKER_HOST        engine to build with (default: the one scripts/engine.sh starts)
#   BIN_DIR            directory with prebuilt static conda-frontend and conda-install
#                      binaries; when set, cargo is not run
#   SKIP_CARGO_BUILD   1 = use the binaries already in target/x86_64-unknown-linux-gnu/release
#                      without running cargo
#   IMAGE_WORK_DIR     staging and package cache (default: /var/lib/conda-frontend/images)
#
# An image is rebuilt only when its Dockerfile or staged files changed since the last push,
# or when the registry no longer has its tag.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${DOCKER_HOST:-}" ]; then
    eval "$("$REPO_ROOT/scripts/engine.sh" env)"
fi
export DOCKER_HOST

DOCKER=/usr/bin/docker
REGISTRY=localhost:5000
REGISTRY_URL=http://127.0.0.1:5000
RUNTIME_IMAGE=conda-frontend/runtime-base
RUNTIME_TAG=debian12
BUILDER_IMAGE=conda-frontend/builder
BUILDER_TAG=test
FRONTEND_IMAGE=conda-frontend
FRONTEND_TAG=dev

RUST_TARGET=x86_64-unknown-linux-gnu
SKIP_CARGO_BUILD=${SKIP_CARGO_BUILD:-0}
if [ -n "${BIN_DIR:-}" ]; then
    SKIP_CARGO_BUILD=1
else
    BIN_DIR=$REPO_ROOT/target/$RUST_TARGET/release
fi
WORK_DIR=${IMAGE_WORK_DIR:-/var/lib/conda-frontend/images}
DEB_CACHE=$WORK_DIR/debs

# Packages of gcr.io/distroless/base-debian12 (Debian 12 "bookworm").
RUNTIME_PACKAGES=(base-files ca-certificates libc6 libssl3 netbase tzdata)
NONROOT_ID=65532

log() { echo "build-images: $*" >&2; }
die() { log "error: $*"; exit 1; }

check_engine() {
    "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
        die "no Docker engine responds at $DOCKER_HOST; run scripts/engine.sh start"
    curl -fsS --max-time 5 -o /dev/null "$REGISTRY_URL/v2/" ||
        die "no registry responds at $REGISTRY_URL; run scripts/engine.sh start"
}

# The offline frontend Dockerfile and the user-facing Dockerfile.frontend must declare the
# same capabilities and entrypoint, because BuildKit checks the caps label before it starts
# the frontend.
check_frontend_dockerfiles() {
    local offline=$REPO_ROOT/images/frontend/Dockerfile public=$REPO_ROOT/Dockerfile.frontend
    local prefix
    for prefix in 'LABEL moby.buildkit.frontend.caps=' 'ENTRYPOINT '; do
        local expected actual
        expected=$(grep "^$prefix" "$offline" || true)
        actual=$(grep "^$prefix" "$public" || true)
        [ -n "$expected" ] || die "no '$prefix' line in $offline"
        [ "$expected" = "$actual" ] ||
            die "'$prefix' lines differ between $offline and $public: '$expected' vs '$actual'"
    done
}

# Build the named binaries statically against glibc. Static glibc still loads shared NSS
# modules for host and user name lookups, so these binaries must not make such lookups.
cargo_build() {
    [ "$SKIP_CARGO_BUILD" = 1 ] && return
    local args=() bin
    for bin in "$@"; do args+=(--bin "$bin"); done
    log "cargo build --release --target $RUST_TARGET ${args[*]}"
    (cd "$REPO_ROOT" && RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --release --target "$RUST_TARGET" "${args[@]}")
}

# Fail unless FILE is a statically linked executable, because the builder and frontend images
# contain no C library.
require_static_binary() {
    local file=$1
    [ -f "$file" ] || die "binary not found: $file (build it, or set BIN_DIR)"
    [ -x "$file" ] || die "not executable: $file"
    if readelf -lW "$file" 2>/dev/null | grep -q 'program interpreter'; then
        die "$file is dynamically linked; build it with RUSTFLAGS='-C target-feature=+crt-static'"
    fi
}

# Download the candidate .deb of each package into DEB_CACHE (apt skips files already there)
# and print their paths.
download_debs() {
    mkdir -p "$DEB_CACHE"
    local uris
    uris=$(apt-get download --print-uris "$@") || die "apt-get download failed for: $*"
    (cd "$DEB_CACHE" && apt-get download -q -o APT::Sandbox::User=root "$@" >&2) ||
        die "apt-get download failed for: $*"
    # Each line is: 'URI' FILENAME SIZE HASH
    awk -v dir="$DEB_CACHE" '{print dir "/" $2}' <<<"$uris"
}

# Print a digest of the Dockerfile and the staged build context: file names, modes, link
# targets and contents.
inputs_digest() {
    local dockerfile=$1 context=$2
    {
        sha256sum <"$dockerfile"
        tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C "$context" . | sha256sum
    } | sha256sum | cut -d' ' -f1
}

registry_has_tag() {
    local image=$1 tag=$2
    curl -fsS --max-time 5 -o /dev/null -I \
        -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
        -H 'Accept: application/vnd.oci.image.index.v1+json' \
        -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
        "$REGISTRY_URL/v2/$image/manifests/$tag" 2>/dev/null
}

build_and_push() {
    local name=$1 image=$2 tag=$3 dockerfile=$4 context=$5
    local ref=$REGISTRY/$image:$tag stamp=$WORK_DIR/$name.inputs digest
    digest=$(inputs_digest "$dockerfile" "$context")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ] && registry_has_tag "$image" "$tag"; then
        log "$ref is up to date"
        return
    fi
    log "building $ref"
    "$DOCKER" build -f "$dockerfile" -t "$ref" "$context"
    "$DOCKER" push "$ref"
    echo "$digest" >"$stamp"
    log "pushed $ref"
}

# Create an empty staging directory for one image and print its path.
fresh_stage() {
    local dir=$WORK_DIR/$1
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "$dir"
}

stage_runtime() {
    local stage=$1 rootfs=$1/rootfs deb debs
    local codename
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ "$codename" = bookworm ] ||
        die "the runtime base is made from Debian 12 packages, but this machine runs '$codename'"

    mkdir -p "$rootfs/var/lib/dpkg/status.d"
    debs=$(download_debs "${RUNTIME_PACKAGES[@]}")
    while read -r deb; do
        dpkg-deb -x "$deb" "$rootfs"
        # Image scanners read per-package control files from status.d, as in distroless.
        dpkg-deb -f "$deb" >"$rootfs/var/lib/dpkg/status.d/$(dpkg-deb -f "$deb" Package)"
    done <<<"$debs"

    # dpkg -x runs no maintainer scripts, so the steps the image needs from them are done here.
    # The postinst of ca-certificates generates the bundle from the certificates it ships.
    mkdir -p "$rootfs/etc/ssl/certs"
    find "$rootfs/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort |
        while read -r cert; do sed -e '$a\' "$cert"; done >"$rootfs/etc/ssl/certs/ca-certificates.crt"
    [ -s "$rootfs/etc/ssl/certs/ca-certificates.crt" ] || die "no CA certificates in the ca-certificates package"

    # Keep licences (usr/share/doc/*/copyright) but no other documentation.
    rm -rf "$rootfs/usr/share/man" "$rootfs/usr/share/info" "$rootfs/usr/share/lintian"
    find "$rootfs/usr/share/doc" -mindepth 2 -maxdepth 2 ! -name copyright -exec rm -rf {} +

    cat >"$rootfs/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:$NONROOT_ID:$NONROOT_ID:nonroot:/home/nonroot:/sbin/nologin
EOF
    cat >"$rootfs/etc/group" <<EOF
root:x:0:
tty:x:5:
staff:x:50:
nogroup:x:65534:
nonroot:x:$NONROOT_ID:
EOF
    cat >"$rootfs/etc/nsswitch.conf" <<EOF
passwd:    files
group:     files
shadow:    files
hosts:     files dns
networks:  files
protocols: files
services:  files
ethers:    files
rpc:       files
EOF
    mkdir -p "$rootfs/tmp" "$rootfs/root"
    chmod 1777 "$rootfs/tmp"
    chmod 0700 "$rootfs/root"
    # The Dockerfile copies /home/nonroot separately, because COPY does not keep ownership.
    rm -rf "$rootfs/home/nonroot"
    mkdir -p "$stage/home-nonroot/nonroot"
    chmod 0700 "$stage/home-nonroot/nonroot"
}

stage_builder() {
    local stage=$1 rootfs=$1/rootfs deb applet
    mkdir -p "$rootfs"
    deb=$(download_debs busybox-static)
    dpkg-deb -x "$deb" "$rootfs"
    rm -rf "$rootfs/usr/share"
    [ -x "$rootfs/bin/busybox" ] || die "busybox-static did not provide bin/busybox"
    # One symbolic link per applet at its usual path (bin/sh, usr/bin/find, ...).
    "$rootfs/bin/busybox" --list-full | while read -r applet; do
        [ "$applet" = bin/busybox ] && continue
        [ -e "$rootfs/$applet" ] && continue
        mkdir -p "$rootfs/$(dirname "$applet")"
        ln -s /bin/busybox "$rootfs/$applet"
    done
    [ -L "$rootfs/bin/sh" ] || die "busybox has no sh applet"

    mkdir -p "$rootfs/opt/conda/bin" "$rootfs/opt/conda/pkgs"
    install -m 0755 "$BIN_DIR/conda-install" "$rootfs/opt/conda/bin/conda-install"
    ln -s conda-install "$rootfs/opt/conda/bin/mamba"
    ln -s conda-install "$rootfs/opt/conda/bin/conda"

    mkdir -p "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
    chmod 1777 "$rootfs/tmp"
    chmod 0700 "$rootfs/root"
    cat >"$rootfs/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$rootfs/etc/group" <<EOF
root:x:0:
nogroup:x:65534:
EOF
}

build_runtime() {
    local stage
    stage=$(fresh_stage runtime-base)
    stage_runtime "$stage"
    build_and_push runtime-base "$RUNTIME_IMAGE" "$RUNTIME_TAG" "$REPO_ROOT/images/runtime-base/Dockerfile" "$stage"
}

build_builder() {
    local stage
    require_static_binary "$BIN_DIR/conda-install"
    stage=$(fresh_stage builder)
    stage_builder "$stage"
    build_and_push builder "$BUILDER_IMAGE" "$BUILDER_TAG" "$REPO_ROOT/images/builder/Dockerfile" "$stage"
}

build_frontend() {
    local stage
    require_static_binary "$BIN_DIR/conda-frontend"
    stage=$(fresh_stage frontend)
    install -m 0755 "$BIN_DIR/conda-frontend" "$stage/conda-frontend"
    build_and_push frontend "$FRONTEND_IMAGE" "$FRONTEND_TAG" "$REPO_ROOT/images/frontend/Dockerfile" "$stage"
}

main() {
    local part=${1:-all}
    case "$part" in
        runtime | builder | frontend | all) ;;
        *)
            echo "usage: $0 [runtime|builder|frontend|all]" >&2
            exit 2
            ;;
    esac
    [ $# -le 1 ] || die "expected at most one argument, got: $*"

    case "$part" in
        frontend | all) check_frontend_dockerfiles ;;
    esac
    check_engine
    mkdir -p "$WORK_DIR"
    # Runs share the staging directories, so a second run waits for the first.
    exec 9>"$WORK_DIR/.lock"
    if ! flock -n 9; then
        log "waiting for another build-images.sh run to finish"
        flock 9
    fi
    case "$part" in
        runtime) build_runtime ;;
        builder)
            cargo_build conda-install
            build_builder
            ;;
        frontend)
            cargo_build conda-frontend
            build_frontend
            ;;
        all)
            cargo_build conda-frontend conda-install
            build_runtime
            build_builder
            build_frontend
            ;;
    esac
}

main "$@"

#!/usr/bin/env bash
# Installs what the end-to-end path needs: Debian's dockerd with its embedded BuildKit, the
# docker CLI with the buildx plugin, a local image registry, and the tools the stand-in
# images are assembled with. Idempotent: a second run only checks.
#
# Docker 26 comes from Debian trixie, because bookworm ships Docker 20.10 (BuildKit 0.8)
# without buildx. buildx comes from sid: 0.29 has `--call` (subrequests such as
# `--call=check`), which trixie's 0.13 lacks, and needs nothing but libc6. Both suites are
# added from the machine's own mirror with a low pin priority, so that nothing else on the
# machine is upgraded from them.
set -euo pipefail

need_install=()
[ -x /usr/sbin/dockerd ] || need_install+=(docker.io/trixie)
[ -x /usr/bin/docker ] || need_install+=(docker-cli/trixie)
buildx_version=$(dpkg-query -W -f='${Version}' docker-buildx 2>/dev/null || true)
case "$buildx_version" in
    0.29.*) ;;
    *) need_install+=(docker-buildx/sid) ;;
esac
command -v docker-registry >/dev/null || need_install+=(docker-registry)
command -v patchelf >/dev/null || need_install+=(patchelf)
command -v busybox >/dev/null || need_install+=(busybox-static)
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || need_install+=(libc6-dev)
command -v zstd >/dev/null || need_install+=(zstd)
command -v curl >/dev/null || need_install+=(curl)
if [ ${#need_install[@]} -eq 0 ]; then
    echo "engine packages: already installed"
    exit 0
fi

sources=/etc/apt/sources.list.d/debian.sources
# The first URIs line of the machine's sources is its Debian mirror.
mirror=$(awk '/^URIs:/ {print $2; exit}' "$sources")
if [ -z "$mirror" ]; then
    echo "error: no Debian mirror found in $sources" >&2
    exit 1
fi
for suite in trixie sid; do
    list=/etc/apt/sources.list.d/conda-frontend-$suite.sources
    [ -f "$list" ] && continue
    cat >"$list" <<EOF
Types: deb
URIs: $mirror
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    cat >"/etc/apt/preferences.d/conda-frontend-$suite" <<EOF
Package: *
Pin: release n=$suite
Pin-Priority: 100
EOF
done

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# containerd, runc and tini are taken from bookworm; trixie's docker.io accepts them.
apt-get install -y -qq --no-install-recommends "${need_install[@]}" containerd runc tini iproute2
echo "engine packages: installed ${need_install[*]}"

#!/usr/bin/env bash
# Starts, stops and reports a private Docker engine (dockerd with its embedded BuildKit) and
# a local image registry on 127.0.0.1:5000, for building and serving the frontend image.
#
#   scripts/engine.sh start    start both; does nothing if they already run
#   scripts/engine.sh stop     stop the processes that `start` recorded
#   scripts/engine.sh status   print whether each one responds, exit 1 if either does not
#   scripts/engine.sh env      print the DOCKER_HOST line, for: eval "$(scripts/engine.sh env)"
#
# Both run as root and keep their state apart from a system Docker: dockerd gets its own data
# root, exec root, pid file, config file and socket.
set -euo pipefail

STATE_DIR=/var/lib/conda-frontend
RUN_DIR=/run/conda-frontend
LOG_DIR=/var/log/conda-frontend

DOCKER_SOCKET=$RUN_DIR/docker.sock
DOCKER_HOST_VALUE=unix://$DOCKER_SOCKET
DOCKERD_PIDFILE=$RUN_DIR/dockerd.pid
DOCKERD_LOG=$LOG_DIR/dockerd.log
DOCKERD_CONFIG=$STATE_DIR/daemon.json

REGISTRY_ADDR=127.0.0.1:5000
REGISTRY_PORT=5000
REGISTRY_PIDFILE=$RUN_DIR/registry.pid
REGISTRY_LOG=$LOG_DIR/registry.log
REGISTRY_CONFIG=$STATE_DIR/registry.yml

# /usr/bin/docker is the client from the same Debian release as dockerd, and it finds the buildx
# plugin. Another docker client earlier on PATH may be a different version without buildx.
DOCKER=/usr/bin/docker
START_TIMEOUT_SECONDS=${ENGINE_START_TIMEOUT:-60}
STOP_TIMEOUT_SECONDS=${ENGINE_STOP_TIMEOUT:-30}

log() { echo "engine: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Print the pid recorded in FILE if that process is alive and runs EXECUTABLE, so that a pid
# reused by an unrelated process is never taken for ours.
live_pid() {
    local file=$1 executable=$2 pid
    [ -s "$file" ] || return 1
    pid=$(cat "$file")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$executable" ] || return 1
    echo "$pid"
}

dockerd_responds() {
    DOCKER_HOST=$DOCKER_HOST_VALUE "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1
}

registry_responds() {
    curl -fsS --max-time 2 -o /dev/null "http://$REGISTRY_ADDR/v2/" 2>/dev/null
}

port_listener() {
    ss -Hltnp "sport = :$REGISTRY_PORT" 2>/dev/null
}

# Wait until CHECK succeeds while process PID lives, for at most START_TIMEOUT_SECONDS. On
# failure show the tail of the log.
wait_for() {
    local name=$1 check=$2 logfile=$3 pid=$4
    local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
    until "$check"; do
        if [ ! -d "/proc/$pid" ]; then
            log "error: $name exited during startup; last lines of $logfile:"
            tail -n 30 "$logfile" >&2 || true
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "error: $name did not answer within ${START_TIMEOUT_SECONDS}s; last lines of $logfile:"
            tail -n 30 "$logfile" >&2 || true
            exit 1
        fi
        sleep 0.5
    done
}

start_dockerd() {
    local pid
    if pid=$(live_pid "$DOCKERD_PIDFILE" /usr/sbin/dockerd); then
        dockerd_responds || wait_for dockerd dockerd_responds "$DOCKERD_LOG" "$pid"
        log "dockerd already running (pid $pid)"
        return
    fi
    [ -x /usr/sbin/dockerd ] || die "/usr/sbin/dockerd not found; run scripts/install-engine.sh first"
    # An empty config file keeps settings in /etc/docker/daemon.json, if any, out of this engine.
    [ -f "$DOCKERD_CONFIG" ] || echo '{}' >"$DOCKERD_CONFIG"
    # A pid file left by a dockerd that died may name a pid reused since; dockerd would reject it.
    rm -f "$DOCKERD_PIDFILE"
    # iptables is off because many sandboxed hosts do not allow it, so containers get no NAT.
    # The default bridge stays, because BuildKit RUN steps fail with "network bridge not found"
    # when it is disabled.
    setsid /usr/sbin/dockerd \
        --config-file "$DOCKERD_CONFIG" \
        --iptables=false --ip-masq=false \
        --data-root "$STATE_DIR/docker" \
        --exec-root "$RUN_DIR/exec" \
        --pidfile "$DOCKERD_PIDFILE" \
        -H "$DOCKER_HOST_VALUE" \
        </dev/null >>"$DOCKERD_LOG" 2>&1 &
    # dockerd writes its pid file itself and fails to start if the file names a live process.
    pid=$!
    log "dockerd starting (pid $pid, log $DOCKERD_LOG)"
    wait_for dockerd dockerd_responds "$DOCKERD_LOG" "$pid"
    log "dockerd ready at $DOCKER_HOST_VALUE"
}

start_registry() {
    local pid
    if pid=$(live_pid "$REGISTRY_PIDFILE" /usr/bin/docker-registry); then
        registry_responds || wait_for registry registry_responds "$REGISTRY_LOG" "$pid"
        log "registry already running (pid $pid)"
        return
    fi
    command -v docker-registry >/dev/null || die "docker-registry not found; run scripts/install-engine.sh first"
    local listener
    listener=$(port_listener)
    if [ -n "$listener" ]; then
        die "port $REGISTRY_PORT is already in use by a process this script did not start; stop it or free the port: $listener"
    fi
    # Plain HTTP works because dockerd treats registries on 127.0.0.0/8 as insecure by default.
    mkdir -p "$STATE_DIR/registry"
    cat >"$REGISTRY_CONFIG" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry
http:
  addr: $REGISTRY_ADDR
EOF
    setsid /usr/bin/docker-registry serve "$REGISTRY_CONFIG" </dev/null >>"$REGISTRY_LOG" 2>&1 &
    pid=$!
    echo "$pid" >"$REGISTRY_PIDFILE"
    log "registry starting (pid $pid, log $REGISTRY_LOG)"
    wait_for registry registry_responds "$REGISTRY_LOG" "$pid"
    log "registry ready at http://$REGISTRY_ADDR"
}

# Send SIGTERM to the recorded process and wait for it to exit.
stop_process() {
    local name=$1 pidfile=$2 executable=$3 pid
    if ! pid=$(live_pid "$pidfile" "$executable"); then
        log "$name not running"
        rm -f "$pidfile"
        return
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
    while [ -d "/proc/$pid" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            die "$name (pid $pid) did not exit within ${STOP_TIMEOUT_SECONDS}s after SIGTERM"
        fi
        sleep 0.5
    done
    rm -f "$pidfile"
    log "$name stopped (pid $pid)"
}

cmd_start() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (dockerd needs it)"
    mkdir -p "$STATE_DIR" "$RUN_DIR" "$LOG_DIR"
    start_registry
    start_dockerd
}

cmd_stop() {
    stop_process dockerd "$DOCKERD_PIDFILE" /usr/sbin/dockerd
    stop_process registry "$REGISTRY_PIDFILE" /usr/bin/docker-registry
}

cmd_status() {
    local failed=0 pid
    if pid=$(live_pid "$DOCKERD_PIDFILE" /usr/sbin/dockerd) && dockerd_responds; then
        echo "dockerd: running (pid $pid, $DOCKER_HOST_VALUE)"
    else
        echo "dockerd: not running"
        failed=1
    fi
    if pid=$(live_pid "$REGISTRY_PIDFILE" /usr/bin/docker-registry) && registry_responds; then
        echo "registry: running (pid $pid, http://$REGISTRY_ADDR)"
    else
        echo "registry: not running"
        failed=1
    fi
    return "$failed"
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) echo "export DOCKER_HOST=$DOCKER_HOST_VALUE" ;;
    *)
        echo "usage: $0 start|stop|status|env" >&2
        exit 2
        ;;
esac

#!/usr/bin/env bash
# Test infrastructure services: a private Redis and an embedded FerretDB
# (MongoDB wire protocol on SQLite, see tools/ferretdb).
#
# Usage: scripts/services.sh start|stop|status
#
#   start   Installs redis-server via apt if missing, builds tools/ferretdb if
#           the binary is missing or stale, starts both (unless already running),
#           waits until their ports accept connections and prints on stdout:
#             REDIS_URL=redis://127.0.0.1:<REDIS_PORT>
#             MONGODB_URL=mongodb://127.0.0.1:<FERRETDB_PORT>/
#           (all other messages go to stderr, so `eval "$(scripts/services.sh start | sed 's/^/export /')"`
#           or `set -a; . <(scripts/services.sh start); set +a` work).
#           FerretDB's data dir is wiped whenever FerretDB is actually (re)started;
#           a `start` while it is already running leaves it (and its data) alone.
#   stop    Stops what `start` started (by pidfile); tolerates already-stopped.
#   status  Prints the state of both services; exit 0 if both are running, 3 otherwise.
#
# Environment:
#   SERVICES_DIR   state dir (pidfiles, logs, data, binary); default <repo>/.services
#   REDIS_PORT     default 6390
#   FERRETDB_PORT  default 27018
#   WAIT_TIMEOUT   seconds to wait for each port on start; default 60
#   FERRETDB_LOG_LEVEL  debug|info|warn|error; default warn (log: $SERVICES_DIR/ferretdb.log)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES_DIR="${SERVICES_DIR:-$REPO_ROOT/.services}"
mkdir -p "$SERVICES_DIR"
SERVICES_DIR="$(cd "$SERVICES_DIR" && pwd)"

HOST=127.0.0.1
REDIS_PORT="${REDIS_PORT:-6390}"
FERRETDB_PORT="${FERRETDB_PORT:-27018}"
WAIT_TIMEOUT="${WAIT_TIMEOUT:-60}"

REDIS_PIDFILE="$SERVICES_DIR/redis.pid"
REDIS_LOG="$SERVICES_DIR/redis.log"

FERRETDB_SRC="$REPO_ROOT/tools/ferretdb"
FERRETDB_BIN="$SERVICES_DIR/bin/ferretdb"
FERRETDB_PIDFILE="$SERVICES_DIR/ferretdb.pid"
FERRETDB_LOG="$SERVICES_DIR/ferretdb.log"
FERRETDB_DATA="$SERVICES_DIR/ferretdb-data"

log() { echo "services: $*" >&2; }
die() { echo "services: ERROR: $*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

# port_open PORT: true if something accepts TCP connections on $HOST:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# proc_running PID: true if PID exists and is not a zombie (our parent may be
# an init that reaps slowly, and kill -0 succeeds on zombies).
proc_running() {
  local state
  state="$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# pid_alive PIDFILE COMM: prints the pid and returns 0 if the pidfile names a
# live process whose name is COMM (guards against stale pidfiles / pid reuse).
pid_alive() {
  local pidfile="$1" comm="$2" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 1
  proc_running "$pid" || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm"* ]] || return 1
  echo "$pid"
}

# wait_port NAME PORT PIDFILE COMM LOGFILE: wait until PORT accepts connections,
# failing early if the process dies.
wait_port() {
  local name="$1" port="$2" pidfile="$3" comm="$4" logfile="$5" waited=0
  until port_open "$port"; do
    # Redis daemonizes and writes its pidfile a moment later, so only treat a
    # missing process as fatal after the first second.
    if (( waited >= 2 )) && ! pid_alive "$pidfile" "$comm" >/dev/null; then
      log "$name exited during startup; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 2>/dev/null || true
      die "$name failed to start on $HOST:$port"
    fi
    if (( waited >= WAIT_TIMEOUT * 2 )); then
      log "last lines of $logfile:"
      tail -n 20 "$logfile" >&2 2>/dev/null || true
      die "timed out after ${WAIT_TIMEOUT}s waiting for $name to accept connections on $HOST:$port"
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
}

# stop_pidfile NAME PIDFILE COMM
stop_pidfile() {
  local name="$1" pidfile="$2" comm="$3" pid i
  if ! pid="$(pid_alive "$pidfile" "$comm")"; then
    log "$name: not running"
    rm -f "$pidfile"
    return 0
  fi
  log "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do # up to 10 s
    proc_running "$pid" || break
    sleep 0.1
  done
  if proc_running "$pid"; then
    log "$name: did not exit after SIGTERM, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$pidfile"
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# ---------------------------------------------------------------- redis

ensure_redis_installed() {
  command -v redis-server >/dev/null && return 0
  log "redis-server not found; installing it with apt-get"
  # Keep the distro's redis service from being started by the package's
  # postinst: we run our own instance. policy-rc.d exit 101 = "action forbidden".
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"
    created_policy=1
  fi
  local rc=0
  as_root apt-get update >&2 || rc=$?
  if (( rc == 0 )); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >&2 || rc=$?
  fi
  if (( created_policy )); then as_root rm -f "$policy"; fi
  (( rc == 0 )) || die "apt-get failed to install redis-server (exit $rc)"
  command -v redis-server >/dev/null || die "redis-server still not on PATH after install"
}

start_redis() {
  local pid
  if pid="$(pid_alive "$REDIS_PIDFILE" redis-server)"; then
    log "redis: already running (pid $pid) on $HOST:$REDIS_PORT"
    return 0
  fi
  rm -f "$REDIS_PIDFILE"
  if port_open "$REDIS_PORT"; then
    die "port $HOST:$REDIS_PORT is already in use by a process we did not start; stop it or set REDIS_PORT"
  fi
  ensure_redis_installed
  log "redis: starting on $HOST:$REDIS_PORT"
  redis-server \
    --bind "$HOST" \
    --port "$REDIS_PORT" \
    --save '' \
    --appendonly no \
    --daemonize yes \
    --pidfile "$REDIS_PIDFILE" \
    --logfile "$REDIS_LOG" \
    --dir "$SERVICES_DIR" >&2
  wait_port redis "$REDIS_PORT" "$REDIS_PIDFILE" redis-server "$REDIS_LOG"
}

# ---------------------------------------------------------------- ferretdb

find_go() {
  if command -v go >/dev/null; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    die "Go toolchain not found (need go >= 1.21 on PATH or in /usr/local/go; it fetches the go 1.24 toolchain itself if older)"
  fi
}

build_ferretdb() {
  local stale=0 f
  if [[ ! -x "$FERRETDB_BIN" ]]; then
    stale=1
  else
    for f in "$FERRETDB_SRC"/*.go "$FERRETDB_SRC/go.mod" "$FERRETDB_SRC/go.sum"; do
      if [[ -e "$f" && "$f" -nt "$FERRETDB_BIN" ]]; then stale=1; break; fi
    done
  fi
  (( stale )) || return 0

  local go start
  go="$(find_go)"
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  log "ferretdb: building $FERRETDB_BIN (the first build compiles a pure-Go SQLite and takes minutes)"
  start=$SECONDS
  (cd "$FERRETDB_SRC" && "$go" build -buildvcs=false -o "$FERRETDB_BIN.tmp" .) >&2 \
    || die "building tools/ferretdb failed"
  mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  log "ferretdb: built in $((SECONDS - start))s"
}

start_ferretdb() {
  local pid
  if pid="$(pid_alive "$FERRETDB_PIDFILE" ferretdb)"; then
    log "ferretdb: already running (pid $pid) on $HOST:$FERRETDB_PORT (data not wiped)"
    return 0
  fi
  rm -f "$FERRETDB_PIDFILE"
  if port_open "$FERRETDB_PORT"; then
    die "port $HOST:$FERRETDB_PORT is already in use by a process we did not start; stop it or set FERRETDB_PORT"
  fi
  build_ferretdb
  rm -rf "$FERRETDB_DATA"
  mkdir -p "$FERRETDB_DATA"
  log "ferretdb: starting on $HOST:$FERRETDB_PORT (fresh data in $FERRETDB_DATA)"
  nohup "$FERRETDB_BIN" \
    -listen-addr "$HOST:$FERRETDB_PORT" \
    -sqlite-dir "$FERRETDB_DATA" \
    -log-level "${FERRETDB_LOG_LEVEL:-warn}" \
    >>"$FERRETDB_LOG" 2>&1 </dev/null &
  echo $! >"$FERRETDB_PIDFILE"
  wait_port ferretdb "$FERRETDB_PORT" "$FERRETDB_PIDFILE" ferretdb "$FERRETDB_LOG"
}

# ---------------------------------------------------------------- commands

cmd_start() {
  start_redis
  start_ferretdb
  echo "REDIS_URL=redis://$HOST:$REDIS_PORT"
  echo "MONGODB_URL=mongodb://$HOST:$FERRETDB_PORT/"
}

cmd_stop() {
  stop_pidfile ferretdb "$FERRETDB_PIDFILE" ferretdb
  stop_pidfile redis "$REDIS_PIDFILE" redis-server
}

cmd_status() {
  local ok=0 pid
  if pid="$(pid_alive "$REDIS_PIDFILE" redis-server)"; then
    if port_open "$REDIS_PORT"; then
      echo "redis: running (pid $pid) redis://$HOST:$REDIS_PORT"
    else
      echo "redis: process running (pid $pid) but $HOST:$REDIS_PORT not accepting connections"; ok=3
    fi
  else
    echo "redis: stopped"; ok=3
  fi
  if pid="$(pid_alive "$FERRETDB_PIDFILE" ferretdb)"; then
    if port_open "$FERRETDB_PORT"; then
      echo "ferretdb: running (pid $pid) mongodb://$HOST:$FERRETDB_PORT/"
    else
      echo "ferretdb: process running (pid $pid) but $HOST:$FERRETDB_PORT not accepting connections"; ok=3
    fi
  else
    echo "ferretdb: stopped"; ok=3
  fi
  return "$ok"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac

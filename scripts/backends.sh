#!/usr/bin/env bash
# Starts and stops cachelab's private PostgreSQL 15 and Redis 7 on loopback ports. Reuses what is already
# running.
#
#   scripts/backends.sh start|stop|status|destroy [all|pg|redis]
#   scripts/backends.sh start|stop replica   (a streaming replica of the private PostgreSQL, on PG_REPLICA_PORT;
#                                             not part of `all`: only the read-replica tests and demos use it)
#   scripts/backends.sh start|stop cluster   (a Redis Cluster of 3 masters and 3 replicas on REDIS_CLUSTER_PORT
#                                             and the five ports after it; not part of `all`)
#   scripts/backends.sh createdb NAME      (another database in the private PostgreSQL, e.g. for scale 100)
#   scripts/backends.sh where              (prints the directory that holds the servers' data and logs)
#
# Where the data lives. As an ordinary user, the servers run as that user with their data in the state
# directory (default .cachelab/ in the clone). As root, PostgreSQL refuses to run as root, so the servers run as
# the unprivileged users Debian's packages create (postgres, redis) — and those users often cannot reach a clone
# under /root or a `mktemp -d` directory (mode 0700). Rather than loosen the permissions of the user's own
# directories, root keeps the servers' data in /var/lib/cachelab/<name>-<hash>/ (root-owned, mode 0755, with
# one subdirectory per server owned by its user), keyed by the state directory's absolute path, so two clones
# or the demo and the tests never share data. The state directory then holds only a `backends-dir` file naming
# that place; `destroy` removes both.
#
# Environment: CACHELAB_STATE_DIR (.cachelab), PG_PORT (54320), PG_REPLICA_PORT (PG_PORT + 1), REDIS_PORT (63790),
#              REDIS_MAXMEMORY (64mb), REDIS_POLICY (allkeys-lru), CACHELAB_ROOT_DATA (/var/lib/cachelab).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${CACHELAB_STATE_DIR:-$ROOT/.cachelab}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
PG_PORT=${PG_PORT:-54320}
PG_REPLICA_PORT=${PG_REPLICA_PORT:-$((PG_PORT + 1))}
REDIS_PORT=${REDIS_PORT:-63790}
REDIS_CLUSTER_PORT=${REDIS_CLUSTER_PORT:-$((REDIS_PORT + 100))}
REDIS_MAXMEMORY=${REDIS_MAXMEMORY:-64mb}
REDIS_POLICY=${REDIS_POLICY:-allkeys-lru}
PG_BIN=/usr/lib/postgresql/15/bin
IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

if ((IS_ROOT)); then
  key="$(basename "$(dirname "$STATE")")-$(basename "$STATE" | tr -d .)-$(printf '%s' "$STATE" | sha256sum | cut -c1-12)"
  DATA=${CACHELAB_ROOT_DATA:-/var/lib/cachelab}/$key
else
  DATA=$STATE
fi
PGDATA=$DATA/pg
PG_LOG=$DATA/pg.log
REPLICA_DATA=$DATA/pg-replica
REPLICA_LOG=$DATA/pg-replica.log
REDIS_DIR=$DATA/redis
REDIS_LOG=$REDIS_DIR/redis.log
CLUSTER_DIR=$DATA/redis-cluster
export PGDATA

# Runs a command as `user` when we are root (PostgreSQL refuses to run as root), else as ourselves.
as_user() {
  local user=$1; shift
  # From / : the caller's working directory may be one the service user cannot enter.
  if ((IS_ROOT)); then (cd / && runuser -u "$user" -- "$@"); else "$@"; fi
}

# Creates the data directory. As root: every directory on the way is root-owned and 0755 (the service users
# need to pass through, nothing more), and the pointer file tells `where`, `destroy` and a curious user.
make_data_dir() {
  if ((IS_ROOT)); then
    install -d -m 0755 -o root -g root "$(dirname "$DATA")" "$DATA"
    printf '%s\n' "$DATA" >"$STATE/backends-dir"
  else
    mkdir -p "$DATA"
  fi
}

# A failed start, in one line: what went wrong (the server's own words) and what to do about it.
#   fail_start NAME LOG PORT PORT_VARIABLE
fail_start() {
  local server=$1 log=$2 port=$3 port_var=$4 cause hint
  # The most telling line: a port conflict or a permission problem, else the last fatal error.
  cause=$({ grep -E 'already in use|Permission denied' "$log" || grep -E 'FATAL|ERROR|Could not' "$log"; } 2>/dev/null |
    tail -n 1 | sed -E 's/^[0-9: .-]+(UTC|GMT|[A-Z]{3,4}) \[[0-9]+\] //; s/^[0-9]+:[A-Z] [^#*]+[#*] //')
  hint="see $log"
  case "$cause" in
    *"already in use"*) hint="another server holds port $port: stop it, or pick another port with $port_var=" ;;
    *"ermission denied"*) hint="the $server user cannot write $DATA: 'scripts/backends.sh destroy', then retry" ;;
  esac
  echo "$server: did not start on 127.0.0.1:$port: ${cause:-no reason in its log} — $hint" >&2
  exit 1
}

# pg_data_running DATA: a server runs on that data directory.
pg_data_running() { [[ -f $1/PG_VERSION ]] && as_user postgres "$PG_BIN/pg_ctl" status -D "$1" >/dev/null 2>&1; }
pg_running() { pg_data_running "$PGDATA"; }
replica_running() { pg_data_running "$REPLICA_DATA"; }
redis_running() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# pg_ctl start DATA LOG PORT, with a fresh log. A busy port is tried again every 2 s for up to 70 s: the ports
# are in Linux's ephemeral range (32768-60999), and a client connection that used one as its local port holds it
# in TIME_WAIT for 60 s after it closed, without SO_REUSEADDR, which blocks the bind. A server that really holds
# the port is still reported (fail_start) after that.
pg_ctl_start() {
  local data=$1 log=$2 port=$3 attempt
  for attempt in $(seq 35); do
    : >"$log"
    ((IS_ROOT)) && chown postgres:postgres "$log"
    as_user postgres "$PG_BIN/pg_ctl" -D "$data" -l "$log" -o "-p $port" -w -t 60 start >/dev/null 2>&1 && return 0
    grep -q 'already in use' "$log" 2>/dev/null && ((attempt < 35)) || return 1
    ((attempt == 1)) && echo "postgresql: port $port is busy; trying again for up to 70 s" >&2
    sleep 2
  done
}

start_pg() {
  if pg_running; then
    echo "postgresql: already running on 127.0.0.1:$PG_PORT"
    return
  fi
  [[ -x $PG_BIN/initdb ]] || { echo "postgresql: $PG_BIN/initdb not found — run 'make deps' (postgresql-15)" >&2; exit 1; }
  make_data_dir
  if [[ ! -f $PGDATA/PG_VERSION ]]; then
    rm -rf "$PGDATA"
    mkdir -m 0700 "$PGDATA"
    ((IS_ROOT)) && chown postgres:postgres "$PGDATA"
    local out
    if ! out=$(as_user postgres "$PG_BIN/initdb" -D "$PGDATA" -U cachelab --auth=trust -E UTF8 --locale=C.UTF-8 2>&1); then
      echo "postgresql: initdb failed: $(grep -m1 -E 'error|FATAL' <<<"$out" || tail -n 1 <<<"$out") — check that $DATA is writable by the postgres user" >&2
      exit 1
    fi
    # A private, throw-away database: durability settings off make seeding fast; reads are unaffected.
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 256MB
CONF
  fi
  pg_ctl_start "$PGDATA" "$PG_LOG" "$PG_PORT" || fail_start postgresql "$PG_LOG" "$PG_PORT" PG_PORT
  if ! psql -h 127.0.0.1 -p "$PG_PORT" -U cachelab -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'cachelab'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U cachelab -d postgres -qc "CREATE DATABASE cachelab" >/dev/null
  fi
  echo "postgresql: running on 127.0.0.1:$PG_PORT (data in $PGDATA)"
}

# A hot standby streaming from the private primary: pg_basebackup -R (which writes standby.signal and
# primary_conninfo), on its own port. The primary's initdb allows replication connections from 127.0.0.1
# (trust), and PostgreSQL 15's defaults (wal_level replica, max_wal_senders 10) need no change.
start_replica() {
  start_pg >/dev/null
  if replica_running; then
    echo "postgresql replica: already running on 127.0.0.1:$PG_REPLICA_PORT"
    return
  fi
  if [[ ! -f $REPLICA_DATA/PG_VERSION ]]; then
    rm -rf "$REPLICA_DATA"
    mkdir -m 0700 "$REPLICA_DATA"
    ((IS_ROOT)) && chown postgres:postgres "$REPLICA_DATA"
    local out
    if ! out=$(as_user postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PORT" -U cachelab -D "$REPLICA_DATA" \
        -R -X stream -c fast 2>&1); then
      echo "postgresql replica: pg_basebackup failed: $(tail -n 1 <<<"$out")" >&2
      exit 1
    fi
  fi
  pg_ctl_start "$REPLICA_DATA" "$REPLICA_LOG" "$PG_REPLICA_PORT" ||
    fail_start "postgresql replica" "$REPLICA_LOG" "$PG_REPLICA_PORT" PG_REPLICA_PORT
  echo "postgresql replica: running on 127.0.0.1:$PG_REPLICA_PORT, streaming from 127.0.0.1:$PG_PORT"
}

stop_replica() {
  if replica_running; then pg_ctl_stop "$REPLICA_DATA"; fi
  echo "postgresql replica: stopped"
}

# launch_redis PORT DIR PORT_VARIABLE [options…]: a daemonised redis-server as the redis user, on loopback, data
# and log in DIR, with the memory limits and no persistence; fails (fail_start, naming PORT_VARIABLE) when it does
# not even start.
launch_redis() {
  local port=$1 dir=$2 port_var=$3; shift 3
  as_user redis redis-server --bind 127.0.0.1 --port "$port" --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --maxmemory "$REDIS_MAXMEMORY" --maxmemory-policy "$REDIS_POLICY" --save "" --appendonly no "$@" ||
    fail_start redis "$dir/redis.log" "$port" "$port_var"
}

start_redis() {
  if redis_running; then
    echo "redis: already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  command -v redis-server >/dev/null || { echo "redis: redis-server not found — run 'make deps' (redis-server)" >&2; exit 1; }
  make_data_dir
  mkdir -p "$REDIS_DIR"
  : >"$REDIS_LOG"
  ((IS_ROOT)) && chown -R redis:redis "$REDIS_DIR"
  launch_redis "$REDIS_PORT" "$REDIS_DIR" REDIS_PORT --enable-debug-command local
  for _ in $(seq 100); do redis_running && break; sleep 0.05; done
  redis_running || fail_start redis "$REDIS_LOG" "$REDIS_PORT" REDIS_PORT
  echo "redis: running on 127.0.0.1:$REDIS_PORT (maxmemory $REDIS_MAXMEMORY, $REDIS_POLICY, no persistence)"
}

pg_ctl_stop() { as_user postgres "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null; }

stop_pg() {
  if pg_running; then pg_ctl_stop "$PGDATA"; fi
  echo "postgresql: stopped"
}

cluster_ports() { seq "$REDIS_CLUSTER_PORT" $((REDIS_CLUSTER_PORT + 5)); }
cluster_healthy() {
  local p info
  for p in $(cluster_ports); do
    redis-cli -h 127.0.0.1 -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    # A replica that has not finished its first sync cannot be promoted: a failover right after a create
    # would leave the slots without a master.
    info=$(redis-cli -h 127.0.0.1 -p "$p" info replication 2>/dev/null)
    if grep -q '^role:slave' <<<"$info"; then grep -q '^master_link_status:up' <<<"$info" || return 1; fi
  done
  # Three masters and three replicas: a failover test leaves a killed master behind, which this rebuilds.
  [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_CLUSTER_PORT" cluster nodes 2>/dev/null | grep -vc fail) -eq 6 ]]
}

# node_answers PORT: the node answers PING within 5 s.
node_answers() {
  for _ in $(seq 100); do redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  return 1
}

stop_cluster() {
  local p
  for p in $(cluster_ports); do redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true; done
  echo "redis cluster: stopped"
}

# A Redis Cluster on loopback: six redis-server processes in cluster mode (1 s node timeout, so a failover
# takes a few seconds), joined by `redis-cli --cluster create` into 3 masters with one replica each. Made afresh
# unless a healthy one runs. Each node's cluster bus is on its port - 40000: below Linux's ephemeral range
# (32768-60999), so no client connection's local port can hold it (the default, port + 10000, would pass 65535;
# port - 10000 lay in that range, and a node then failed to start in a clean-clone run). A node that does not
# answer is started again every 2 s for up to 60 s, as the PostgreSQL start does for a busy port.
start_cluster() {
  if cluster_healthy; then
    echo "redis cluster: already running on 127.0.0.1:$REDIS_CLUSTER_PORT-$((REDIS_CLUSTER_PORT + 5))"
    return
  fi
  command -v redis-server >/dev/null || { echo "redis: redis-server not found — run 'make deps' (redis-server)" >&2; exit 1; }
  stop_cluster >/dev/null
  make_data_dir
  rm -rf "$CLUSTER_DIR"
  ((REDIS_CLUSTER_PORT - 40000 >= 1024)) || { echo "redis cluster: REDIS_CLUSTER_PORT must be 41024 or more" >&2; exit 1; }
  local p nodes=() attempt
  for p in $(cluster_ports); do
    mkdir -p "$CLUSTER_DIR/$p"
    ((IS_ROOT)) && chown -R redis:redis "$CLUSTER_DIR"
    nodes+=("127.0.0.1:$p")
    for attempt in $(seq 30); do
      launch_redis "$p" "$CLUSTER_DIR/$p" REDIS_CLUSTER_PORT --cluster-enabled yes \
        --cluster-config-file nodes.conf --cluster-node-timeout 1000 --cluster-port $((p - 40000))
      node_answers "$p" && break
      ((attempt == 1)) && echo "redis cluster: node $p did not start ($(tail -n 1 "$CLUSTER_DIR/$p/redis.log" 2>/dev/null |
        sed -E 's/^[0-9]+:[A-Z] [^#*]+[#*] //')); trying again for up to 60 s" >&2
      sleep 2
    done
    node_answers "$p" || fail_start "redis cluster node" "$CLUSTER_DIR/$p/redis.log" "$p" REDIS_CLUSTER_PORT
  done
  local out
  if ! out=$(redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes 2>&1); then
    echo "redis cluster: create failed: $(tail -n 2 <<<"$out")" >&2
    exit 1
  fi
  for _ in $(seq 200); do cluster_healthy && break; sleep 0.1; done
  cluster_healthy || { echo "redis cluster: not healthy 20 s after create" >&2; exit 1; }
  echo "redis cluster: running on 127.0.0.1:$REDIS_CLUSTER_PORT-$((REDIS_CLUSTER_PORT + 5)) (3 masters, 3 replicas)"
}

stop_redis() {
  if redis_running; then redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  for _ in $(seq 100); do redis_running || break; sleep 0.05; done
  echo "redis: stopped"
}

action=${1:-status}
which=${2:-all}
case "$action" in
  start)
    [[ $which == all || $which == pg ]] && start_pg
    [[ $which == all || $which == redis ]] && start_redis
    [[ $which == replica ]] && start_replica
    [[ $which == cluster ]] && start_cluster
    ;;
  stop)
    [[ $which == all || $which == redis ]] && stop_redis
    [[ $which == all || $which == cluster ]] && stop_cluster
    # The replica goes down with its primary (`all`), or alone.
    [[ $which == all || $which == replica ]] && stop_replica
    [[ $which == all || $which == pg ]] && stop_pg
    ;;
  restart)
    # PostgreSQL's fast restart (the fault suite's "restart"): connections are cut, the server is back in a
    # fraction of a second with the same options.
    [[ $which == pg ]] || { echo "usage: $0 restart pg" >&2; exit 2; }
    pg_running || { echo "postgresql: not running" >&2; exit 1; }
    as_user postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PG_LOG" -o "-p $PG_PORT" -m fast -w -t 60 restart >/dev/null
    echo "postgresql: restarted"
    ;;
  destroy)
    stop_redis >/dev/null
    stop_cluster >/dev/null
    stop_replica >/dev/null
    stop_pg >/dev/null
    rm -rf "$DATA" "$STATE/backends-dir"
    echo "backends: stopped; removed $DATA"
    ;;
  where)
    echo "$DATA"
    ;;
  createdb)
    start_pg >/dev/null
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U cachelab -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$which'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$PG_PORT" -U cachelab -d postgres -qc "CREATE DATABASE \"$which\"" >/dev/null
    fi
    echo "postgresql: database $which ready on 127.0.0.1:$PG_PORT"
    ;;
  status)
    pg_running && echo "postgresql: running on 127.0.0.1:$PG_PORT" || echo "postgresql: stopped"
    redis_running && echo "redis: running on 127.0.0.1:$REDIS_PORT" || echo "redis: stopped"
    replica_running && echo "postgresql replica: running on 127.0.0.1:$PG_REPLICA_PORT"
    ;;
  *) echo "usage: $0 start|stop|status|destroy [all|pg|redis|replica|cluster] | restart pg | createdb NAME | where" >&2; exit 2 ;;
esac
exit 0

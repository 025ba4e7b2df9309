#!/usr/bin/env bash
# Starts and stops cachelab's private PostgreSQL 15 and Redis 7 on loopback ports, with their data under
# a state directory (default .cachelab/). Reuses what is already running. When run as root, the servers
# run as the unprivileged users Debian's packages create (postgres, redis).
#
#   scripts/backends.sh start|stop|status [all|pg|redis]
#   scripts/backends.sh createdb NAME      (another database in the private PostgreSQL, e.g. for scale 100)
#
# Environment: CACHELAB_STATE_DIR (.cachelab), PG_PORT (54320), REDIS_PORT (63790),
#              REDIS_MAXMEMORY (64mb), REDIS_POLICY (allkeys-lru).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${CACHELAB_STATE_DIR:-$ROOT/.cachelab}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
PG_PORT=${PG_PORT:-54320}
REDIS_PORT=${REDIS_PORT:-63790}
REDIS_MAXMEMORY=${REDIS_MAXMEMORY:-64mb}
REDIS_POLICY=${REDIS_POLICY:-allkeys-lru}
PG_BIN=/usr/lib/postgresql/15/bin
PGDATA=$STATE/pg
export PGDATA

# Runs a command as `user` when we are root (PostgreSQL refuses to run as root), else as ourselves.
as_user() {
  local user=$1; shift
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

own() {
  if [[ $(id -u) -eq 0 ]]; then chown -R "$1" "$2"; fi
}

pg_running() { as_user postgres "$PG_BIN/pg_ctl" status -D "$PGDATA" >/dev/null 2>&1; }
redis_running() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

start_pg() {
  if pg_running; then
    echo "postgresql: already running on 127.0.0.1:$PG_PORT"
    return
  fi
  if [[ ! -f $PGDATA/PG_VERSION ]]; then
    mkdir -p "$PGDATA"; own postgres "$PGDATA"; chmod 700 "$PGDATA"
    as_user postgres "$PG_BIN/initdb" -D "$PGDATA" -U cachelab --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
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
  touch "$STATE/pg.log"; own postgres "$STATE/pg.log"
  if ! as_user postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$STATE/pg.log" -o "-p $PG_PORT" -w -t 60 start >/dev/null; then
    echo "postgresql: did not start on 127.0.0.1:$PG_PORT; the end of $STATE/pg.log says:" >&2
    tail -n 4 "$STATE/pg.log" >&2
    exit 1
  fi
  if ! psql -h 127.0.0.1 -p "$PG_PORT" -U cachelab -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'cachelab'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U cachelab -d postgres -qc "CREATE DATABASE cachelab" >/dev/null
  fi
  echo "postgresql: running on 127.0.0.1:$PG_PORT (data in $PGDATA)"
}

start_redis() {
  if redis_running; then
    echo "redis: already running on 127.0.0.1:$REDIS_PORT"
    return
  fi
  mkdir -p "$STATE/redis"; own redis "$STATE/redis"
  touch "$STATE/redis.log"; own redis "$STATE/redis.log"
  as_user redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes \
    --dir "$STATE/redis" --pidfile "$STATE/redis/redis.pid" --logfile "$STATE/redis.log" \
    --maxmemory "$REDIS_MAXMEMORY" --maxmemory-policy "$REDIS_POLICY" --save "" --appendonly no
  for _ in $(seq 100); do redis_running && break; sleep 0.05; done
  redis_running || { echo "redis: did not start; see $STATE/redis.log" >&2; exit 1; }
  echo "redis: running on 127.0.0.1:$REDIS_PORT (maxmemory $REDIS_MAXMEMORY, $REDIS_POLICY, no persistence)"
}

stop_pg() {
  if pg_running; then as_user postgres "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null; fi
  echo "postgresql: stopped"
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
    ;;
  stop)
    [[ $which == all || $which == redis ]] && stop_redis
    [[ $which == all || $which == pg ]] && stop_pg
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
    ;;
  *) echo "usage: $0 start|stop|status [all|pg|redis] | createdb NAME" >&2; exit 2 ;;
esac
exit 0

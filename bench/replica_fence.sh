#!/usr/bin/env bash
# make bench-replica: what the read replica's WAL-fence rule costs on the database path. A release cachelab reads
# /products/1?cache=bypass (the load a miss does, without Redis) three ways, rounds interleaved:
#   primary   — no --database-read-url: every read on the primary;
#   replica   — with the local streaming replica (scripts/backends.sh start replica), before any write: the fence
#               is 0 and the read goes out alone;
#   fenced    — the same server after one write of its own: each replica connection checks the replay position
#               (in the read's pipeline) until it has seen the replica pass the write, then reads at once
#               (db/pg_catalog read_replica()). With a check in every read this measured 0.89x of `replica`.
# Prints the median requests/s and p99 of each and the ratios fenced/replica (the rule's price) and
# replica/primary. PostgreSQL, its replica, the server and the load generator share this machine's cores.
#
# Environment: ROUNDS (3), SECONDS_PER_ROUND (5), BENCH_CONNECTIONS (16), BENCH_PORT (8120),
#              BENCH_AUTOGROUP (as in bench/bench.sh: autogroup is off for the run when root, unless keep)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_PER_ROUND:-5}
CONNS=${BENCH_CONNECTIONS:-16}
PORT=${BENCH_PORT:-8120}
PG=${PG_PORT:-54320}
REPLICA_URL=postgresql://cachelab@127.0.0.1:${PG_REPLICA_PORT:-$((PG + 1))}/cachelab
TMP=$(mktemp -d)
trap 'stop_server; restore_scheduler; rm -rf "$TMP"' EXIT
quiet_scheduler

bash "$ROOT/scripts/backends.sh" start >/dev/null
bash "$ROOT/scripts/backends.sh" start replica >/dev/null
"$BIN" seed --log-level warn 2>/dev/null

# run LABEL [serve flags…]: one round; appends "LABEL rps p99" to $TMP/rounds.
run() {
  local label=$1; shift
  start_server "$PORT" --l1-max-bytes 0 "$@"
  if [[ $label == fenced ]]; then
    curl -sf -X PATCH -H 'Content-Type: application/json' -d '{"description": "fenced"}' \
      "http://127.0.0.1:$PORT/products/2" >/dev/null
  fi
  load "http://127.0.0.1:$PORT" "/products/1?cache=bypass" "$SECS" "$CONNS" 1 "$TMP/r.json"
  stop_server
  echo "$label $(json_get "$TMP/r.json" requests_per_second) $(json_get "$TMP/r.json" latency_ms.p99)" >>"$TMP/rounds"
}

for _ in $(seq "$ROUNDS"); do
  run primary
  run replica --database-read-url "$REPLICA_URL"
  run fenced --database-read-url "$REPLICA_URL"
done

med() { median_of "$TMP/rounds" "$@"; }
printf '%-8s %12s %10s\n' path "requests/s" "p99 ms"
for l in primary replica fenced; do printf '%-8s %12.0f %10.2f\n' "$l" "$(med "$l" 2)" "$(med "$l" 3)"; done
awk -v f="$(med fenced 2)" -v r="$(med replica 2)" -v p="$(med primary 2)" \
  'BEGIN { printf "fenced / replica: %.2fx   replica / primary: %.2fx   (medians of %d rounds)\n", f / r, r / p, '"$ROUNDS"' }'

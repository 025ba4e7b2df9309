#!/usr/bin/env bash
# make bench-cluster: the price of running on a Redis Cluster. cachelab keeps every key in one slot (the `{v1}`
# hash tag: its scripts span the generation, the WAL fence and a key), so one master serves all its traffic.
# A release cachelab serves the Redis-hit path (/products/1 with the near cache off) against the single private
# Redis and against the local cluster (scripts/backends.sh start cluster), rounds interleaved. Prints medians of
# requests/s and p99 and the ratio cluster / single node. Then the price of acknowledged invalidations on the
# cluster: the read-write-90-10 workload (10% writes) with --redis-wait-replicas 0 and 1 (the default on a
# cluster: each write's invalidation WAITs for the slot's replica). All six cluster nodes share this machine's
# cores.
#
# Environment: ROUNDS (3), SECONDS_PER_ROUND (5), BENCH_CONNECTIONS (64), BENCH_PORT (8130)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
SECS=${SECONDS_PER_ROUND:-5}
CONNS=${BENCH_CONNECTIONS:-64}
PORT=${BENCH_PORT:-8130}
RP=${REDIS_PORT:-63790}
CP=${REDIS_CLUSTER_PORT:-$((RP + 100))}
SINGLE=redis://127.0.0.1:$RP/0
CLUSTER=redis+cluster://127.0.0.1:$CP,127.0.0.1:$((CP + 1)),127.0.0.1:$((CP + 2))
TMP=$(mktemp -d)
trap 'stop_server; rm -rf "$TMP"' EXIT

bash "$ROOT/scripts/backends.sh" start >/dev/null
bash "$ROOT/scripts/backends.sh" start cluster >/dev/null
"$BIN" seed --log-level warn 2>/dev/null

# run LABEL URL: one round of Redis hits; appends "LABEL rps p99" to $TMP/rounds.
run() {
  start_server "$PORT" --l1-max-bytes 0 --redis-url "$2"
  curl -sf "http://127.0.0.1:$PORT/products/1" >/dev/null
  load "http://127.0.0.1:$PORT" "/products/1" "$SECS" "$CONNS" 2 "$TMP/r.json"
  stop_server
  echo "$1 $(json_get "$TMP/r.json" requests_per_second) $(json_get "$TMP/r.json" latency_ms.p99)" >>"$TMP/rounds"
}

# run_rw LABEL WAIT: one round of read-write-90-10 on the cluster; appends "LABEL rps p99 writes" to $TMP/rounds.
run_rw() {
  start_server "$PORT" --redis-url "$CLUSTER" --redis-wait-replicas "$2"
  "$BIN" load --url "http://127.0.0.1:$PORT" --workload read-write-90-10 --warmup 1s --duration "${SECS}s" \
    --connections 16 --threads 2 --json "$TMP/rw.json" --max-error-rate 1 >/dev/null
  stop_server
  echo "$1 $(json_get "$TMP/rw.json" requests_per_second) $(json_get "$TMP/rw.json" latency_ms.p99)" \
    "$(json_get "$TMP/rw.json" writes)" >>"$TMP/rounds"
}

for _ in $(seq "$ROUNDS"); do
  run single "$SINGLE"
  run cluster "$CLUSTER"
  run_rw no-wait 0
  run_rw wait-1 1
done

med() { median_of "$TMP/rounds" "$@"; }
echo "Redis-hit path (/products/1, near cache off), ${CONNS} connections"
printf '%-8s %12s %10s\n' redis "requests/s" "p99 ms"
for l in single cluster; do printf '%-8s %12.0f %10.2f\n' "$l" "$(med "$l" 2)" "$(med "$l" 3)"; done
awk -v c="$(med cluster 2)" -v s="$(med single 2)" \
  'BEGIN { printf "cluster / single node: %.2fx (medians of %d rounds)\n", c / s, '"$ROUNDS"' }'
echo
echo "Writes on the cluster (read-write-90-10: 10% PATCH, 16 connections)"
printf '%-8s %12s %10s %10s\n' WAIT "requests/s" "p99 ms" writes
for l in no-wait wait-1; do
  printf '%-8s %12.0f %10.2f %10.0f\n' "$l" "$(med "$l" 2)" "$(med "$l" 3)" "$(med "$l" 4)"
done
awk -v w="$(med wait-1 2)" -v n="$(med no-wait 2)" \
  'BEGIN { printf "with WAIT 1 / without: %.2fx (medians of %d rounds)\n", w / n, '"$ROUNDS"' }'

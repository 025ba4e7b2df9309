#!/usr/bin/env bash
# make bench: in one sitting, against the private backends and a release cachelab, all measured with the project's
# own load generator (`cachelab load`, closed loop):
#  1. the agreement check: `cachelab load` against wrk on /health and on a hit (bench/agreement.sh);
#  2. /health, the dashboard page, a near-cache (L1) hit, a Redis hit (a second server, --l1-max-bytes 0), Varnish
#     caching the same JSON in front of that second server (when varnishd is installed) and the database path,
#     with each one's ratio to /health;
#  3. the near cache's staleness window: one process writes, another reads (bench/staleness.mjs);
#  4. the catalog analytics endpoints, cache hit vs ?cache=bypass, at scale 1 and scale 100 (a second database,
#     cachelab_s100, seeded once with `cachelab seed --scale 100`).
#
# Environment: BENCH_SECONDS (10 per endpoint), BENCH_CATALOG_SECONDS (5), BENCH_CONNECTIONS (64),
#              BENCH_THREADS (2), BENCH_PORT (8100), BENCH_SCALES ("1 100"), BENCH_AGREEMENT (1; 0 skips it),
#              BENCH_STALENESS_WRITES (10000; 0 skips the near cache's staleness window, bench/staleness.mjs)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-8100}
URL=http://127.0.0.1:$PORT
TMP=$(mktemp -d)
trap 'stop_varnish; stop_server; rm -rf "$TMP"' EXIT

if [[ ${BENCH_AGREEMENT:-1} != 0 ]]; then
  bash "$ROOT/bench/agreement.sh" || echo "bench: the agreement check missed a target (see above)"
  echo
fi

bash "$ROOT/scripts/backends.sh" start >/dev/null
export DATABASE_URL=${DATABASE_URL:-postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/cachelab}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-63790}/0}
"$BIN" seed --log-level warn

declare -A RPS P50 P99
run() {  # name path [seconds] [base URL, default cachelab's]
  load "${4:-$URL}" "$2" "${3:-$SECONDS_EACH}" "$CONNS" "$THREADS" "$TMP/$1.json"
  RPS[$1]=$(json_get "$TMP/$1.json" requests_per_second | awk '{ printf "%.0f", $1 }')
  P50[$1]=$(json_get "$TMP/$1.json" latency_ms.p50)
  P99[$1]=$(json_get "$TMP/$1.json" latency_ms.p99)
  local errors
  errors=$(json_get "$TMP/$1.json" error_rate)
  awk -v e="$errors" 'BEGIN { exit !(e > 0) }' && echo "warning: $2 had an error rate of $errors" >&2
  return 0
}

start_server "$PORT"
curl -sf -X DELETE "$URL/cache/clear" >/dev/null
# Warm the key in Redis and in every thread's near cache: the hit path is what we measure.
for _ in $(seq 8); do curl -sf "$URL/products/1" >/dev/null; done
run health /health
run page /  # the dashboard's HTML, from memory (http/static_files)
run hit /products/1
run bypass "/products/1?cache=bypass"
stop_server

# The same hit from Redis alone, and Varnish caching that server's answer (the HTTP-cache alternative).
start_server "$PORT" --l1-max-bytes 0
for _ in $(seq 4); do curl -sf "$URL/products/1" >/dev/null; done
run redis /products/1
ROWS=("health|GET /health" "page|GET / (dashboard page, 14 KB)" "hit|GET /products/1 (near-cache hit)"
      "redis|GET /products/1 (Redis hit, L1 off)")
if command -v varnishd >/dev/null; then
  VPORT=$((PORT + 1))
  start_varnish "$VPORT" "$PORT" "$TMP/varnish"
  for _ in $(seq 4); do curl -sf "http://127.0.0.1:$VPORT/products/1" >/dev/null; done
  run varnish /products/1 "$SECONDS_EACH" "http://127.0.0.1:$VPORT"
  stop_varnish
  ROWS+=("varnish|GET /products/1 (Varnish hit)")
else
  echo "bench: varnishd is not installed (apt-get install varnish): the Varnish row is skipped"
fi
ROWS+=("bypass|GET /products/1?cache=bypass (db)")
stop_server

echo "cachelab bench: cachelab load, closed loop, $THREADS threads, $CONNS connections, ${SECONDS_EACH}s each, $(nproc) cores, release build, one sitting"
printf "%-38s %10s %9s %9s %12s\n" endpoint "req/s" "p50 ms" "p99 ms" "vs /health"
for row in "${ROWS[@]}"; do
  key=${row%%|*}; label=${row#*|}
  ratio=$(awk -v a="${RPS[$key]}" -v b="${RPS[health]}" 'BEGIN { printf "%.2f", a / b }')
  printf "%-38s %10s %9s %9s %11sx\n" "$label" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "$ratio"
done
echo
awk -v h="${RPS[hit]}" -v d="${RPS[bypass]}" 'BEGIN { printf "near-cache hit vs database path: %.2fx the throughput\n", h / d }'
awk -v h="${RPS[hit]}" -v r="${RPS[redis]}" 'BEGIN { printf "near-cache hit vs Redis hit: %.2fx\n", h / r }'
awk -v r="${RPS[redis]}" -v d="${RPS[bypass]}" 'BEGIN { printf "Redis hit vs database path: %.2fx\n", r / d }'
if [[ -n ${RPS[varnish]:-} ]]; then
  awk -v h="${RPS[hit]}" -v v="${RPS[varnish]}" 'BEGIN { printf "near-cache hit vs Varnish hit: %.2fx\n", h / v }'
fi

# --- the near cache's staleness window across two processes ---------------------------------------------
STALENESS_WRITES=${BENCH_STALENESS_WRITES:-10000}
if ((STALENESS_WRITES > 0)); then
  echo
  start_server "$PORT"
  WRITER=$SERVER
  start_server "$((PORT + 2))"
  bash "$ROOT/scripts/node.sh" "$ROOT/bench/staleness.mjs" "$URL" "http://127.0.0.1:$((PORT + 2))" "$STALENESS_WRITES"
  stop_server
  SERVER=$WRITER
  stop_server
fi

# --- catalog analytics: cache hit vs database, per scale -------------------------------------------------
CATALOG_SECONDS=${BENCH_CATALOG_SECONDS:-5}
echo
echo "catalog endpoints: cachelab load, $THREADS threads, $CONNS connections, ${CATALOG_SECONDS}s each, hit = warmed key, db = ?cache=bypass"
printf "%-6s %-30s %10s %9s %9s %10s %9s %9s %9s\n" scale endpoint "hit req/s" "p50 ms" "p99 ms" "db req/s" \
  "p50 ms" "p99 ms" "hit/db"
for scale in ${BENCH_SCALES:-1 100}; do
  db=cachelab
  if [[ $scale != 1 ]]; then
    db=cachelab_s$scale
    bash "$ROOT/scripts/backends.sh" createdb "$db" >/dev/null
  fi
  DB_URL="postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/$db"
  "$BIN" seed --log-level warn --scale "$scale" --database-url "$DB_URL" 2>/dev/null
  # A long query deadline: at scale 100 the database path queues far behind its 4 connections, and the
  # point here is to measure it, not to shed load.
  start_server "$PORT" --database-url "$DB_URL" --db-timeout-ms 60000
  curl -sf -X POST "$URL/api/flush-cache" >/dev/null
  for row in "categories|/api/categories" "search|/api/products?q=coffee" "top-products|/api/top-products"; do
    key=${row%%|*}; path=${row#*|}
    if [[ $path == *\?* ]]; then sep="&"; else sep="?"; fi
    curl -sf "$URL$path" >/dev/null
    run "$key-hit" "$path" "$CATALOG_SECONDS"
    run "$key-db" "$path${sep}cache=bypass" "$CATALOG_SECONDS"
    ratio=$(awk -v a="${RPS[$key-hit]}" -v b="${RPS[$key-db]}" 'BEGIN { printf "%.1f", a / b }')
    printf "%-6s %-30s %10s %9s %9s %10s %9s %9s %8sx\n" "$scale" "GET $path" "${RPS[$key-hit]}" "${P50[$key-hit]}" \
      "${P99[$key-hit]}" "${RPS[$key-db]}" "${P50[$key-db]}" "${P99[$key-db]}" "$ratio"
  done
  stop_server
done
exit 0

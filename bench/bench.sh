#!/usr/bin/env bash
# make bench: in one sitting, against the private backends and a release cachelab, all measured with the project's
# own load generator (`cachelab load`, closed loop):
#  1. the agreement check: `cachelab load` against wrk on /health and on a hit (bench/agreement.sh);
#  2. /health, the dashboard page, a cache hit and the database path, with each one's ratio to /health;
#  3. the catalog analytics endpoints, cache hit vs ?cache=bypass, at scale 1 and scale 100 (a second database,
#     cachelab_s100, seeded once with `cachelab seed --scale 100`).
#
# Environment: BENCH_SECONDS (10 per endpoint), BENCH_CATALOG_SECONDS (5), BENCH_CONNECTIONS (64),
#              BENCH_THREADS (2), BENCH_PORT (8100), BENCH_SCALES ("1 100"), BENCH_AGREEMENT (1; 0 skips it)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-8100}
URL=http://127.0.0.1:$PORT
TMP=$(mktemp -d)
trap 'stop_server; rm -rf "$TMP"' EXIT

if [[ ${BENCH_AGREEMENT:-1} != 0 ]]; then
  bash "$ROOT/bench/agreement.sh" || echo "bench: the agreement check missed a target (see above)"
  echo
fi

bash "$ROOT/scripts/backends.sh" start >/dev/null
export DATABASE_URL=${DATABASE_URL:-postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/cachelab}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-63790}/0}
"$BIN" seed --log-level warn

declare -A RPS P50 P99
run() {  # name path [seconds]
  load "$URL" "$2" "${3:-$SECONDS_EACH}" "$CONNS" "$THREADS" "$TMP/$1.json"
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
curl -sf "$URL/products/1" >/dev/null  # warm the key: the hit path is what we measure
run health /health
run page /  # the dashboard's HTML, from memory (http/static_files)
run hit /products/1
run bypass "/products/1?cache=bypass"

echo "cachelab bench: cachelab load, closed loop, $THREADS threads, $CONNS connections, ${SECONDS_EACH}s each, $(nproc) cores, release build, one sitting"
printf "%-34s %10s %9s %9s %12s\n" endpoint "req/s" "p50 ms" "p99 ms" "vs /health"
for row in "health|GET /health" "page|GET / (dashboard page, 14 KB)" "hit|GET /products/1 (cache hit)" \
  "bypass|GET /products/1?cache=bypass (db)"; do
  key=${row%%|*}; label=${row#*|}
  ratio=$(awk -v a="${RPS[$key]}" -v b="${RPS[health]}" 'BEGIN { printf "%.2f", a / b }')
  printf "%-34s %10s %9s %9s %11sx\n" "$label" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "$ratio"
done
echo
awk -v h="${RPS[hit]}" -v d="${RPS[bypass]}" 'BEGIN { printf "cache hit vs database path: %.2fx the throughput\n", h / d }'
stop_server

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

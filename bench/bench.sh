#!/usr/bin/env bash
# make bench: starts the private backends and a release cachelab, then runs wrk against each endpoint in
# one sitting and prints req/s, p50, p99 and each endpoint's throughput as a ratio to GET /health.
#
# Then the catalog analytics endpoints, cache hit vs ?cache=bypass, at scale 1 and scale 100 (a second
# database, cachelab_s100, seeded once with `cachelab seed --scale 100`).
#
# Environment: BENCH_SECONDS (10 per endpoint), BENCH_CATALOG_SECONDS (5), BENCH_CONNECTIONS (64),
#              BENCH_THREADS (2), BENCH_PORT (8100), BENCH_SCALES ("1 100")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$ROOT/build/release/src/cachelab
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-8100}
URL=http://127.0.0.1:$PORT

bash "$ROOT/scripts/backends.sh" start >/dev/null
export DATABASE_URL=${DATABASE_URL:-postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/cachelab}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-63790}/0}
"$BIN" seed --log-level warn

LOG=$(mktemp)
"$BIN" serve --port "$PORT" --log-level warn >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && break; sleep 0.05; done
curl -sf -X DELETE "$URL/cache/clear" >/dev/null
curl -sf "$URL/products/1" >/dev/null   # warm the key: the hit path is what we measure

# wrk prints latencies as 812.00us / 1.20ms / 1.01s: normalise to milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

declare -A RPS P50 P99
run() {
  local name=$1 path=$2 out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"${3:-$SECONDS_EACH}s" --timeout 30s --latency "$URL$path")
  RPS[$name]=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  P50[$name]=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  P99[$name]=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  if grep -q "Non-2xx" <<<"$out"; then echo "warning: $path returned non-2xx answers" >&2; fi
}

run health /health
run page /   # the dashboard's HTML, from memory (http/static_files)
run hit /products/1
run bypass "/products/1?cache=bypass"

echo
echo "cachelab bench: wrk -t$THREADS -c$CONNS -d${SECONDS_EACH}s, $(nproc) cores, release build, one sitting"
printf "%-34s %10s %9s %9s %12s\n" endpoint "req/s" "p50 ms" "p99 ms" "vs /health"
for row in "health|GET /health" "page|GET / (dashboard page, 14 KB)" "hit|GET /products/1 (cache hit)" \
  "bypass|GET /products/1?cache=bypass (db)"; do
  key=${row%%|*}; label=${row#*|}
  ratio=$(awk -v a="${RPS[$key]}" -v b="${RPS[health]}" 'BEGIN { printf "%.2f", a / b }')
  printf "%-34s %10s %9s %9s %11sx\n" "$label" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "$ratio"
done
echo
awk -v h="${RPS[hit]}" -v d="${RPS[bypass]}" 'BEGIN { printf "cache hit vs database path: %.2fx the throughput\n", h / d }'

# --- catalog analytics: cache hit vs database, per scale -------------------------------------------------
CATALOG_SECONDS=${BENCH_CATALOG_SECONDS:-5}
kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true
echo
echo "catalog endpoints: wrk -t$THREADS -c$CONNS -d${CATALOG_SECONDS}s each, hit = warmed key, db = ?cache=bypass"
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
  "$BIN" serve --port "$PORT" --log-level warn --database-url "$DB_URL" --db-timeout-ms 60000 >"$LOG" 2>&1 &
  SERVER=$!
  for _ in $(seq 100); do curl -sf "$URL/health" >/dev/null && break; sleep 0.05; done
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
  kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true
done
exit 0

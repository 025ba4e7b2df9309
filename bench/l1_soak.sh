#!/usr/bin/env bash
# make soak: does the near cache keep to its budget? A release cachelab with --l1-max-bytes SOAK_L1_BYTES (the
# default budget, 16 MiB) serves a Zipf(0.99) product workload over the scale-SOAK_SCALE catalog (600: 300,000
# products, about 170 MB as the near cache counts them, ten times the budget) for SOAK_SECONDS, its RSS sampled
# every 10 s; then the same run with the near cache off (SOAK_BASELINE_SECONDS), whose growth is what connections,
# buffers and the allocator cost without it. Redis's maxmemory is raised to SOAK_REDIS_MAXMEMORY for the runs (the
# key space must fit, or the tail of the Zipf is a database load) and put back after.
# Prints the idle RSS (started, before any request), the largest and last growth above it for both runs, and
# the near cache's own figures from /api/stats.
#
# Environment: SOAK_SECONDS (600), SOAK_BASELINE_SECONDS (120; 0 skips it), SOAK_L1_BYTES (16777216),
#              SOAK_SCALE (600; seeding it the first time takes about 2 minutes), SOAK_REDIS_MAXMEMORY (512mb),
#              SOAK_CONNECTIONS (64), BENCH_PORT (8100)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SOAK_SECONDS=${SOAK_SECONDS:-600}
BASELINE_SECONDS=${SOAK_BASELINE_SECONDS:-120}
L1_BYTES=${SOAK_L1_BYTES:-16777216}
SCALE=${SOAK_SCALE:-600}
REDIS_MAXMEMORY=${SOAK_REDIS_MAXMEMORY:-512mb}
CONNS=${SOAK_CONNECTIONS:-64}
PORT=${BENCH_PORT:-8100}
URL=http://127.0.0.1:$PORT
TMP=$(mktemp -d)

bash "$ROOT/scripts/backends.sh" start >/dev/null
bash "$ROOT/scripts/backends.sh" createdb "cachelab_s$SCALE" >/dev/null
export DATABASE_URL=postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/cachelab_s$SCALE
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-63790}/0}
REDIS_CLI=(redis-cli -p "${REDIS_PORT:-63790}")
OLD_MAXMEMORY=$("${REDIS_CLI[@]}" config get maxmemory | tail -1)
trap 'stop_server; "${REDIS_CLI[@]}" config set maxmemory "$OLD_MAXMEMORY" >/dev/null; rm -rf "$TMP"' EXIT
"${REDIS_CLI[@]}" config set maxmemory "$REDIS_MAXMEMORY" >/dev/null
"$BIN" seed --log-level warn --scale "$SCALE" 2>/dev/null
cat >"$TMP/workload.json" <<'JSON'
{
  "name": "l1-soak",
  "description": "Product pages only, Zipf(0.99) over the whole catalog.",
  "mix": {"product": 1},
  "keys": {"distribution": "zipf", "s": 0.99, "key_space": "catalog"}
}
JSON

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$SERVER/status"; }

# soak LABEL SECONDS L1_BYTES: prints one line of figures; leaves the last /api/stats in $TMP/stats.json.
soak() {
  local label=$1 seconds=$2 budget=$3
  start_server "$PORT" --l1-max-bytes "$budget" --db-timeout-ms 60000
  curl -sf -X POST "$URL/api/flush-cache" >/dev/null
  sleep 1
  local idle max=0 now
  idle=$(rss_kib)
  "$BIN" load --url "$URL" --workload "$TMP/workload.json" --duration "${seconds}s" --connections "$CONNS" \
    --threads 2 --json "$TMP/$label.json" >/dev/null 2>&1 &
  local loader=$!
  while kill -0 "$loader" 2>/dev/null; do
    now=$(rss_kib)
    ((now > max)) && max=$now
    sleep 10
  done
  wait "$loader" || echo "soak: the load generator reported errors ($label)" >&2
  now=$(rss_kib)
  ((now > max)) && max=$now
  curl -sf "$URL/api/stats" >"$TMP/stats.json"
  stop_server
  printf "%-10s %8ss %12s %14s %14s %14s %10s\n" "$label" "$seconds" "$budget" "$((idle / 1024)) MiB" \
    "$((max - idle)) KiB" "$((now - idle)) KiB" \
    "$(json_get "$TMP/$label.json" requests_per_second | awk '{ printf "%.0f", $1 }')"
  GROWTH[$label]=$((max - idle))
}

declare -A GROWTH
echo "near-cache soak: Zipf(0.99) product reads over $((SCALE * 500)) products, $CONNS connections, release build"
printf "%-10s %9s %12s %14s %14s %14s %10s\n" run seconds "l1 bytes" "idle RSS" "max growth" "last growth" "req/s"
soak l1-on "$SOAK_SECONDS" "$L1_BYTES"
cp "$TMP/stats.json" "$TMP/l1-stats.json"
if ((BASELINE_SECONDS > 0)); then soak l1-off "$BASELINE_SECONDS" 0; fi
echo
echo "near cache at the end: $(json_get "$TMP/l1-stats.json" app.near_cache.bytes) bytes in" \
  "$(json_get "$TMP/l1-stats.json" app.near_cache.entries) entries," \
  "$(json_get "$TMP/l1-stats.json" app.near_cache.evictions) evictions, hit ratio" \
  "$(json_get "$TMP/l1-stats.json" app.near_cache.hit_rate), invalidation lag p50" \
  "$(json_get "$TMP/l1-stats.json" app.near_cache.invalidation_lag.p50_ms) ms"
limit=$((L1_BYTES * 11 / 10 / 1024))
echo "target: growth above idle RSS within --l1-max-bytes + 10% = $limit KiB;" \
  "measured $((GROWTH[l1-on])) KiB with the near cache${GROWTH[l1-off]+, $((GROWTH[l1-off])) KiB without it}"

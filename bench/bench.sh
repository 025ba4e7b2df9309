#!/usr/bin/env bash
# make bench: in one sitting, against the private backends and a release cachelab, all measured with the project's
# own load generator (`cachelab load`, closed loop):
#  1. the agreement check: `cachelab load` against wrk on /health and on a hit (bench/agreement.sh);
#  2. /health beside nginx serving the same JSON (when nginx is installed), the dashboard page, a near-cache (L1)
#     hit, a Redis hit (a second server, --l1-max-bytes 0), Varnish caching the same JSON in front of that second
#     server (when varnishd is installed), the database path (requests' queries pipelined on a busy connection,
#     the default --db-pipeline-depth 4) beside pgbench running its query (when pgbench is installed) and beside
#     itself one request per connection (the second server, --db-pipeline-depth 1): medians of
#     BENCH_ROUNDS interleaved rounds, each row's ratio to /health and to its peer (of the medians, and round by round);
#  3. the near cache's staleness window: one process writes, another reads (bench/staleness.mjs);
#  4. the catalog analytics endpoints, cache hit vs ?cache=bypass, at scale 1 and scale 100 (a second database,
#     cachelab_s100, seeded once with `cachelab seed --scale 100`).
#
# Environment: BENCH_SECONDS (10 per endpoint and round), BENCH_ROUNDS (3), BENCH_CATALOG_SECONDS (5), BENCH_CONNECTIONS (64),
#              BENCH_THREADS (2), BENCH_PORT (8100), BENCH_SCALES ("1 100"), BENCH_AGREEMENT (1; 0 skips it),
#              BENCH_STALENESS_WRITES (10000; 0 skips the near cache's staleness window, bench/staleness.mjs),
#              BENCH_AUTOGROUP (off: as root, kernel.sched_autogroup_enabled is 0 for the sitting and restored after;
#              keep leaves it; see quiet_scheduler in bench/lib.sh)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_EACH=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
PORT=${BENCH_PORT:-8100}
URL=http://127.0.0.1:$PORT
TMP=$(mktemp -d)
trap 'stop_varnish; stop_nginx; SERVER=${REDIS_SERVER:-} stop_server; SERVER=${L1_SERVER:-} stop_server; stop_server; restore_scheduler; rm -rf "$TMP"' EXIT
quiet_scheduler

if [[ ${BENCH_AGREEMENT:-1} != 0 ]]; then
  bash "$ROOT/bench/agreement.sh" || echo "bench: the agreement check missed a target (see above)"
  echo
fi

bash "$ROOT/scripts/backends.sh" start >/dev/null
export DATABASE_URL=${DATABASE_URL:-postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/cachelab}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-63790}/0}
"$BIN" seed --log-level warn

ROUNDS=${BENCH_ROUNDS:-3}
declare -A RPS P50 P99 ALL
run() {  # name path [seconds] [base URL, default cachelab's]: one measurement, appended to the row's rounds
  load "${4:-$URL}" "$2" "${3:-$SECONDS_EACH}" "$CONNS" "$THREADS" "$TMP/$1.json"
  record "$1" "$(json_get "$TMP/$1.json" requests_per_second)" "$(json_get "$TMP/$1.json" latency_ms.p50)" \
    "$(json_get "$TMP/$1.json" latency_ms.p99)"
  local errors
  errors=$(json_get "$TMP/$1.json" error_rate)
  if awk -v e="$errors" 'BEGIN { exit !(e > 0) }'; then
    echo "warning: $2 had an error rate of $errors: $("$NODE" -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1])).errors;
console.log(Object.entries(e).filter(([, v]) => v).map(([k, v]) => `${v} ${k}`).join(", "))' "$TMP/$1.json")" >&2
    # What the server said meanwhile, when it was a cachelab of this sitting (each logs to server-PORT.log at
    # warn level; a peer has no such log).
    local url=${4:-$URL}
    grep -h '"level":"error"\|timeout\|unavailable\|refused' "$TMP/server-${url##*:}.log" 2>/dev/null | tail -3 >&2 || true
  fi
  return 0
}
record() {  # name req/s p50 p99: one round's figures
  printf '%s %s %s\n' "$2" "$3" "$4" >>"$TMP/$1.rounds"
  ALL[$1]+="$(printf '%.0f' "$2") "
}
settle() {  # name: the medians of its rounds into RPS, P50, P99
  RPS[$1]=$(cut -d' ' -f1 "$TMP/$1.rounds" | median | awk '{ printf "%.0f", $1 }')
  P50[$1]=$(cut -d' ' -f2 "$TMP/$1.rounds" | median)
  P99[$1]=$(cut -d' ' -f3 "$TMP/$1.rounds" | median)
}
# pgbench: the bypass path's query (db/statements' product_by_id, prepared) as 16 clients on 2 threads run it
# straight against the same PostgreSQL; its per-transaction log gives the percentiles.
run_pgbench() {  # name script seconds
  rm -f "$TMP"/pgb.log*
  pgbench -h 127.0.0.1 -p "${PG_PORT:-54320}" -U cachelab -n -M prepared -c 16 -j 2 -T "$3" -f "$2" \
    --log --log-prefix="$TMP/pgb.log" cachelab >"$TMP/pgbench.out" 2>&1 ||
    { echo "warning: pgbench failed:" >&2; tail -3 "$TMP/pgbench.out" >&2; return 0; }
  local tps p50 p99
  tps=$(awk '/^tps = / { print $3 }' "$TMP/pgbench.out")
  read -r p50 p99 < <(cat "$TMP"/pgb.log* | awk '{ print $3 / 1000 }' | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1] }')
  record "$1" "$tps" "$p50" "$p99"
}

# Every server of the sitting at once, so that the rounds interleave: cachelab with its near cache, a second
# cachelab with it off (the Redis-hit path) and one request's queries at a time per PostgreSQL connection (the
# database path not pipelined; a Redis hit does not touch PostgreSQL), Varnish caching the second one's answers,
# nginx serving the same JSON as /health from a file. Peers missing from the machine are skipped with a message.
start_server "$PORT"
L1_SERVER=$SERVER
curl -sf -X DELETE "$URL/cache/clear" >/dev/null
RPORT=$((PORT + 2))
start_server "$RPORT" --l1-max-bytes 0 --db-pipeline-depth 1
REDIS_SERVER=$SERVER
# Warm the key in Redis and in every thread's near cache: the hit path is what we measure.
for _ in $(seq 8); do curl -sf "$URL/products/1" >/dev/null; curl -sf "http://127.0.0.1:$RPORT/products/1" >/dev/null; done
ROWS=(health nginx page hit redis varnish bypass single pgbench)
declare -A LABEL=([health]="GET /health" [nginx]="nginx: the same JSON, static file" [page]="GET / (dashboard page, 14 KB)"
  [hit]="GET /products/1 (near-cache hit)" [redis]="GET /products/1 (Redis hit, L1 off)"
  [varnish]="Varnish: /products/1 cached" [bypass]="GET /products/1?cache=bypass (db)"
  [single]="the same, --db-pipeline-depth 1"
  [pgbench]="pgbench: the same query, prepared")
HAVE_VARNISH=0 HAVE_NGINX=0 HAVE_PGBENCH=0
if command -v varnishd >/dev/null; then
  VPORT=$((PORT + 1))
  start_varnish "$VPORT" "$RPORT" "$TMP/varnish"
  for _ in $(seq 4); do curl -sf "http://127.0.0.1:$VPORT/products/1" >/dev/null; done
  HAVE_VARNISH=1
else
  echo "bench: varnishd is not installed (apt-get install varnish): the Varnish row is skipped"
fi
NGINX_BIN=$(command -v nginx || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true)
if [[ -n $NGINX_BIN ]]; then
  NPORT=$((PORT + 3))
  curl -sf "$URL/health" >"$TMP/health.json"
  start_nginx "$NGINX_BIN" "$NPORT" "$TMP/nginx" "$TMP/health.json"
  HAVE_NGINX=1
else
  echo "bench: nginx is not installed (apt-get install nginx-light): the nginx row is skipped"
fi
if command -v pgbench >/dev/null; then
  # The query of db/statements' product_by_id for product 1, as the bypass row reads it; to_char's format is
  # quoted so that pgbench sees no ':name' in it.
  cat >"$TMP/lookup.sql" <<'SQL'
\set id 1
SELECT p.id, p.name, p.description, p.price::text, c.name, to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'), to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"') FROM products p JOIN categories c ON c.id = p.category_id WHERE p.id = :id;
SQL
  HAVE_PGBENCH=1
else
  echo "bench: pgbench is not installed (postgresql-client-15): the pgbench row is skipped"
fi

for round in $(seq "$ROUNDS"); do
  echo "bench: round $round of $ROUNDS" >&2
  run health /health
  ((HAVE_NGINX)) && run nginx /health "$SECONDS_EACH" "http://127.0.0.1:$NPORT"
  run hit /products/1
  run redis /products/1 "$SECONDS_EACH" "http://127.0.0.1:$RPORT"
  run page /  # the dashboard's HTML, from memory (http/static_files)
  ((HAVE_VARNISH)) && run varnish /products/1 "$SECONDS_EACH" "http://127.0.0.1:$VPORT"
  run bypass "/products/1?cache=bypass"
  run single "/products/1?cache=bypass" "$SECONDS_EACH" "http://127.0.0.1:$RPORT"
  ((HAVE_PGBENCH)) && run_pgbench pgbench "$TMP/lookup.sql" "$SECONDS_EACH"
done
stop_varnish
stop_nginx
SERVER=$REDIS_SERVER stop_server
SERVER=$L1_SERVER stop_server
REDIS_SERVER= L1_SERVER=

SHOWN=()
for key in "${ROWS[@]}"; do [[ -s $TMP/$key.rounds ]] && { settle "$key"; SHOWN+=("$key"); }; done
echo "cachelab bench: cachelab load, closed loop, $THREADS threads, $CONNS connections, ${SECONDS_EACH}s each," \
  "medians of $ROUNDS interleaved rounds, $(nproc) cores, release build, one sitting (pgbench: 16 clients, 2 threads)"
printf "%-38s %10s %9s %9s %11s   %s\n" endpoint "req/s" "p50 ms" "p99 ms" "vs /health" "each round"
for key in "${SHOWN[@]}"; do
  ratio=$(awk -v a="${RPS[$key]}" -v b="${RPS[health]}" 'BEGIN { printf "%.2f", a / b }')
  printf "%-38s %10s %9s %9s %10sx   %s\n" "${LABEL[$key]}" "${RPS[$key]}" "${P50[$key]}" "${P99[$key]}" "$ratio" "${ALL[$key]}"
done
echo
# label a b: the ratio of two rows' medians, when both were measured; then the same ratio round by round (the
# two rows' figures of one round, measured tens of seconds apart rather than minutes): their median and range,
# which show how much of a ratio is the machine's drift between rounds.
vs() {
  [[ -n ${RPS[$2]:-} && -n ${RPS[$3]:-} ]] || return 0
  awk -v l="$1" -v a="${RPS[$2]}" -v b="${RPS[$3]}" 'BEGIN { printf "%-36s %.2fx", l, a / b }'
  local rounds
  rounds=$(wc -l <"$TMP/$2.rounds")
  if ((rounds < 2 || rounds != $(wc -l <"$TMP/$3.rounds"))); then echo; return 0; fi
  paste -d' ' "$TMP/$2.rounds" "$TMP/$3.rounds" | awk '{ print $1 / $4 }' | sort -g >"$TMP/ratios"
  awk -v m="$(median <"$TMP/ratios")" -v lo="$(head -1 "$TMP/ratios")" -v hi="$(tail -1 "$TMP/ratios")" \
    'BEGIN { printf "   round by round: median %.2fx, %.2f-%.2fx\n", m, lo, hi }'
}
vs "/health vs nginx:" health nginx
vs "near-cache hit vs Varnish hit:" hit varnish
vs "near-cache hit vs /health:" hit health
vs "near-cache hit vs Redis hit:" hit redis
vs "Redis hit vs /health:" redis health
vs "database path vs pgbench:" bypass pgbench
vs "database path, one request per connection, vs pgbench:" single pgbench
vs "database path, pipelined vs one request per connection:" bypass single
vs "near-cache hit vs database path:" hit bypass

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
    hit=$key-hit-s$scale db_row=$key-db-s$scale  # one round each: settle() reads that round back
    run "$hit" "$path" "$CATALOG_SECONDS" && settle "$hit"
    run "$db_row" "$path${sep}cache=bypass" "$CATALOG_SECONDS" && settle "$db_row"
    ratio=$(awk -v a="${RPS[$hit]}" -v b="${RPS[$db_row]}" 'BEGIN { printf "%.1f", a / b }')
    printf "%-6s %-30s %10s %9s %9s %10s %9s %9s %8sx\n" "$scale" "GET $path" "${RPS[$hit]}" "${P50[$hit]}" \
      "${P99[$hit]}" "${RPS[$db_row]}" "${P50[$db_row]}" "${P99[$db_row]}" "$ratio"
  done
  stop_server
done
exit 0

#!/usr/bin/env bash
# Two builds of cachelab side by side on one path: both serve at once (same PostgreSQL and Redis), wrk measures
# them in turn for AB_ROUNDS interleaved rounds (A first in odd rounds, B first in even ones), and each round's
# server CPU per request is read from /proc/<pid>/stat. Prints every round, then the paired ratios B ÷ A
# (median and range of the per-round ratios, and how many rounds B won): the way to judge a change that is smaller
# than the rounds' own drift. Serve flags after the path go to both servers.
#
#   bash bench/ab.sh OLD_BINARY NEW_BINARY [PATH] [serve flags…]
#   e.g. bash bench/ab.sh /tmp/before/cachelab build/release/src/cachelab /products/1 --l1-max-bytes 0
#
# Environment: AB_ROUNDS (8), AB_SECONDS (5), AB_CONNECTIONS (64), BENCH_PORT (8100; A on it, B on the next);
#              DATABASE_URL and REDIS_URL as for `cachelab serve` (default: the private backends),
#              BENCH_AUTOGROUP (as in bench/bench.sh: autogroup is off for the run when root, unless keep)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if (($# < 2)); then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
A_BIN=$1 B_BIN=$2 PATHQ=${3:-/products/1}
shift $(($# < 3 ? $# : 3))
ROUNDS=${AB_ROUNDS:-8} SECONDS_EACH=${AB_SECONDS:-5} CONNS=${AB_CONNECTIONS:-64}
PORT=${BENCH_PORT:-8100}
command -v wrk >/dev/null || { echo "ab: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
TMP=$(mktemp -d)
A_PID= B_PID=
# Set before either server starts: start_server exits when one does not come up, and the other must not stay.
trap 'kill ${A_PID:-} ${B_PID:-} ${SERVER:-} 2>/dev/null; wait 2>/dev/null; restore_scheduler; rm -rf "$TMP"' EXIT
quiet_scheduler
bash "$ROOT/scripts/backends.sh" start >/dev/null
export DATABASE_URL=${DATABASE_URL:-postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/cachelab}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-63790}/0}
"$A_BIN" seed --log-level warn

BIN=$A_BIN start_server "$PORT" "$@"
A_PID=$SERVER
BIN=$B_BIN start_server "$((PORT + 1))" "$@"
B_PID=$SERVER
for port in "$PORT" "$((PORT + 1))"; do  # the answer cached, in Redis and in each I/O thread's near cache
  for _ in 1 2 3 4; do curl -sf "http://127.0.0.1:$port$PATHQ" >/dev/null; done
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
# measure SIDE PID PORT ROUND: one wrk run; appends "round side req/s µs-per-request" to $TMP/rounds
measure() {
  local before after out
  before=$(cpu_ticks "$2")
  out=$(wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" "http://127.0.0.1:$3$PATHQ")
  after=$(cpu_ticks "$2")
  awk -v r="$4" -v s="$1" -v t=$((after - before)) -v us="$TICK_US" \
    '/requests in/ { n = $1 } /Requests\/sec/ { rps = $2 } /Non-2xx/ { bad = $NF }
     END { if (bad) print "ab: " bad " answers were not 2xx" > "/dev/stderr";
           printf "%s %s %.0f %.2f\n", r, s, rps, t * us / n }' <<<"$out" | tee -a "$TMP/rounds"
}
echo "ab: $PATHQ, $ROUNDS rounds of ${SECONDS_EACH}s, wrk -t2 -c$CONNS; A = $A_BIN, B = $B_BIN"
echo "round side req/s cpu_us_per_request"
for round in $(seq "$ROUNDS"); do
  if ((round % 2)); then
    measure A "$A_PID" "$PORT" "$round"; measure B "$B_PID" "$((PORT + 1))" "$round"
  else
    measure B "$B_PID" "$((PORT + 1))" "$round"; measure A "$A_PID" "$PORT" "$round"
  fi
done
# per_round FIELD: B ÷ A of column FIELD (3 req/s, 4 CPU per request), one line per round
per_round() {
  awk -v f="$1" '{ v[$1, $2] = $f; if ($1 > n) n = $1 } END { for (r = 1; r <= n; r++) print v[r, "B"] / v[r, "A"] }' \
    "$TMP/rounds"
}
summary() {  # median (min-max) of the numbers on stdin
  sort -g | awk '{ v[NR] = $1 } END { printf "%.3f (rounds %.3f-%.3f)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
side_median() { awk -v s="$1" -v f="$2" '$2 == s { print $f }' "$TMP/rounds" | median; }
echo "medians: A $(side_median A 3) req/s and $(side_median A 4) µs per request," \
  "B $(side_median B 3) req/s and $(side_median B 4) µs per request"
echo "B / A throughput: $(per_round 3 | summary), B faster in $(per_round 3 | awk '$1 > 1' | wc -l) of $ROUNDS rounds"
echo "B / A server CPU per request: $(per_round 4 | summary)"

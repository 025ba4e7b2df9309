# Shared by the bench scripts: start a release cachelab, measure one path with `cachelab load` or wrk, and read
# figures out of a JSON report. Source it; it sets ROOT, BIN and NODE.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/build/release/src/cachelab
NODE="$ROOT/scripts/node.sh"

# wrk prints latencies as 812.00us / 1.20ms / 1.01s: normalise to milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

# json_get FILE a.b.c — one field of a JSON file.
json_get() { "$NODE" -e 'const v = process.argv[2].split(".").reduce((o, k) => o?.[k], JSON.parse(require("fs").readFileSync(process.argv[1])));
  console.log(v === null || v === undefined ? "" : v)' "$1" "$2"; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# start_server PORT [serve flags…]: a release cachelab in the background, waited for; sets SERVER.
start_server() {
  local port=$1; shift
  "$BIN" serve --port "$port" --log-level warn "$@" >/dev/null 2>&1 &
  SERVER=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
  echo "bench: cachelab did not start on port $port" >&2
  exit 1
}
stop_server() { if [[ -n ${SERVER:-} ]]; then kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; SERVER=; fi; }

# load URL PATH SECONDS CONNECTIONS THREADS OUT.json — closed loop with cachelab load, the report in OUT.json.
load() {
  "$BIN" load --url "$1" --target "$2" --duration "$3s" --connections "$4" --threads "$5" --json "$6" \
    --max-error-rate 1 >/dev/null
}

# Shared by the bench scripts: start a release cachelab, measure one path with `cachelab load` or wrk, and read
# figures out of a JSON report. Source it; it sets ROOT, BIN and NODE.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${CACHELAB_BIN:-$ROOT/build/release/src/cachelab}  # CACHELAB_BIN: another build to measure (before/after)
NODE="$ROOT/scripts/node.sh"

# wrk prints latencies as 812.00us / 1.20ms / 1.01s: normalise to milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'; }

# json_get FILE a.b.c — one field of a JSON file.
json_get() { "$NODE" -e 'const v = process.argv[2].split(".").reduce((o, k) => o?.[k], JSON.parse(require("fs").readFileSync(process.argv[1])));
  console.log(v === null || v === undefined ? "" : v)' "$1" "$2"; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# median_of FILE LABEL COLUMN: the median of COLUMN over FILE's lines whose first field is LABEL
median_of() { awk -v l="$2" -v c="$3" '$1 == l { print $c }' "$1" | median; }

# Scheduler noise: with kernel.sched_autogroup_enabled = 1 every session is its own scheduling group, and each
# PostgreSQL backend calls setsid(), so on a small VM a woken backend can wait 0.2-5 s runnable but unscheduled
# while the load generator's group runs (docs/performance.md, "Scheduler noise"). quiet_scheduler turns autogroup
# off for the sitting when it can (root) and says so; restore_scheduler, from the caller's EXIT trap, puts the old
# value back. BENCH_AUTOGROUP=keep leaves the kernel as it is.
AUTOGROUP_FILE=/proc/sys/kernel/sched_autogroup_enabled
AUTOGROUP_RESTORE=
quiet_scheduler() {
  [[ -r $AUTOGROUP_FILE && $(cat "$AUTOGROUP_FILE") == 1 ]] || return 0
  if [[ ${BENCH_AUTOGROUP:-off} == keep ]]; then
    echo "bench: kernel.sched_autogroup_enabled is 1 and BENCH_AUTOGROUP=keep: database-path rows may show multi-second stalls" >&2
  elif [[ -w $AUTOGROUP_FILE ]] && echo 0 >"$AUTOGROUP_FILE" 2>/dev/null; then
    AUTOGROUP_RESTORE=1
    echo "bench: kernel.sched_autogroup_enabled set to 0 for this sitting (restored on exit; BENCH_AUTOGROUP=keep to leave it)"
  else
    echo "bench: warning: kernel.sched_autogroup_enabled is 1 and not writable here (not root): database-path rows may show multi-second stalls" >&2
  fi
}
restore_scheduler() { if [[ -n $AUTOGROUP_RESTORE ]]; then echo 1 >"$AUTOGROUP_FILE" 2>/dev/null || true; AUTOGROUP_RESTORE=; fi; }

# start_server PORT [serve flags…]: a release cachelab in the background, waited for; sets SERVER.
start_server() {
  local port=$1; shift
  # Its warnings and errors go to $TMP/server-PORT.log, for a row that reports errors to quote.
  "$BIN" serve --port "$port" --log-level warn "$@" >"${TMP:-/tmp}/server-$port.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
  echo "bench: cachelab did not start on port $port" >&2
  exit 1
}
# start_varnish PORT ORIGIN_PORT WORKDIR: Debian's varnishd in front of cachelab, caching every GET for 60 s
# whatever the origin's headers say (the HTTP-cache alternative to a near cache); sets VARNISH.
start_varnish() {
  mkdir -p "$3"
  cat >"$3/bench.vcl" <<VCL
vcl 4.1;
backend origin { .host = "127.0.0.1"; .port = "$2"; }
sub vcl_recv { if (req.method != "GET") { return (pass); } return (hash); }
sub vcl_backend_response { set beresp.ttl = 60s; set beresp.grace = 0s; unset beresp.http.Set-Cookie; return (deliver); }
VCL
  varnishd -F -j none -n "$3" -a "127.0.0.1:$1" -f "$3/bench.vcl" -s malloc,64m >/dev/null 2>&1 &
  VARNISH=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/health" >/dev/null && return; sleep 0.1; done
  echo "bench: varnishd did not start on port $1" >&2
  exit 1
}
stop_varnish() { if [[ -n ${VARNISH:-} ]]; then kill "$VARNISH" 2>/dev/null || true; wait "$VARNISH" 2>/dev/null || true; VARNISH=; fi; }

# start_nginx BINARY PORT WORKDIR FILE: Debian's nginx, 2 workers, serving FILE as /health (application/json)
# from a config written here; sets NGINX_PID_FILE. Its workers run as the caller (as root, not www-data, which
# could not read a private temporary directory).
start_nginx() {
  mkdir -p "$3/tmp"
  local user=""
  [[ $(id -u) == 0 ]] && user="user root root;"
  cat >"$3/nginx.conf" <<CONF
$user
worker_processes 2;
pid $3/nginx.pid;
error_log $3/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $3/tmp; proxy_temp_path $3/tmp; fastcgi_temp_path $3/tmp;
  uwsgi_temp_path $3/tmp; scgi_temp_path $3/tmp;
  server {
    listen 127.0.0.1:$2;
    location = /health { default_type application/json; alias $4; }
  }
}
CONF
  "$1" -c "$3/nginx.conf" -p "$3" -g 'daemon on;' || { echo "bench: nginx did not start" >&2; exit 1; }
  NGINX_PID_FILE=$3/nginx.pid
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/health" >/dev/null && return; sleep 0.1; done
  echo "bench: nginx did not answer on port $2" >&2
  exit 1
}
stop_nginx() {
  if [[ -n ${NGINX_PID_FILE:-} && -s $NGINX_PID_FILE ]]; then kill "$(cat "$NGINX_PID_FILE")" 2>/dev/null || true; fi
  NGINX_PID_FILE=
}

stop_server() { if [[ -n ${SERVER:-} ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=; fi; }

# load URL PATH SECONDS CONNECTIONS THREADS OUT.json — closed loop with cachelab load, the report in OUT.json.
load() {
  "$BIN" load --url "$1" --target "$2" --duration "$3s" --connections "$4" --threads "$5" --json "$6" \
    --max-error-rate 1 >/dev/null
}

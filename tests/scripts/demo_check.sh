#!/usr/bin/env bash
# `make demo` as a newcomer runs it, checked: in the background (it installs, builds and seeds first), wait until it
# serves, then read the dashboard and one product twice (MISS, then HIT) with nothing but bash, and stop it all.
# `make demo-check` runs it; ../shared/tools/fresh-debian.sh 'make demo-check' runs it on a pristine Debian 12.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${DEMO_CHECK_PORT:-8077}
mkdir -p build
setsid make demo PORT="$PORT" >build/demo-check.log 2>&1 &
demo=$!
trap 'kill -TERM -- -$demo 2>/dev/null || true; wait $demo 2>/dev/null || true; make -s stop >/dev/null 2>&1 || true' EXIT

# GET with bash's /dev/tcp: the head and body of one answer.
get() {
  exec 3<>"/dev/tcp/127.0.0.1/$PORT" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$1" >&3
  cat <&3
  exec 3<&-
}
for _ in $(seq 1800); do  # up to 30 minutes: a first run installs packages and builds
  get /health 2>/dev/null | grep -q '"status":"ok"' && break
  kill -0 $demo 2>/dev/null || { tail -n 20 build/demo-check.log; echo "demo-check: make demo exited"; exit 1; }
  sleep 1
done
page=$(get /)
grep -q '<title>cachelab' <<<"$page" || { echo "demo-check: / is not the dashboard"; exit 1; }
first=$(get /products/1 | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"{print $2}')
second=$(get /products/1 | tr -d '\r' | awk -F': ' 'tolower($1)=="x-cache"{print $2}')
[[ $first == MISS || $first == HIT ]] && [[ $second == HIT ]] ||
  { echo "demo-check: /products/1 gave X-Cache '$first' then '$second'"; exit 1; }
echo "demo-check: make demo serves the dashboard on :$PORT; /products/1 was $first, then $second"

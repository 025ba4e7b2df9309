#!/usr/bin/env bash
# make demo: start the private backends (reusing running ones), seed if needed, serve in the foreground.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT=${1:-8000}
SCALE=${2:-1}
BIN=$ROOT/build/release/src/cachelab

bash "$ROOT/scripts/backends.sh" start
export DATABASE_URL=${DATABASE_URL:-postgresql://cachelab@127.0.0.1:${PG_PORT:-54320}/cachelab}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${REDIS_PORT:-63790}/0}
# The seeds' own frontends run on :3000 and call the API from the browser: let their pages read the answers.
# Not '*': without ADMIN_TOKEN, writes are accepted from loopback, and any site open in the browser is loopback.
export CORS_ALLOW_ORIGINS=${CORS_ALLOW_ORIGINS-http://localhost:3000,http://127.0.0.1:3000}
"$BIN" seed --scale "$SCALE"

cat <<MSG

  cachelab is starting on http://127.0.0.1:$PORT
    dashboard     http://127.0.0.1:$PORT/
    API index     http://127.0.0.1:$PORT/api
    API docs      http://127.0.0.1:$PORT/docs   (OpenAPI: /openapi.json)
    metrics       http://127.0.0.1:$PORT/metrics   (Prometheus)
    a product     http://127.0.0.1:$PORT/products/1   (run it twice: MISS, then HIT)
    cache stats   http://127.0.0.1:$PORT/cache/stats
  CORS: pages from ${CORS_ALLOW_ORIGINS:-no other origin} may call the API (CORS_ALLOW_ORIGINS= to change)
  Ctrl-C stops the server; 'make stop' stops PostgreSQL and Redis.

MSG
exec "$BIN" serve --port "$PORT"

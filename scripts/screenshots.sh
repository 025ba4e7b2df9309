#!/usr/bin/env bash
# make screenshots: the dashboard's main views into docs/screenshots/, from the release binary against a private
# PostgreSQL and Redis of their own (ports 54340 / 63810, state under build/), so a running demo is untouched.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CACHELAB_STATE_DIR=$ROOT/build/screenshots-state PG_PORT=54340 REDIS_PORT=63810
export CACHELAB_BIN=$ROOT/build/release/src/cachelab
trap 'bash "$ROOT/scripts/backends.sh" stop >/dev/null' EXIT
bash "$ROOT/scripts/backends.sh" start >/dev/null
"$ROOT/scripts/node.sh" "$ROOT/tests/e2e/screenshots.mjs" "$ROOT/docs/screenshots"

#!/usr/bin/env bash
# Runs the Node.js that package-lock.json pins (npm's node-linux-<cpu>, installed by `npm ci`), else the one on
# PATH: the scripts then run on the same Node as the build and the tests (see CMakeLists.txt).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [[ -x $ROOT/node_modules/.bin/node ]]; then exec "$ROOT/node_modules/.bin/node" "$@"; fi
exec node "$@"

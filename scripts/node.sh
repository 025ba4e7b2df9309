#!/usr/bin/env bash
# Runs the Node.js that package-lock.json pins (npm's node-linux-<cpu>, installed by `npm ci`), else the one on
# PATH: the scripts then run on the same Node as the build and the tests (see CMakeLists.txt).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for pinned in "$ROOT"/node_modules/node-linux-{x64,arm64}/bin/node; do
  [[ -x $pinned ]] && exec "$pinned" "$@"
done
exec node "$@"

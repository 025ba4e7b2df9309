#!/usr/bin/env bash
# make faults: the fault suite (tests/integration/faults_itest.cpp) at full length — each fault held 5 s under
# 2,000 cached reads/s — against the release binary and a private PostgreSQL + Redis pair of its own, then the
# table of figures (also in build/faults-report.md). `make test` runs the same suite with 2 s faults.
set -euo pipefail
cd "$(dirname "$0")/.."

export CACHELAB_STATE_DIR=$PWD/build/faults-state PG_PORT=54370 REDIS_PORT=63840
export CACHELAB_BIN=$PWD/build/release/src/cachelab CACHELAB_BACKENDS=$PWD/scripts/backends.sh
export CACHELAB_SOURCE_DIR=$PWD CACHELAB_FAULTS=full CACHELAB_FAULTS_REPORT=$PWD/build/faults-report.md
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
trap 'bash scripts/backends.sh stop >/dev/null' EXIT

mkdir -p build
status=0
build/debug/tests/faults_itest --gtest_color=no >build/faults.log 2>&1 || status=$?
grep -E '^\||^\[  (PASSED|FAILED) |Failure|Expected|Which|actual' build/faults.log || true
echo "faults: $( ((status == 0)) && echo passed || echo "FAILED (build/faults.log)" ); table in build/faults-report.md"
exit $status

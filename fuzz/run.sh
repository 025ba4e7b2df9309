#!/usr/bin/env bash
# Runs one fuzz target for FUZZ_SECONDS (default 20) from the corpus in the repository, writing new inputs to
# the build tree (the repository's corpus changes only by hand: see docs/fuzzing.md). Fails on any crash,
# sanitizer report, leak, timeout (-timeout) or out-of-memory (-rss_limit_mb), and prints how to reproduce it.
set -euo pipefail
bin=$1 name=$2 src=$3 build=$4
seconds=${FUZZ_SECONDS:-20}
work=$build/corpus/$name
artifacts=$build/artifacts
mkdir -p "$work" "$artifacts"
dict=()
[[ -f $src/dict/$name.dict ]] && dict=(-dict="$src/dict/$name.dict")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
log=$build/$name.log
set +e
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "${dict[@]}" "$work" "$src/corpus/$name" >"$log" 2>&1
rc=$?
set -e
# The figures for the report: executions, speed, edges covered, corpus size.
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
grep -E '#[0-9]+.*(DONE|INITED)' "$log" | tail -2 || true
if ((rc != 0)); then
  tail -60 "$log"
  echo "fuzz target $name failed (exit $rc); reproduce with: $bin <artifact> (see $artifacts/)" >&2
  exit 1
fi

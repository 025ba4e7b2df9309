// loadgen/report: a finished run as people and scripts read it — a few lines of text, or a JSON document with
// every figure and the latency histogram's buckets (schema in docs/load-lab.md). Also the one-line progress
// report printed each second on a terminal, and its JSON-lines twin. Pure formatting; never measures.
#pragma once

#include "loadgen/runner.hpp"

#include <optional>
#include <string>

namespace cachelab::loadgen {

// What a report says about how the run was made, besides the figures.
struct RunDescription {
  std::string url;
  std::string workload;  // a workload's name, or "GET <path>"
  const LoadOptions* options = nullptr;
  std::optional<double> database_queries_per_second;  // from the server's /api/stats, when it is cachelab
};

double error_rate(const Report& r);
std::string to_text(const Report& r, const RunDescription& d);
std::string to_json(const Report& r, const RunDescription& d);
std::string progress_line(const Progress& p);
// One second as one JSON line (`cachelab load --timeline`): {"t", "warmup", "requests", "errors", "hits",
// "misses", "p50_ms", "p99_ms", "max_ms"}; for scripts that follow a run second by second, such as the fault
// suite.
std::string timeline_line(const Progress& p);

}  // namespace cachelab::loadgen

// loadgen/builtin: the workloads of bench/workloads/, compiled into the binary (as the SQL migrations are),
// so `cachelab load --workload zipf-0.99` and the dashboard's load lab work from any directory and in the
// container.
#pragma once

#include "loadgen/workload.hpp"

#include <span>
#include <string_view>

namespace cachelab::loadgen {

struct BuiltinWorkload {
  std::string_view file;  // e.g. "zipf-0.99.json"
  std::string_view json;
};

std::span<const BuiltinWorkload> builtin_workloads();

// `name_or_path`: a file to read, or the name of a built-in workload ("zipf-0.99", with or without ".json").
Result<Workload> find_workload(const std::string& name_or_path);

}  // namespace cachelab::loadgen

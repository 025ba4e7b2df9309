#include "loadgen/builtin.hpp"

#include <fmt/format.h>

#include <filesystem>

namespace cachelab::loadgen {

Result<Workload> find_workload(const std::string& name_or_path) {
  if (std::filesystem::is_regular_file(name_or_path)) return load_workload(name_or_path);
  std::string names;
  for (const auto& w : builtin_workloads()) {
    const auto stem = w.file.substr(0, w.file.size() - 5);  // without ".json"
    if (name_or_path == stem || name_or_path == w.file) return parse_workload(w.json, w.file);
    names += (names.empty() ? "" : ", ") + std::string(stem);
  }
  return invalid(
      "invalid_workload",
      fmt::format("'{}' is neither a workload file nor a built-in workload ({})", name_or_path, names));
}

}  // namespace cachelab::loadgen

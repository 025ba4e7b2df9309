// Fuzz target: what an operator writes: `cachelab serve`'s command line (CLI11 through config/), the Redis
// URL, the load generator's target URL and workload files.
// Properties: no sanitizer report and no exception but CLI11's own parse errors; an accepted value is usable
// (a Redis endpoint has a host and a database ≥ 0, a load target a port, a workload sends something and its
// key distribution draws keys within 1..n).
#include "config/config.hpp"
#include "cache/redis_connection.hpp"
#include "check.hpp"
#include "loadgen/runner.hpp"
#include "loadgen/workload.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using cachelab::fuzz::check;
using namespace cachelab;

void command_line(std::string_view in) {
  std::vector<std::string> args{"serve"};
  while (!in.empty() && args.size() < 64) {
    auto end = std::min(in.find('\0'), in.size());
    args.emplace_back(in.substr(0, end));
    in.remove_prefix(std::min(end + 1, in.size()));
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  CLI::App app;
  config::ServeConfig c;
  config::add_options(app, c);
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::Error&) {
    return;  // a usage error, reported to the operator
  }
  (void)config::validate(c);
  (void)config::io_threads(c);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 5) {
    case 0:
      command_line(in);
      break;
    case 1:
      if (auto e = cache::parse_redis_url(in)) check(!e->host.empty() && e->db >= 0, "unusable Redis URL");
      break;
    case 2:
      if (auto t = loadgen::parse_target_url(in)) check(!t->host.empty() && t->port != 0, "unusable target");
      break;
    case 3:
      if (auto w = loadgen::parse_workload(in, "fuzz")) {
        check(!w->mix.empty() || w->write_fraction > 0, "a workload that sends nothing");
        loadgen::KeySampler keys(w->keys, 1000);
        std::mt19937_64 rng(size);
        for (int i = 0; i < 16; ++i) {
          const auto k = keys.next(rng);
          check(k >= 1 && k <= 1000, "a key outside 1..n");
        }
      }
      break;
    case 4:
      if (auto d = config::parse_duration(in)) check(d->count() >= 0, "a negative duration");
      break;
  }
  return 0;
}

// `cachelab load`: load against a server from the command line (loadgen/runner does the work). Checks every
// input first and says what is wrong in one line (exit 2); prints a progress line each second on a terminal,
// then the report; exits 1 when the error rate passed --max-error-rate.
#include "app/commands.hpp"
#include "http/probe.hpp"
#include "loadgen/builtin.hpp"
#include "loadgen/report.hpp"
#include "loadgen/runner.hpp"
#include "loadgen/server.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>

namespace cachelab::app {
namespace {

using namespace std::chrono_literals;

int bad_input(std::string_view what) {
  fmt::print(stderr, "cachelab load: {}\n", what);
  return 2;
}

// The options the run needs, or what is wrong with the command line.
Result<loadgen::LoadOptions> options_from(const config::LoadConfig& c) {
  const auto bad = [](std::string what) { return invalid("invalid_argument", std::move(what)); };
  auto target = loadgen::parse_target_url(c.url);
  if (!target) return bad("--url: " + target.error().message);
  if (c.workload.empty() == c.target.empty())
    return bad("give either --workload FILE|NAME or --target /path");
  if (!c.target.empty() && c.target.front() != '/')
    return bad("--target must be a path that starts with '/'");
  if (c.rate && !(*c.rate > 0))
    return bad(fmt::format("--rate must be above 0 requests per second (got {})", *c.rate));
  if (c.connections && *c.connections < 1) return bad("--connections must be at least 1");
  if (c.threads < 1 || c.threads > 256) return bad("--threads must be from 1 to 256");
  if (!(c.max_error_rate >= 0 && c.max_error_rate <= 1)) return bad("--max-error-rate must be from 0 to 1");
  loadgen::LoadOptions o;
  o.target = *target;
  o.admin_token = c.admin_token;
  o.threads = c.threads;
  o.rate = c.rate.value_or(0);
  o.connections = c.connections.value_or(o.rate > 0 ? 32 : 64);
  auto timeout = config::parse_duration(c.timeout);
  if (!timeout || timeout->count() == 0)
    return bad("--timeout: '" + c.timeout + "' is not a duration like 10s");
  o.request_timeout = *timeout;
  std::chrono::milliseconds duration = 10s, warmup = 0s;
  if (!c.workload.empty()) {
    auto w = loadgen::find_workload(c.workload);
    if (!w) return bad(w.error().message);
    duration = w->duration;
    warmup = w->warmup;
    o.workload = std::move(*w);
  } else {
    o.path = c.target;
  }
  for (auto [flag, text, into] :
       {std::tuple{"--duration", &c.duration, &duration}, std::tuple{"--warmup", &c.warmup, &warmup}}) {
    if (text->empty()) continue;
    auto d = config::parse_duration(*text);
    if (!d) return bad(fmt::format("{}: '{}' is not a duration like 10s, 500ms or 2m", flag, *text));
    *into = *d;
  }
  if (duration.count() == 0) return bad("--duration must be above 0");
  o.duration = duration;
  o.warmup = warmup;
  return o;
}

}  // namespace

int run_load(const config::LoadConfig& c) {
  auto options = options_from(c);
  if (!options) return bad_input(options.error().message);
  auto& o = *options;
  // Reachable? Any HTTP answer will do.
  if (auto probe = http::probe(o.target.host, o.target.port, o.workload ? "/" : o.path, 3s); !probe) {
    return bad_input(fmt::format("cannot reach {}: {}", c.url, probe.error()));
  }
  if (o.workload && o.workload->keys.key_space == 0) {
    auto total = loadgen::catalog_size(o.target);
    if (!total || *total < 1) {
      return bad_input(
          fmt::format("workload '{}' draws keys from the catalog, but {}/products?limit=1 did not say "
                      "how many products there are",
                      o.workload->name, c.url));
    }
    o.key_space = *total;
  } else if (o.workload) {
    o.key_space = o.workload->keys.key_space;
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  std::ofstream timeline;
  if (!c.timeline.empty()) {
    timeline.open(c.timeline);
    if (!timeline) return bad_input("--timeline: cannot write " + c.timeline);
  }
  std::optional<std::int64_t> queries_before;
  auto run = loadgen::LoadRun::start(
      o,
      [tty, &timeline](const loadgen::Progress& p) {
        if (tty) fmt::print(stderr, "\r{}\x1b[K", loadgen::progress_line(p));
        if (timeline.is_open()) timeline << loadgen::timeline_line(p) << std::endl;  // flushed: read live
      },
      [&] {
        queries_before = loadgen::json_number(o.target, "/api/stats", {"app", "db_queries"});
      });
  auto report = run->wait();
  if (tty) fmt::print(stderr, "\r\x1b[K");
  const auto queries_after = loadgen::json_number(o.target, "/api/stats", {"app", "db_queries"});

  loadgen::RunDescription d{c.url, o.workload ? o.workload->name : "GET " + o.path, &o, std::nullopt};
  if (queries_before && queries_after && *queries_after >= *queries_before && report.seconds > 0) {
    d.database_queries_per_second = static_cast<double>(*queries_after - *queries_before) / report.seconds;
  }
  fmt::print("{}", loadgen::to_text(report, d));
  if (!c.json.empty()) {
    std::ofstream out(c.json);
    out << loadgen::to_json(report, d) << '\n';
    if (!out) return bad_input("--json: cannot write " + c.json);
  }
  if (loadgen::error_rate(report) > c.max_error_rate) {
    fmt::print(stderr, "cachelab load: error rate {:.2f}% is above --max-error-rate {:.2f}%\n",
               100 * loadgen::error_rate(report), 100 * c.max_error_rate);
    return 1;
  }
  return 0;
}

}  // namespace cachelab::app

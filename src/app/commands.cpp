#include "app/commands.hpp"

#include "api/handlers.hpp"
#include "core/log.hpp"
#include "db/catalog.hpp"
#include "db/migrate.hpp"
#include "db/seed.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace cachelab::app {
namespace {

bool init_logging(const std::string& level) {
  if (setup_logging(level)) return true;
  fmt::print(stderr, "--log-level / LOG_LEVEL: unknown level '{}'\n", level);
  return false;
}

}  // namespace

int run_migrate(const config::MigrateConfig& c) {
  if (!init_logging(c.log_level)) return 2;
  auto ran = db::migrate(c.database_url);
  if (!ran) {
    spdlog::error("event=migrate_failed detail=\"{}\"", ran.error().message);
    return 1;
  }
  spdlog::info("event=migrated applied={}", *ran);
  return 0;
}

int run_routes() {
  api::Router router;
  api::add_routes(router, nullptr);  // handlers are never called here, so no service is needed
  for (const auto& r : router.routes()) {
    fmt::print("{} {}\t{}\n", std::string_view(boost::beast::http::to_string(r.method)), r.pattern,
               r.summary);
  }
  return 0;
}

int run_explain(const config::ExplainConfig& c) {
  if (!init_logging(c.log_level)) return 2;
  auto plan = db::explain(c.database_url, c.endpoint);
  if (!plan) {
    spdlog::error("event=explain_failed detail=\"{}\"", plan.error().message);
    return 1;
  }
  fmt::print("{}", *plan);
  return 0;
}

int run_seed(const config::SeedConfig& c) {
  if (!init_logging(c.log_level)) return 2;
  if (auto ran = db::migrate(c.database_url); !ran) {
    spdlog::error("event=migrate_failed detail=\"{}\"", ran.error().message);
    return 1;
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  int last_percent = -1;
  auto progress = [&](std::int64_t done, std::int64_t total) {
    const int percent = static_cast<int>(done * 100 / total);
    if (percent == last_percent) return;
    last_percent = percent;
    const int width = 30, filled = percent * width / 100;
    fmt::print(stderr, "{}seeding [{:=<{}}{: <{}}] {:3}% {}/{} rows{}", tty ? "\r" : "", "", filled, "",
               width - filled, percent, done, total, tty ? "" : "\n");
    if (tty && done == total) fmt::print(stderr, "\n");
  };
  auto counts = db::seed(c.database_url, c.scale, c.force, progress);
  if (!counts) {
    spdlog::error("event=seed_failed detail=\"{}\"", counts.error().message);
    return 1;
  }
  spdlog::info("event=seeded scale={} categories={} products={} reviews={} already_loaded={}", c.scale,
               counts->categories, counts->products, counts->reviews, counts->already_loaded);
  return 0;
}

}  // namespace cachelab::app

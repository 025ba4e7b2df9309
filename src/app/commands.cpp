#include "app/commands.hpp"

#include "api/api.hpp"
#include "core/log.hpp"
#include "db/migrate.hpp"
#include "db/postgres.hpp"
#include "db/seed.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdio>
#include <optional>

namespace cachelab::app {
namespace {

bool init_logging(const std::string& level, const std::string& format) {
  // The format word was checked by the command line's parser.
  if (setup_logging(level, parse_log_format(format).value_or(LogFormat::text))) return true;
  fmt::print(stderr, "--log-level / LOG_LEVEL: unknown level '{}'\n", level);
  return false;
}

}  // namespace

int run_migrate(const config::MigrateConfig& c) {
  if (!init_logging(c.log_level, c.log_format)) return 2;
  auto ran = db::migrate(c.database_url);
  if (!ran) {
    spdlog::error("event=migrate_failed detail={}", log_quote(ran.error().message));
    return 1;
  }
  spdlog::info("event=migrated applied={}", *ran);
  return 0;
}

int run_routes() {
  for (const auto& e : api::endpoints()) {
    fmt::print("{} {}\t{}\n", std::string_view(boost::beast::http::to_string(e.method)), e.path, e.summary);
  }
  return 0;
}

// The same code as GET /api/explain (db::Inspector over a one-connection pool), on an event loop of its own.
int run_explain(const config::ExplainConfig& c) {
  if (!init_logging(c.log_level, c.log_format)) return 2;
  std::optional<Result<std::vector<model::QueryPlan>>> plans;
  {
    boost::asio::io_context ctx;
    auto pg = db::make_postgres(ctx.get_executor(), {.conninfo = c.database_url, .pool_size = 1});
    boost::asio::co_spawn(ctx, pg.inspector->explain(c.endpoint), [&plans](std::exception_ptr e, auto r) {
      if (!e) plans = std::move(r);
    });
    ctx.run();
  }
  if (!plans || !*plans) {
    spdlog::error("event=explain_failed detail={}",
                  log_quote(plans ? plans->error().message : "unexpected failure"));
    return 1;
  }
  for (const auto& p : **plans) {
    fmt::print("-- {}:{}\n", c.endpoint, p.sql);
    if (!p.params.empty()) {
      fmt::print("-- parameters:");
      for (std::size_t i = 0; i < p.params.size(); ++i) fmt::print(" ${}='{}'", i + 1, p.params[i]);
      fmt::print("\n");
    }
    fmt::print("{}\n", p.plan);
  }
  return 0;
}

int run_seed(const config::SeedConfig& c) {
  if (!init_logging(c.log_level, c.log_format)) return 2;
  if (auto ran = db::migrate(c.database_url); !ran) {
    spdlog::error("event=migrate_failed detail={}", log_quote(ran.error().message));
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
    spdlog::error("event=seed_failed detail={}", log_quote(counts.error().message));
    return 1;
  }
  spdlog::info("event=seeded scale={} categories={} products={} reviews={} already_loaded={}", c.scale,
               counts->categories, counts->products, counts->reviews, counts->already_loaded);
  return 0;
}

}  // namespace cachelab::app

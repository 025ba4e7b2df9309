// `cachelab serve`: the composition root. Builds one io_context per I/O thread and, for each, its own
// Redis connection, PostgreSQL pool, service and router (shared-nothing: no locks on the request path),
// then wires the routers and the dashboard's files into the generic HTTP server and handles SIGINT/SIGTERM
// by draining.
#include "api/handlers.hpp"
#include "app/commands.hpp"
#include "cache/redis_connection.hpp"
#include "core/log.hpp"
#include "db/migrate.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "web/dashboard.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <thread>

namespace cachelab::app {
namespace {

namespace asio = boost::asio;

// An io_context whose shutdown() (destroy every pending handler and coroutine, keep the services) can be
// called on its own, so every thread's coroutines are gone before any object they used is destroyed.
class IoContext : public asio::io_context {
 public:
  using asio::execution_context::shutdown;
  using asio::io_context::io_context;
};

struct Worker {
  std::unique_ptr<IoContext> context;
  std::shared_ptr<cache::RedisConnection> redis;
  std::shared_ptr<api::Router> router;
};

// Waits until every connection has closed or the grace period is over, then stops the event loops.
asio::awaitable<void> finish_drain(http::Server& server, std::vector<Worker>& workers,
                                   std::chrono::seconds grace) {
  asio::steady_timer tick(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (server.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(std::chrono::milliseconds(20));
    co_await tick.async_wait(asio::use_awaitable);
  }
  if (server.open_connections() > 0) {
    spdlog::warn("event=drain_timeout open_connections={}", server.open_connections());
  }
  for (auto& w : workers) {
    asio::post(*w.context, [redis = w.redis] { redis->stop(); });
  }
  for (auto& w : workers) w.context->stop();
}

}  // namespace

int run_serve(const config::ServeConfig& c) {
  if (!setup_logging(c.log_level)) {
    fmt::print(stderr, "--log-level / LOG_LEVEL: unknown level '{}'\n", c.log_level);
    return 2;
  }
  if (auto problem = config::validate(c); !problem.empty()) {
    fmt::print(stderr, "{}\n", problem);
    return 2;
  }
  if (auto problem = api::CorsPolicy::problem_with(c.cors_allow_origins); !problem.empty()) {
    fmt::print(stderr, "--cors-allow-origins / CORS_ALLOW_ORIGINS: {}\n", problem);
    return 2;
  }
  auto endpoint = cache::parse_redis_url(c.redis_url);
  if (!endpoint) {
    fmt::print(stderr, "--redis-url / REDIS_URL: {}\n", endpoint.error().message);
    return 2;
  }
  if (c.migrate) {
    // Before any I/O thread exists, so blocking here holds up nothing but start-up.
    if (auto ran = db::migrate(c.database_url); !ran) {
      spdlog::warn("event=migrate_skipped detail=\"{}\" note=\"serving anyway; /ready reports the database\"",
                   ran.error().message);
    }
  }

  const int threads = config::io_threads(c);
  const int pool_per_thread = std::max(1, (c.db_pool_size + threads - 1) / threads);
  auto counters = std::make_shared<service::Counters>();
  auto draining = std::make_shared<std::atomic<bool>>(false);
  const auto seconds = [](int s) { return std::chrono::milliseconds(std::int64_t{s} * 1000); };
  const service::Policy policy{seconds(c.cache_ttl_seconds),
                               seconds(config::ttl_or_default(c.products_ttl_seconds, c)),
                               seconds(config::ttl_or_default(c.categories_ttl_seconds, c)),
                               seconds(config::ttl_or_default(c.search_ttl_seconds, c)),
                               seconds(config::ttl_or_default(c.top_products_ttl_seconds, c)),
                               std::chrono::milliseconds(std::int64_t{c.negative_ttl_seconds} * 1000),
                               c.ttl_jitter,
                               std::chrono::milliseconds(3000),
                               std::chrono::milliseconds(10),
                               c.write_policy == "write-through" ? service::WritePolicy::write_through
                                                                 : service::WritePolicy::invalidate,
                               std::chrono::milliseconds(500),
                               std::chrono::milliseconds(std::int64_t{c.swr_seconds} * 1000),
                               {c.swr_endpoints.begin(), c.swr_endpoints.end()},
                               c.db_delay_ms};
  if (c.admin_token.empty()) {
    spdlog::warn(
        "event=admin_open note=\"ADMIN_TOKEN is not set: writes, flushes and demos are accepted from "
        "loopback "
        "clients only\"");
  } else {
    spdlog::info(
        "event=admin_token note=\"writes, flushes and demos need Authorization: Bearer <ADMIN_TOKEN>\"");
  }
  if (!c.cors_allow_origins.empty()) {
    spdlog::info("event=cors allow_origins=\"{}\"", fmt::join(c.cors_allow_origins, ","));
  }
  if (c.db_delay_ms > 0)
    spdlog::warn("event=simulated_db_delay ms={} note=\"added to every database read\"", c.db_delay_ms);
  std::vector<Worker> workers(threads);
  std::vector<asio::io_context*> contexts;
  std::vector<http::Handler> handlers;
  for (auto& w : workers) {
    w.context = std::make_unique<IoContext>(1);
    auto ex = w.context->get_executor();
    w.redis = cache::RedisConnection::create(
        ex, cache::RedisConnection::Options{*endpoint, std::chrono::milliseconds(c.redis_timeout_ms)});
    auto catalog = db::make_pg_catalog(
        ex, db::CatalogOptions{c.database_url, pool_per_thread, c.db_timeout_ms, c.db_delay_ms});
    auto svc = std::make_shared<service::CatalogService>(ex, cache::make_redis_store(w.redis), catalog,
                                                         counters, policy);
    w.router = std::make_shared<api::Router>();
    api::add_routes(*w.router, svc,
                    api::ApiOptions{.admin_token = c.admin_token,
                                    .draining = draining,
                                    .cors = api::CorsPolicy(c.cors_allow_origins)});
    contexts.push_back(w.context.get());
    handlers.push_back([router = w.router](http::Request& req, const http::Peer& peer) {
      return router->dispatch(req, api::Caller{peer.address, peer.loopback});
    });
  }

  http::ServerOptions options;
  options.host = c.host;
  options.port = c.port;
  options.max_body_bytes = c.max_body_bytes;
  options.max_header_bytes = c.max_header_bytes;
  options.access_log = c.access_log;
  options.on_error = [](auto status, std::string_view code, std::string_view message) {
    return api::error_response(status, code, message);
  };
  // The dashboard at "/" and its assets; every other path goes to the API's router.
  http::StaticFilesOptions dashboard;
  dashboard.on_error = options.on_error;
  options.static_files = std::make_shared<http::StaticFiles>(web::dashboard_files(), std::move(dashboard));
  auto server_owner = std::make_unique<http::Server>(contexts, std::move(handlers), options);
  http::Server& server = *server_owner;
  std::uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::exception& e) {
    spdlog::error("event=listen_failed host={} port={} error=\"{}\"", c.host, c.port, e.what());
    return 1;
  }
  server.start();
  for (auto& w : workers) asio::post(*w.context, [redis = w.redis] { redis->start(); });

  asio::io_context& main = *workers[0].context;
  auto signals = std::make_unique<asio::signal_set>(main, SIGINT, SIGTERM);
  signals->async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("event=shutdown signal={} grace_s={}", sig, c.shutdown_grace_seconds);
    draining->store(true);
    server.drain();
    asio::co_spawn(main, finish_drain(server, workers, std::chrono::seconds(c.shutdown_grace_seconds)),
                   asio::detached);
  });

  spdlog::info("event=listening host={} port={} threads={} db_pool_per_thread={} ttl_s={}", c.host, port,
               threads, pool_per_thread, c.cache_ttl_seconds);
  // Tests and scripts wait for this exact line on stdout.
  fmt::print("listening on {}:{}\n", c.host, port);
  std::fflush(stdout);

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& w : workers) guards.push_back(asio::make_work_guard(*w.context));
  std::vector<std::thread> pool;
  for (std::size_t i = 1; i < workers.size(); ++i) pool.emplace_back([&w = workers[i]] { w.context->run(); });
  main.run();
  for (auto& t : pool) t.join();
  guards.clear();

  // Tear-down order matters: first destroy every suspended coroutine on every thread (they hold sockets,
  // timers and pooled connections), then the objects they used, and the io_contexts last.
  for (auto& w : workers) w.context->shutdown();
  signals.reset();
  server.close();
  server_owner.reset();
  for (auto& w : workers) {
    w.router.reset();
    w.redis.reset();
  }
  for (auto& w : workers) w.context.reset();
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace cachelab::app

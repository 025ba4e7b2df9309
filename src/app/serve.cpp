// `cachelab serve`: the composition root. Checks the configuration, builds one io_context per I/O thread
// and, for each, its own Redis connection, PostgreSQL pool, services and router (shared-nothing: no locks on
// the request path), wires the routers and the dashboard's files into the generic HTTP server, runs until
// SIGINT/SIGTERM, drains, and tears everything down in an order that leaves no coroutine behind.
#include "api/api.hpp"
#include "app/commands.hpp"
#include "app/heap_trim.hpp"
#include "app/limits.hpp"
#include "app/policy.hpp"
#include "app/process_metrics.hpp"
#include "cache/inspector.hpp"
#include "cache/invalidation_listener.hpp"
#include "cache/keys.hpp"
#include "cache/near_cache.hpp"
#include "cache/redis_connection.hpp"
#include "cache/store.hpp"
#include "core/log.hpp"
#include "db/migrate.hpp"
#include "db/postgres.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "lab/lab.hpp"
#include "service/admin_service.hpp"
#include "service/catalog_service.hpp"
#include "web/dashboard.hpp"

#include <csignal>
#include <optional>

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
#include <boost/asio/use_future.hpp>

#include <future>
#include <optional>
#include <thread>

namespace cachelab::app {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// An io_context whose shutdown() (destroy every pending handler and coroutine, keep the services) can be
// called on its own, so every thread's coroutines are gone before any object they used is destroyed.
class IoContext : public asio::io_context {
 public:
  using asio::execution_context::shutdown;
  using asio::io_context::io_context;
};

// One I/O thread's world.
struct Worker {
  std::unique_ptr<IoContext> context;
  std::shared_ptr<cache::RedisConnection> redis;
  std::shared_ptr<cache::RedisConnection> redis_writes;  // invalidations that WAIT for replicas; else null
  std::shared_ptr<service::AdminService> admin;
  std::shared_ptr<api::Router> router;
  std::shared_ptr<cache::NearCache> near;                 // null when --l1-max-bytes is 0
  std::shared_ptr<cache::InvalidationListener> listener;  // the process's one, on the first worker
};

// The near cache's process-wide parts: the invalidation log every worker's NearCache applies, and the
// listener that feeds it (created on the first worker's event loop).
struct NearTier {
  std::shared_ptr<cache::InvalidationLog> log;
  std::shared_ptr<cache::InvalidationListener> listener;
};

// What every worker shares: the metrics registry and the app's counters in it (per-thread cells), the drain
// flag (an atomic), the TTL override and the lab (which locks inside).
struct Shared {
  const config::ServeConfig& config;
  cache::RedisEndpoint redis;
  service::Policy policy;
  api::ApiOptions api;
  int pool_per_thread;
  std::shared_ptr<metrics::Registry> metrics;  // what GET /metrics writes out
  std::shared_ptr<service::Counters> counters;
  db::PoolMetrics pool_metrics;
  cache::RedisMetrics redis_metrics;
  std::shared_ptr<service::Overrides> overrides = std::make_shared<service::Overrides>();
  // This process's last write's WAL position, for every thread's catalog (see db::Catalog::written()).
  std::shared_ptr<std::atomic<std::uint64_t>> own_writes = std::make_shared<std::atomic<std::uint64_t>>(0);
  std::shared_ptr<lab::Lab> lab;
};

// The flags' values that must be right before anything starts; a problem is printed and ends the run.
std::optional<cache::RedisEndpoint> check(const config::ServeConfig& c) {
  if (auto problem = config::validate(c); !problem.empty()) {
    fmt::print(stderr, "{}\n", problem);
    return std::nullopt;
  }
  if (auto problem = api::CorsPolicy::problem_with(c.cors_allow_origins); !problem.empty()) {
    fmt::print(stderr, "--cors-allow-origins / CORS_ALLOW_ORIGINS: {}\n", problem);
    return std::nullopt;
  }
  auto endpoint = cache::parse_redis_url(c.redis_url);
  if (!endpoint) {
    fmt::print(stderr, "--redis-url / REDIS_URL: {}\n", endpoint.error().message);
    return std::nullopt;
  }
  return *endpoint;
}

// Says once, at start-up, what a user could otherwise be surprised by.
void announce(const config::ServeConfig& c) {
  if (c.admin_token.empty()) {
    spdlog::warn(
        "event=admin_open note=\"ADMIN_TOKEN is not set: writes, flushes and demos are accepted from "
        "loopback clients only\"");
  } else {
    spdlog::info(
        "event=admin_token note=\"writes, flushes and demos need Authorization: Bearer <ADMIN_TOKEN>\"");
  }
  if (!c.cors_allow_origins.empty()) {
    spdlog::info("event=cors allow_origins={}",
                 log_quote(fmt::format("{}", fmt::join(c.cors_allow_origins, ","))));
  }
  if (c.db_delay_ms > 0) {
    spdlog::warn("event=simulated_db_delay ms={} note=\"added to every database read\"", c.db_delay_ms);
  }
}

Worker make_worker(const Shared& shared, NearTier& near, int threads) {
  const auto& c = shared.config;
  Worker w;
  w.context = std::make_unique<IoContext>(1);
  auto ex = w.context->get_executor();
  cache::RedisConnection::Options redis_options{
      .endpoint = shared.redis, .timeout = milliseconds(c.redis_timeout_ms), .metrics = shared.redis_metrics};
  if (near.log) {
    if (!near.listener) {
      near.listener = std::make_shared<cache::InvalidationListener>(ex, shared.redis, near.log);
      w.listener = near.listener;
    }
    // What Redis tracked for a lost connection is gone with it: no entry it fed may be served any more.
    redis_options.on_disconnect = [log = near.log] { log->publish_everything(); };
    w.near = std::make_shared<cache::NearCache>(c.l1_max_bytes / static_cast<std::size_t>(threads), near.log,
                                                cache::keys::generation());
  }
  // Invalidations that WAIT for replicas get a connection of their own: WAIT holds its connection.
  cache::WriteOptions writes{
      .wait_replicas = config::wait_replicas(c),
      .wait_timeout = std::min(milliseconds(50), milliseconds(c.redis_timeout_ms) / 2)};
  if (writes.wait_replicas > 0) {
    auto write_options = redis_options;
    write_options.on_disconnect = nullptr;  // reads are not tracked on it
    w.redis_writes = cache::RedisConnection::create(ex, std::move(write_options));
    writes.connection = w.redis_writes;
  }
  w.redis = cache::RedisConnection::create(ex, std::move(redis_options));
  const bool replica = !c.database_read_url.empty();
  auto store = cache::make_redis_store(w.redis, near.listener, replica, writes);
  auto pg = db::make_postgres(ex, {.conninfo = c.database_url,
                                   .read_conninfo = c.database_read_url,
                                   .own_writes = shared.own_writes,
                                   .pool_size = shared.pool_per_thread,
                                   .pipeline_depth = c.db_pipeline_depth,
                                   .timeout = milliseconds(c.db_timeout_ms),
                                   .connect_timeout = milliseconds(c.db_connect_timeout_ms),
                                   .ping_timeout = milliseconds(c.ready_timeout_ms),
                                   .outage_wait = milliseconds(c.db_outage_wait_ms),
                                   .read_delay = milliseconds(c.db_delay_ms),
                                   .metrics = shared.pool_metrics,
                                   .slow_query = milliseconds(c.slow_query_ms)});
  w.admin = std::make_shared<service::AdminService>(cache::make_redis_inspector(w.redis), store, pg.inspector,
                                                    shared.counters, shared.policy);
  api::Services services{.catalog = std::make_shared<service::CatalogService>(
                             ex, store, pg.catalog, shared.counters, shared.policy, shared.overrides,
                             service::CacheAside::Near{w.near, near.log}),
                         .admin = w.admin,
                         .lab = shared.lab};
  w.router = std::make_shared<api::Router>();
  api::add_routes(*w.router, std::move(services), shared.api);
  return w;
}

// Runs `make()`'s coroutine on `ex` (an I/O thread) for a caller on another thread, waiting at most 2 s.
// `make` owns what the coroutine needs, so a late completion touches nothing the caller has let go.
template <class Make>
auto on_io(asio::any_io_executor ex, Make make) -> std::optional<typename decltype(make())::value_type> {
  auto done = asio::co_spawn(ex, std::move(make), asio::use_future);
  if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) return std::nullopt;
  return done.get();
}

// What the load lab may ask of the server: figures, Redis settings, the TTL override and a flush, each
// through worker 0's services on its own event loop.
lab::Hooks lab_hooks(const Worker& first, const Shared& shared) {
  const auto ex = first.context->get_executor();
  const auto admin = first.admin;
  const auto late = [] { return make_error(ErrorKind::timeout, "the server did not answer the lab in 2 s"); };
  lab::Hooks h;
  h.figures = [=, counters = shared.counters] {
    lab::Hooks::Figures f;
    f.db_queries = counters->snapshot().db_queries;
    auto stats = on_io(ex, [admin]() { return admin->cache_stats(false); });
    if (stats && stats->redis) {
      f.used_memory = stats->redis->used_memory;
      f.evicted_keys = stats->redis->evicted_keys;
    }
    return f;
  };
  h.redis_setting = [=](const std::string& name) -> Result<std::string> {
    auto r = on_io(ex, [admin, name]() -> asio::awaitable<Result<std::string>> {
      co_return co_await admin->redis_setting(name);
    });
    return r ? *r : late();
  };
  h.change_redis_setting = [=](const std::string& name, const std::string& value) -> Result<void> {
    auto r = on_io(ex, [admin, name, value]() -> asio::awaitable<Result<void>> {
      co_return co_await admin->change_redis_setting(name, value);
    });
    return r ? *r : Result<void>(late());
  };
  h.override_ttl = [overrides = shared.overrides](std::chrono::milliseconds ttl) {
    overrides->ttl_ms = ttl.count();
  };
  h.flush = [=]() -> Result<std::int64_t> {
    auto r = on_io(ex, [admin]() { return admin->clear_cache(); });
    return r ? *r : late();
  };
  return h;
}

http::ServerOptions server_options(const config::ServeConfig& c) {
  http::ServerOptions o;
  o.host = c.host;
  o.port = c.port;
  o.max_body_bytes = c.max_body_bytes;
  o.max_header_bytes = c.max_header_bytes;
  o.idle_timeout = std::chrono::seconds(c.idle_timeout_seconds);
  o.header_timeout = std::chrono::seconds(c.header_timeout_seconds);
  o.max_connections = c.max_connections > 0 ? static_cast<std::size_t>(c.max_connections)
                                            : default_max_connections(raise_descriptor_limit());
  o.on_error = [](auto status, std::string_view code, std::string_view message) {
    return api::error_response(status, code, message);
  };
  // The dashboard at "/" and its assets; every other path goes to the API's router.
  http::StaticFilesOptions dashboard;
  dashboard.on_error = o.on_error;
  o.static_files = std::make_shared<http::StaticFiles>(web::dashboard_files(), std::move(dashboard));
  return o;
}

// Waits until every connection has closed and the lab has put back what it changed, or the grace period is
// over, then stops the event loops.
asio::awaitable<void> finish_drain(http::Server& server, std::vector<Worker>& workers, const lab::Lab& lab,
                                   std::chrono::seconds grace) {
  asio::steady_timer tick(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while ((server.open_connections() > 0 || lab.busy()) && std::chrono::steady_clock::now() < deadline) {
    tick.expires_after(milliseconds(20));
    co_await tick.async_wait(asio::use_awaitable);
  }
  if (server.open_connections() > 0) {
    spdlog::warn("event=drain_timeout open_connections={}", server.open_connections());
  }
  for (auto& w : workers) {
    asio::post(*w.context, [redis = w.redis, writes = w.redis_writes, listener = w.listener] {
      redis->stop();
      if (writes) writes->stop();
      if (listener) listener->stop();
    });
  }
  for (auto& w : workers) w.context->stop();
}

// Runs every worker's event loop (the first on this thread) until the drain after a signal stops them.
// A second SIGTERM or SIGINT while the first one's drain runs changes nothing (it is said in the log); the
// set is the caller's, so that it keeps the signals handled through the clean-up after the event loops stop.
void ignore_further_signals(asio::signal_set& signals) {
  signals.async_wait([&signals](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("event=shutdown_under_way signal={}", sig);
    ignore_further_signals(signals);
  });
}

void run_until_stopped(const config::ServeConfig& c, http::Server& server, std::vector<Worker>& workers,
                       lab::Lab& lab, std::atomic<bool>& draining, asio::signal_set& signals) {
  asio::io_context& main = *workers[0].context;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    ignore_further_signals(signals);
    spdlog::info("event=shutdown signal={} grace_s={}", sig, c.shutdown_grace_seconds);
    draining.store(true);
    lab.stop();  // its run ends and it puts Redis settings back while the event loops still run
    server.drain();
    asio::co_spawn(main, finish_drain(server, workers, lab, std::chrono::seconds(c.shutdown_grace_seconds)),
                   asio::detached);
  });
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& w : workers) guards.push_back(asio::make_work_guard(*w.context));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < workers.size(); ++i)
    threads.emplace_back([&w = workers[i]] { w.context->run(); });
  main.run();
  for (auto& t : threads) t.join();
  // Destroy every suspended coroutine on every thread (they hold sockets, timers and pooled connections)
  // while the objects they use still exist; the caller destroys those next, the io_contexts last.
  for (auto& w : workers) w.context->shutdown();
}

}  // namespace

int run_serve(const config::ServeConfig& c) {
  if (!setup_logging(c.log_level, parse_log_format(c.log_format).value_or(LogFormat::text))) {
    fmt::print(stderr, "--log-level / LOG_LEVEL: unknown level '{}'\n", c.log_level);
    return 2;
  }
  auto redis = check(c);
  if (!redis) return 2;
  if (c.migrate) {
    // Before any I/O thread exists, so blocking here holds up nothing but start-up.
    if (auto ran = db::migrate(c.database_url); !ran) {
      spdlog::warn("event=migrate_skipped detail={} note=\"serving anyway; /ready reports the database\"",
                   log_quote(ran.error().message));
    }
  }
  announce(c);

  const int threads = config::io_threads(c);
  auto draining = std::make_shared<std::atomic<bool>>(false);
  auto registry = std::make_shared<metrics::Registry>();
  std::vector<std::string> route_labels;
  for (const auto& e : api::endpoints()) route_labels.emplace_back(e.path);
  auto request_metrics =
      std::make_shared<api::RequestMetrics>(*registry, std::move(route_labels), c.access_log);
  const Shared shared{.config = c,
                      .redis = *redis,
                      .policy = policy_from(c),
                      .api = {.admin_token = c.admin_token,
                              .draining = draining,
                              .cors = api::CorsPolicy(c.cors_allow_origins),
                              .db_delay_ms = c.db_delay_ms,
                              .metrics = registry,
                              .request_metrics = request_metrics},
                      .pool_per_thread = std::max(1, (c.db_pool_size + threads - 1) / threads),
                      .metrics = registry,
                      .counters = std::make_shared<service::Counters>(registry.get()),
                      .pool_metrics = db::PoolMetrics::on(*registry),
                      .redis_metrics = cache::RedisMetrics::on(*registry),
                      .lab = std::make_shared<lab::Lab>(loadgen::Target{}, lab::Hooks{}, c.admin_token)};
  add_process_metrics(*registry);
  add_near_cache_metrics(*registry, shared.counters);
  std::vector<Worker> workers;
  std::vector<asio::io_context*> contexts;
  std::vector<http::Handler> handlers;
  NearTier near;
  if (c.l1_max_bytes > 0) near.log = std::make_shared<cache::InvalidationLog>();
  for (int i = 0; i < threads; ++i) {
    auto& w = workers.emplace_back(make_worker(shared, near, threads));
    contexts.push_back(w.context.get());
    handlers.push_back(
        [router = w.router](http::Request& req, const http::Peer& peer, http::BodyStream& stream) {
          return router->dispatch(req, api::Caller{peer.address, peer.loopback}, &stream);
        });
  }

  if (near.log) {
    std::vector<std::shared_ptr<const cache::NearCache>> shards;
    for (const auto& w : workers) shards.push_back(w.near);
    shared.counters->set_near_source(
        [shards, log = near.log, listener = near.listener, max = c.l1_max_bytes] {
          service::NearSnapshot n;
          n.listening = !log->blind();
          n.max_bytes = static_cast<std::int64_t>(max);
          for (const auto& shard : shards) {
            const auto s = shard->stats();
            n.bytes += static_cast<std::int64_t>(s.bytes);
            n.entries += static_cast<std::int64_t>(s.entries);
            n.hits += static_cast<std::int64_t>(s.hits);
            n.misses += static_cast<std::int64_t>(s.misses);
            n.evictions += static_cast<std::int64_t>(s.evictions);
            n.invalidated += static_cast<std::int64_t>(s.invalidated);
            n.refused += static_cast<std::int64_t>(s.refused);
            n.flushes += static_cast<std::int64_t>(s.flushes);
          }
          n.invalidation_messages = static_cast<std::int64_t>(listener->messages());
          n.invalidated_keys = static_cast<std::int64_t>(listener->keys());
          const auto lag = listener->lag();
          n.lag_samples = lag.samples;
          n.lag_lost = lag.lost;
          n.deaf_periods = lag.deaf_periods;
          n.lag_last_ms = lag.last_ms;
          n.lag_p50_ms = lag.p50_ms;
          n.lag_max_ms = lag.max_ms;
          return n;
        });
  }

  auto options = server_options(c);
  options.on_static_answer = [request_metrics](const http::Request& req, const http::Response& res,
                                               const http::Peer& peer, std::chrono::nanoseconds took) {
    request_metrics->record({request_metrics->static_files(), req, res, peer.address, took});
  };
  auto server = std::make_unique<http::Server>(contexts, std::move(handlers), std::move(options));
  add_server_metrics(*registry, *server);
  std::uint16_t port = 0;
  try {
    port = server->listen();
  } catch (const std::exception& e) {
    spdlog::error("event=listen_failed host={} port={} error={}", c.host, c.port, log_quote(e.what()));
    return 1;
  }
  // The lab loads this server through its public port; on a wildcard address, through loopback.
  const bool wildcard = c.host == "0.0.0.0" || c.host == "::";
  shared.lab->aim(loadgen::Target{wildcard ? (c.host == "::" ? "::1" : "127.0.0.1") : c.host, port});
  shared.lab->set_hooks(lab_hooks(workers[0], shared));
  server->start();
  for (auto& w : workers) {
    asio::post(*w.context, [redis = w.redis, writes = w.redis_writes, listener = w.listener] {
      if (listener) listener->start();
      redis->start();
      if (writes) writes->start();
    });
  }
  spdlog::info(
      "event=listening host={} port={} threads={} db_pool_per_thread={} ttl_s={} max_connections={} "
      "descriptor_limit={} read_replica={} redis_wait_replicas={}",
      c.host, port, threads, shared.pool_per_thread, c.cache_ttl_seconds, server->max_connections(),
      raise_descriptor_limit(), c.database_read_url.empty() ? "no" : "yes", config::wait_replicas(c));
  fmt::print("listening on {}:{}\n", c.host, port);  // tests and scripts wait for this exact line on stdout
  std::fflush(stdout);
  // Gives the heap's free pages back to the kernel every few seconds, from a thread of its own.
  const HeapTrimmer trimmer(std::chrono::seconds(c.heap_trim_seconds));

  // Created before the event loops run and kept until the io_contexts go: a signal during the clean-up below
  // is handled (and ignored) rather than killing the process mid-way with the default action.
  std::optional<asio::signal_set> signals(std::in_place, *workers[0].context, SIGINT, SIGTERM);
  run_until_stopped(c, *server, workers, *shared.lab, *draining, *signals);

  shared.lab->shutdown();  // joined before the services its hooks use go away
  server->close();
  server.reset();
  // Everything holding I/O objects goes before any io_context: the near cache's listener (on the first
  // worker's context) is also held by the statistics source, the NearTier and every worker's Redis store.
  shared.counters->set_near_source(nullptr);
  near.listener.reset();
  for (auto& w : workers) {
    w.router.reset();
    w.admin.reset();
    w.redis.reset();
    w.redis_writes.reset();
    w.listener.reset();
  }
  // From here to exit a signal is ignored: the set's handler goes with it and the default action would kill
  // us.
  signals.reset();
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, SIG_IGN);
  workers.clear();  // the io_contexts last
  spdlog::info("event=stopped");
  return 0;
}

}  // namespace cachelab::app

#include "config/config.hpp"

#include <fmt/format.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>
#include <thread>

namespace cachelab::config {
namespace {

void add_common(CLI::App& app, std::string& database_url, std::string& log_level, std::string& log_format) {
  app.add_option("--database-url", database_url, "PostgreSQL connection URL")
      ->envname("DATABASE_URL")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->envname("LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", log_format,
                 "text (key=value) | json (one object per line) | auto (text on a terminal, JSON otherwise)")
      ->envname("LOG_FORMAT")
      ->check(CLI::IsMember({"text", "json", "auto"}))
      ->capture_default_str();
}

}  // namespace

void add_options(CLI::App& app, ServeConfig& c) {
  add_common(app, c.database_url, c.log_level, c.log_format);
  app.add_option("--host", c.host, "Address to listen on")->envname("HOST")->capture_default_str();
  app.add_option("--port", c.port, "TCP port to listen on (0 picks a free one)")
      ->envname("PORT")
      ->capture_default_str();
  app.add_option("--threads", c.threads, "I/O threads (0 = one per core)")
      ->envname("THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--database-read-url", c.database_read_url,
                 "a PostgreSQL streaming replica for reads (cache misses, bypass); a read goes there only "
                 "once it has replayed the last write (else to --database-url); empty = none")
      ->envname("DATABASE_READ_URL")
      ->capture_default_str();
  app.add_option(
         "--redis-url", c.redis_url,
         "Redis URL: redis://[:password@]host:port[/db], or "
         "redis+cluster://[:password@]host:port[,host:port...] for a Redis Cluster (the nodes to ask first)")
      ->envname("REDIS_URL")
      ->capture_default_str();
  app.add_option("--l1-max-bytes", c.l1_max_bytes,
                 "the in-process near cache's memory budget, bytes (0 = off; kept correct by Redis's "
                 "client-side-caching invalidations)")
      ->envname("L1_MAX_BYTES")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 34))
      ->capture_default_str();
  app.add_option("--cache-ttl-seconds", c.cache_ttl_seconds, "TTL of cached answers, seconds")
      ->envname("CACHE_TTL_SECONDS")
      ->check(CLI::Range(1, 86400 * 30))
      ->capture_default_str();
  const auto ttl_flag = [&](const char* flag, const char* env, int& value, const char* what) {
    app.add_option(flag, value, std::string("TTL of ") + what + ", seconds (0 = --cache-ttl-seconds)")
        ->envname(env)
        ->check(CLI::Range(0, 86400 * 30))
        ->capture_default_str();
  };
  ttl_flag("--products-ttl-seconds", "PRODUCTS_TTL_SECONDS", c.products_ttl_seconds, "GET /products pages");
  ttl_flag("--categories-ttl-seconds", "CATEGORIES_TTL_SECONDS", c.categories_ttl_seconds, "/api/categories");
  ttl_flag("--search-ttl-seconds", "SEARCH_TTL_SECONDS", c.search_ttl_seconds, "/api/products searches");
  ttl_flag("--top-products-ttl-seconds", "TOP_PRODUCTS_TTL_SECONDS", c.top_products_ttl_seconds,
           "/api/top-products");
  app.add_option("--db-delay-ms", c.db_delay_ms,
                 "Simulated latency added before every database read (waits on a timer; holds no connection)")
      ->envname("DB_DELAY_MS")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_option("--negative-ttl-seconds", c.negative_ttl_seconds, "TTL of a cached 'product not found'")
      ->envname("NEGATIVE_TTL_SECONDS")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app.add_option("--ttl-jitter", c.ttl_jitter,
                 "Spread each TTL by ±this fraction so keys do not expire together")
      ->envname("TTL_JITTER")
      ->check(CLI::Range(0.0, 0.5))
      ->capture_default_str();
  app.add_option(
         "--write-policy", c.write_policy,
         "After a write: 'invalidate' (delete; next read reloads) or 'write-through' (store the new value)")
      ->envname("WRITE_POLICY")
      ->check(CLI::IsMember({"invalidate", "write-through"}))
      ->capture_default_str();
  app.add_option(
         "--swr-seconds", c.swr_seconds,
         "Stale-while-revalidate: serve entries up to this long past their TTL while one request refreshes "
         "them in the background (0 = off)")
      ->envname("SWR_SECONDS")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_option("--swr-endpoints", c.swr_endpoints, "Endpoints that opt in to stale-while-revalidate")
      ->envname("SWR_ENDPOINTS")
      ->delimiter(',')
      ->check(CLI::IsMember({"product", "products", "categories", "search", "top-products"}))
      ->capture_default_str();
  app.add_option("--admin-token", c.admin_token,
                 "Bearer token for writes, flushes and demos; unset: accepted from loopback clients only")
      ->envname("ADMIN_TOKEN");
  app.add_option("--cors-allow-origins", c.cors_allow_origins,
                 "Origins whose pages may call the API from a browser (CORS): a comma-separated list of "
                 "scheme://host[:port], or '*' for any; unset: none (same-origin only)")
      ->envname("CORS_ALLOW_ORIGINS")
      ->delimiter(',');
  app.add_option("--db-pool-size", c.db_pool_size, "PostgreSQL connections per process")
      ->envname("DB_POOL_SIZE")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--db-pipeline-depth", c.db_pipeline_depth,
                 "Requests whose queries may be in flight on one PostgreSQL connection at once, pipelined "
                 "once every pooled connection is busy (1: one at a time; 4 measured 1.5-1.9x the database "
                 "path's throughput of 1 with no worse p99, see docs/performance.md)")
      ->envname("DB_PIPELINE_DEPTH")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--db-timeout-ms", c.db_timeout_ms, "Deadline of one database query, ms")
      ->envname("DB_TIMEOUT_MS")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  app.add_option("--db-connect-timeout-ms", c.db_connect_timeout_ms,
                 "Deadline for opening one PostgreSQL connection, ms (within --db-timeout-ms)")
      ->envname("DB_CONNECT_TIMEOUT_MS")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  app.add_option("--ready-timeout-ms", c.ready_timeout_ms, "Deadline of /ready's check of PostgreSQL, ms")
      ->envname("READY_TIMEOUT_MS")
      ->check(CLI::Range(10, 60000))
      ->capture_default_str();
  app.add_option(
         "--db-outage-wait-ms", c.db_outage_wait_ms,
         "How long requests keep trying to connect while PostgreSQL refuses (a restart), ms; past it "
         "the pool's circuit breaker opens and they get 503 at once, until a try every 100 ms connects")
      ->envname("DB_OUTAGE_WAIT_MS")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  app.add_option("--redis-timeout-ms", c.redis_timeout_ms, "Deadline of one Redis round trip, ms")
      ->envname("REDIS_TIMEOUT_MS")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option(
         "--redis-wait-replicas", c.redis_wait_replicas,
         "After a write's invalidation, wait (WAIT) until this many Redis replicas have it, for up to "
         "min(50, --redis-timeout-ms / 2) ms, on a connection kept for writes; one they do not acknowledge "
         "is "
         "sent again until they do (for up to 30 s), so a failover cannot bring the old value back for a "
         "whole TTL. -1: 1 with a redis+cluster:// URL, 0 (no WAIT) with redis://")
      ->envname("REDIS_WAIT_REPLICAS")
      ->check(CLI::Range(-1, 16))
      ->capture_default_str();
  app.add_option("--max-body-bytes", c.max_body_bytes, "Largest request body accepted (413 above)")
      ->envname("MAX_BODY_BYTES")
      ->check(CLI::Range(std::size_t{0}, std::size_t{16} << 20))
      ->capture_default_str();
  app.add_option("--max-header-bytes", c.max_header_bytes, "Largest request head accepted (431 above)")
      ->envname("MAX_HEADER_BYTES")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 20))
      ->capture_default_str();
  app.add_option(
         "--max-connections", c.max_connections,
         "Connections open at once; from 90% on the oldest idle ones are closed, past it new ones get "
         "503 (0 = the descriptor limit less a 10% reserve)")
      ->envname("MAX_CONNECTIONS")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str();
  app.add_option("--idle-timeout-seconds", c.idle_timeout_seconds,
                 "How long a kept-alive connection may wait for its next request")
      ->envname("IDLE_TIMEOUT_SECONDS")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--header-timeout-seconds", c.header_timeout_seconds,
                 "Deadline for a complete request head from its first byte (a new connection's: from accept)")
      ->envname("HEADER_TIMEOUT_SECONDS")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  app.add_option("--shutdown-grace-seconds", c.shutdown_grace_seconds,
                 "On SIGTERM/SIGINT, how long in-flight requests may take to finish")
      ->envname("SHUTDOWN_GRACE_SECONDS")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  app.add_option("--migrate", c.migrate, "Apply pending SQL migrations at start-up (true|false)")
      ->envname("MIGRATE")
      ->capture_default_str();
  app.add_flag("--access-log", c.access_log, "Log one line per request")->envname("ACCESS_LOG");
  app.add_option("--slow-query-ms", c.slow_query_ms,
                 "Log a database round trip that takes longer, with its statement and parameters (0: never)")
      ->envname("SLOW_QUERY_MS")
      ->check(CLI::Range(0, 3600000))
      ->capture_default_str();
  app.add_option("--heap-trim-seconds", c.heap_trim_seconds,
                 "Give the heap's free pages back to the kernel this often, as jemalloc does (0: never)")
      ->envname("HEAP_TRIM_SECONDS")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
}

void add_options(CLI::App& app, SeedConfig& c) {
  add_common(app, c.database_url, c.log_level, c.log_format);
  app.add_option("--scale", c.scale, "Multiply products and reviews (1 = 500 products, 5,000 reviews)")
      ->envname("SEED_SCALE")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_flag("--force", c.force, "Reload even when the data set is already there");
}

void add_options(CLI::App& app, MigrateConfig& c) {
  add_common(app, c.database_url, c.log_level, c.log_format);
}

void add_options(CLI::App& app, ExplainConfig& c) {
  add_common(app, c.database_url, c.log_level, c.log_format);
  app.add_option("endpoint", c.endpoint, "product | products | categories | search | top-products")
      ->check(CLI::IsMember({"product", "products", "categories", "search", "top-products"}))
      ->capture_default_str();
}

void add_options(CLI::App& app, HealthcheckConfig& c) {
  app.add_option("--port", c.port, "Port of the local server")->envname("PORT")->capture_default_str();
  app.add_option("--path", c.path, "Path to GET")->capture_default_str();
  app.add_option("--timeout-seconds", c.timeout_seconds,
                 "Give up after this long in all (connect, send, answer)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
}

void add_options(CLI::App& app, LoadConfig& c) {
  app.add_option("--url", c.url, "The server: http://host[:port]")->capture_default_str();
  app.add_option("--workload", c.workload,
                 "A workload file (bench/workloads/*.json) or a built-in one: hot-product, zipf-0.99, "
                 "uniform-large, read-write-90-10");
  app.add_option("--target", c.target, "Or: one path to GET, e.g. /products/1");
  app.add_option(
      "--connections", c.connections,
      "Keep-alive connections (closed loop: each waits for its answer before sending again; default 64. "
      "Open loop: they share the --rate schedule; default 32)");
  app.add_option(
      "--rate", c.rate,
      "Open loop: requests per second in all, at a constant schedule; every latency is measured from "
      "the request's intended send time, so a stall is not hidden (coordinated omission corrected, as "
      "wrk2 does). Without it: closed loop");
  app.add_option("--duration", c.duration,
                 "How long to measure: 10s, 500ms, 2m (default: the workload's, or 10s)");
  app.add_option("--warmup", c.warmup,
                 "Load first, unmeasured, this long (default: the workload's, or none)");
  app.add_option("--threads", c.threads, "Load-generator threads (one event loop each)")
      ->capture_default_str();
  app.add_option("--json", c.json, "Also write the full report, histogram included, to this file");
  app.add_option(
      "--timeline", c.timeline,
      "Also write each second as one JSON line to this file (requests, errors, hits, misses, p50, p99, "
      "max)");
  app.add_option("--max-error-rate", c.max_error_rate,
                 "Exit 1 when more than this fraction of requests failed")
      ->capture_default_str();
  app.add_option("--timeout", c.timeout, "One request's deadline")->capture_default_str();
  app.add_option("--admin-token", c.admin_token, "Bearer token for a workload's writes")
      ->envname("ADMIN_TOKEN");
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double scale = 1000;  // seconds, unless a unit says otherwise
  for (auto [unit, ms] : {std::pair{"ms", 1.0}, std::pair{"s", 1000.0}, std::pair{"m", 60'000.0}}) {
    const std::string_view u(unit);
    if (text.size() > u.size() && text.substr(text.size() - u.size()) == u) {
      text.remove_suffix(u.size());
      scale = ms;
      break;
    }
  }
  if (text.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || ptr != text.data() + text.size() || !(v >= 0) || v > 1e7) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(v * scale + 0.5));
}

std::string validate(const ServeConfig& c) {
  // The full parse (cache::parse_redis_url) follows at start-up; a cluster's list of nodes is no URL
  // authority.
  auto redis = boost::urls::parse_uri(c.redis_url);
  const bool cluster = c.redis_url.starts_with("redis+cluster://");
  if (!cluster && (!redis || redis->scheme() != "redis")) {
    return fmt::format(
        "--redis-url / REDIS_URL: '{}' is not a redis://host:port[/db] or redis+cluster://host:port,… URL",
        c.redis_url);
  }
  if (c.database_url.empty()) return "--database-url / DATABASE_URL must not be empty";
  if (c.host.empty()) return "--host / HOST must not be empty";
  return {};
}

int wait_replicas(const ServeConfig& c) {
  if (c.redis_wait_replicas >= 0) return c.redis_wait_replicas;
  return c.redis_url.starts_with("redis+cluster://") ? 1 : 0;
}

int io_threads(const ServeConfig& c) {
  if (c.threads > 0) return c.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace cachelab::config

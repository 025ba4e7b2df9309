// config: one typed configuration for each subcommand, read from flags with environment fallbacks.
// Owns defaults, flag and variable names, and validation. Never opens a connection; validation is pure.
// A bad value fails start-up with a message naming the flag and the variable, before anything listens.
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::config {

inline constexpr const char* default_database_url = "postgresql://cachelab@127.0.0.1:54320/cachelab";
inline constexpr const char* default_redis_url = "redis://127.0.0.1:63790/0";

struct ServeConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  int threads = 0;  // 0: one per core
  std::string database_url = default_database_url;
  std::string database_read_url;  // a streaming replica for cache misses (empty: reads go to database_url)
  std::string redis_url = default_redis_url;
  int cache_ttl_seconds = 60;
  // Per-endpoint TTLs; 0 means "use cache_ttl_seconds".
  int products_ttl_seconds = 0;
  int categories_ttl_seconds = 0;
  int search_ttl_seconds = 0;
  int top_products_ttl_seconds = 0;
  int db_delay_ms = 0;                      // simulated database latency, added before each read
  int negative_ttl_seconds = 10;            // how long "product not found" is cached
  double ttl_jitter = 0.10;                 // TTLs spread by ±this fraction
  std::string write_policy = "invalidate";  // invalidate | write-through
  std::string admin_token;                  // empty: state-changing endpoints accept loopback clients only
  std::vector<std::string>
      cors_allow_origins;  // origins whose pages may read answers; {"*"}: any; empty: none
  int swr_seconds = 0;     // stale-while-revalidate window; 0 = off
  std::vector<std::string> swr_endpoints = {"categories", "search", "top-products"};
  int db_pool_size = 4;       // connections per process, shared out across I/O threads
  int db_pipeline_depth = 4;  // requests whose queries may be in flight on one connection at once
  int db_timeout_ms = 5000;   // deadline for one database query, including the wait for a pooled connection
  int db_connect_timeout_ms = 1000;  // deadline for opening one PostgreSQL connection
  int ready_timeout_ms = 1000;       // deadline of /ready's check of PostgreSQL
  // How long new PostgreSQL connections may fail in a row (a restart) while requests wait for one, before
  // the pool's circuit breaker opens and they get 503 at once.
  int db_outage_wait_ms = 2000;
  int redis_timeout_ms = 250;  // deadline for one Redis round trip; past it the request goes to the database
  // After a write's invalidation, WAIT for this many Redis replicas (on a connection kept for writes); -1: 1
  // with a redis+cluster:// URL, 0 (no WAIT) with redis://. See wait_replicas().
  int redis_wait_replicas = -1;
  std::size_t l1_max_bytes = 16 << 20;  // the near cache's budget for the process (split per thread); 0 = off
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  int max_connections = 0;        // open at once; 0: derived from the descriptor limit (app/limits)
  int idle_timeout_seconds = 30;  // a kept-alive connection's wait for its next request
  int header_timeout_seconds =
      5;  // a complete request head, from its first byte (a new connection: from accept)
  int shutdown_grace_seconds = 10;
  bool migrate = true;  // apply pending SQL migrations at start-up
  std::string log_level = "info";
  std::string log_format = "auto";  // text|json|auto (auto: text on a terminal, JSON otherwise)
  bool access_log = false;
  int slow_query_ms = 200;     // a database round trip over this is logged with its statement (0: never)
  int heap_trim_seconds = 10;  // free heap pages go back to the kernel this often (app/heap_trim; 0: never)
};

struct SeedConfig {
  std::string database_url = default_database_url;
  int scale = 1;
  bool force = false;
  std::string log_level = "info";
  std::string log_format = "auto";
};

struct MigrateConfig {
  std::string database_url = default_database_url;
  std::string log_level = "info";
  std::string log_format = "auto";
};

struct ExplainConfig {
  std::string database_url = default_database_url;
  std::string endpoint = "categories";
  std::string log_level = "warn";
  std::string log_format = "auto";
};

struct HealthcheckConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  std::string path = "/health";
  int timeout_seconds = 3;
};

struct LoadConfig {
  std::string url = "http://127.0.0.1:8000";
  std::string workload;            // a file, or a built-in workload's name
  std::string target;              // or one path to GET
  std::optional<int> connections;  // default: 64 in a closed loop, 32 in an open loop
  std::optional<double> rate;      // requests per second in all; none: closed loop
  std::string duration;            // "10s", "500ms", "2m"; empty: the workload's, or 10 s
  std::string warmup;              // empty: the workload's, or none
  int threads = 1;
  std::string json;      // write the full report here
  std::string timeline;  // write one JSON line per second here
  double max_error_rate = 0.01;
  std::string timeout = "10s";  // one request's deadline
  std::string admin_token;      // for a workload's writes to a server that has ADMIN_TOKEN
};

// "10s", "250ms", "2m", "1.5s", or a plain number of seconds; nothing for anything else or a negative value.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Registers the subcommand's flags, each with its environment variable, on `app`.
void add_options(CLI::App& app, ServeConfig& c);
void add_options(CLI::App& app, SeedConfig& c);
void add_options(CLI::App& app, MigrateConfig& c);
void add_options(CLI::App& app, ExplainConfig& c);
void add_options(CLI::App& app, HealthcheckConfig& c);
void add_options(CLI::App& app, LoadConfig& c);

// Returns an empty string when the configuration is usable, else what is wrong.
std::string validate(const ServeConfig& c);

// The TTL of an endpoint: its own when set, else cache_ttl_seconds.
inline int ttl_or_default(int own, const ServeConfig& c) {
  return own > 0 ? own : c.cache_ttl_seconds;
}

// The effective number of I/O threads (threads == 0 means one per core).
int io_threads(const ServeConfig& c);
// --redis-wait-replicas resolved: 1 for a cluster when left at -1, 0 for a single Redis.
int wait_replicas(const ServeConfig& c);

}  // namespace cachelab::config

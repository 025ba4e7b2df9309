// service/catalog_service: the cache-aside policy. Read this file to see how cachelab caches.
// Owns the decision of what is cached, under which key (via cache/keys), for how long, and what happens
// when Redis or PostgreSQL fails. Never speaks a wire protocol itself: it composes cache::Store and
// db::Catalog, both narrow interfaces, so its logic is unit-tested with in-memory fakes.
// How it fails: a Redis failure is never the caller's failure (the answer comes from PostgreSQL and says
// "cache unavailable"); a PostgreSQL failure is returned as `unavailable`/`timeout` for api/ to map to 503.
#pragma once

#include "cache/store.hpp"
#include "core/error.hpp"
#include "db/catalog.hpp"
#include "service/counters.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace cachelab::service {

enum class Source { cache, database };
enum class CacheMode { use, bypass };  // bypass: read PostgreSQL, leave Redis untouched

struct Timings {
  double redis_ms = 0;
  double db_ms = 0;
};

// One read's outcome: the data serialised once, and where it came from.
struct Answer {
  std::string body;  // a JSON object: the cached value itself on a hit
  Source source = Source::database;
  std::optional<std::int64_t> ttl_ms;  // on a hit: what is left of the key's TTL
  bool cache_unavailable = false;      // Redis failed during this request; the data came from PostgreSQL
  bool bypassed = false;
  Timings timings;
};

struct RedisStats {
  std::int64_t keyspace_hits = 0, keyspace_misses = 0, used_memory = 0, maxmemory = 0, evicted_keys = 0,
               expired_keys = 0, connected_clients = 0, total_commands_processed = 0, keys = 0;
  std::string used_memory_human, maxmemory_policy;
  double hit_rate() const;
};

struct CacheStats {
  std::optional<RedisStats> redis;  // empty when Redis is unavailable
  CounterSnapshot app;
};

struct Readiness {
  bool database = false;
  std::string database_error;
  bool cache = false;
};

// How long each kind of answer stays cached (per endpoint; all default to --cache-ttl-seconds).
struct Policy {
  std::chrono::milliseconds ttl{60'000};  // GET /products/{id}
  std::chrono::milliseconds products_ttl{60'000};
  std::chrono::milliseconds categories_ttl{60'000};
  std::chrono::milliseconds search_ttl{60'000};
  std::chrono::milliseconds top_products_ttl{60'000};
  int db_delay_ms = 0;  // reported by /api/stats so nobody mistakes it for real cost
};

class CatalogService {
 public:
  CatalogService(std::shared_ptr<cache::Store> cache, std::shared_ptr<db::Catalog> db,
                 std::shared_ptr<Counters> counters, Policy policy);

  boost::asio::awaitable<Result<Answer>> product(std::int64_t id, CacheMode mode);
  boost::asio::awaitable<Result<Answer>> products(int limit, std::int64_t offset, CacheMode mode);
  boost::asio::awaitable<Result<Answer>> categories(CacheMode mode);
  // `query` must already be normalised (api/params): equivalent searches then share one key.
  boost::asio::awaitable<Result<Answer>> search(std::string query, int limit, std::int64_t offset,
                                                CacheMode mode);
  boost::asio::awaitable<Result<Answer>> top_products(int limit, CacheMode mode);
  boost::asio::awaitable<Result<CacheStats>> cache_stats();
  // Deletes our namespace (SCAN + UNLINK) and resets the app's counters; returns how many keys went.
  boost::asio::awaitable<Result<std::int64_t>> clear_cache();
  boost::asio::awaitable<Readiness> readiness();

  const Policy& policy() const { return policy_; }

 private:
  // Loads the data from PostgreSQL and serialises it; not_found when there is nothing to return.
  using Loader = std::function<boost::asio::awaitable<Result<std::string>>()>;
  boost::asio::awaitable<Result<Answer>> read_through(std::string key, std::chrono::milliseconds ttl,
                                                      CacheMode mode, Loader load);

  std::shared_ptr<cache::Store> cache_;
  std::shared_ptr<db::Catalog> db_;
  std::shared_ptr<Counters> counters_;
  Policy policy_;
};

}  // namespace cachelab::service

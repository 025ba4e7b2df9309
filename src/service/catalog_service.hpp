// service/catalog_service: the caching policy. Read this file (and its .cpp) to see how cachelab caches.
// Owns what is cached, under which key (via cache/keys), for how long (TTL + jitter, negative TTL), how
// concurrent misses are collapsed (single-flight in this thread, a Redis lease across threads and processes),
// and how writes invalidate (explicit delete of the product's key + a generation bump for derived keys, with
// guarded stores so a slow reader can never put back a value older than a committed write).
// Never speaks a wire protocol itself: it composes cache::Store and db::Catalog, both narrow interfaces, so
// its logic is unit-tested with in-memory fakes. How it fails: a Redis failure is never the caller's failure
// (reads come from PostgreSQL and say "cache unavailable"; a write's invalidation is queued and retried); a
// PostgreSQL failure is returned as `unavailable`/`timeout` for api/ to map to 503.
#pragma once

#include "cache/store.hpp"
#include "core/error.hpp"
#include "db/catalog.hpp"
#include "service/counters.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace cachelab::service {

enum class Source { cache, database };
enum class CacheMode { use, bypass };  // bypass: read PostgreSQL, leave Redis untouched
enum class WritePolicy { invalidate, write_through };

struct Timings {
  double redis_ms = 0;
  double db_ms = 0;
};

// One read's outcome: the data serialised once, and where it came from.
struct Answer {
  std::string body;  // a JSON object: the cached value itself on a hit; empty when not_found
  Source source = Source::database;
  bool not_found = false;              // the thing does not exist (possibly a cached "not found")
  std::optional<std::int64_t> ttl_ms;  // hit: what the key has left; stored miss: the TTL it got
  bool cache_unavailable = false;      // Redis failed during this request; the data came from PostgreSQL
  bool bypassed = false;
  bool collapsed =
      false;  // this caller waited for another caller's load instead of querying (single-flight/lease)
  bool stored = false;  // the loaded value was written to Redis
  bool stale = false;   // served past its soft TTL (stale-while-revalidate); a refresh is under way
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

// Remaining TTLs of our keys: bucket i counts keys with less than upper_edges_ms[i] left (and at least the
// previous edge); the last bucket counts the rest, including keys without a TTL.
struct TtlHistogram {
  std::vector<std::int64_t> upper_edges_ms;
  std::vector<std::int64_t> counts;
};

struct Readiness {
  bool database = false;
  bool cache = false;
};

// How long each kind of answer stays cached, and the other knobs of the policy.
struct Policy {
  std::chrono::milliseconds ttl{60'000};  // GET /products/{id}
  std::chrono::milliseconds products_ttl{60'000};
  std::chrono::milliseconds categories_ttl{60'000};
  std::chrono::milliseconds search_ttl{60'000};
  std::chrono::milliseconds top_products_ttl{60'000};
  std::chrono::milliseconds negative_ttl{10'000};  // a cached "product not found"
  double ttl_jitter = 0.10;                        // each TTL is spread by ±this fraction
  std::chrono::milliseconds lease_ttl{3'000};      // how long one loader may hold a cold key's lease
  std::chrono::milliseconds lease_poll{10};        // how often a waiter looks for the loader's value
  WritePolicy write_policy = WritePolicy::invalidate;
  std::chrono::milliseconds invalidation_retry{500};
  // Stale-while-revalidate: for these endpoints, keep entries `swr` longer than their TTL; a read in that
  // window is served at once (marked stale) and one caller refreshes the entry in the background. 0 = off.
  std::chrono::milliseconds swr{0};
  std::set<std::string> swr_endpoints;  // "product", "products", "categories", "search", "top-products"
  int db_delay_ms = 0;                  // reported by /api/stats so nobody mistakes it for real cost
};

// The outcome of a write, after it committed.
struct WriteOutcome {
  std::optional<model::Product> product;  // as committed (empty for a delete)
  std::vector<std::string> invalidated;   // what was retired: the product's key and the derived generation
  bool invalidation_pending = false;      // Redis was unavailable: queued for retry
  bool written_through = false;           // write-through stored the new value
};

class CatalogService {
 public:
  CatalogService(boost::asio::any_io_executor ex, std::shared_ptr<cache::Store> cache,
                 std::shared_ptr<db::Catalog> db, std::shared_ptr<Counters> counters, Policy policy);

  boost::asio::awaitable<Result<Answer>> product(std::int64_t id, CacheMode mode);
  boost::asio::awaitable<Result<Answer>> products(int limit, std::int64_t offset, CacheMode mode);
  boost::asio::awaitable<Result<Answer>> categories(CacheMode mode);
  // `query` must already be normalised (api/params): equivalent searches then share one key.
  boost::asio::awaitable<Result<Answer>> search(std::string query, int limit, std::int64_t offset,
                                                CacheMode mode);
  boost::asio::awaitable<Result<Answer>> top_products(int limit, CacheMode mode);

  boost::asio::awaitable<Result<WriteOutcome>> create_product(model::ProductDraft draft);
  boost::asio::awaitable<Result<WriteOutcome>> update_product(std::int64_t id, model::ProductPatch patch);
  boost::asio::awaitable<Result<WriteOutcome>> remove_product(std::int64_t id);

  boost::asio::awaitable<Result<CacheStats>> cache_stats();
  boost::asio::awaitable<Result<TtlHistogram>> ttl_histogram();
  // Deletes our namespace (SCAN + UNLINK) and resets the app's counters; returns how many keys went.
  boost::asio::awaitable<Result<std::int64_t>> clear_cache();
  // The cache browser and the query inspector: our namespace only, the fixed query set only.
  // `match` is a SCAN pattern relative to the namespace prefix (e.g. "product:*").
  boost::asio::awaitable<Result<cache::KeyPage>> browse_keys(std::string_view match, std::string_view cursor,
                                                             int count);
  // Keys outside our namespace are invalid_argument; a missing key is an empty optional.
  boost::asio::awaitable<Result<std::optional<cache::KeyValue>>> read_key(std::string_view key);
  boost::asio::awaitable<Result<bool>> delete_key(std::string_view key);
  boost::asio::awaitable<Result<std::vector<db::Catalog::QueryPlan>>> explain(std::string_view endpoint);
  // Deletes one product's cached entry, as if it had expired (the stampede demonstration starts from this).
  boost::asio::awaitable<Result<bool>> expire_product(std::int64_t id);
  boost::asio::awaitable<Readiness> readiness();
  const std::shared_ptr<Counters>& counters() const { return counters_; }

  const Policy& policy() const { return policy_; }

 private:
  // Loads the data from PostgreSQL and serialises it; not_found when there is nothing to return.
  using Loader = std::function<boost::asio::awaitable<Result<std::string>>()>;
  struct Flight;

  // How long a key lives: its TTL, plus the stale-while-revalidate window when the endpoint opted in.
  struct Lifetime {
    std::chrono::milliseconds ttl;
    std::chrono::milliseconds swr{0};
  };
  Lifetime lifetime(std::chrono::milliseconds ttl, const char* endpoint) const;
  boost::asio::awaitable<Result<Answer>> read_through(std::string key, Lifetime life, CacheMode mode,
                                                      Loader load, bool cache_not_found = false);
  boost::asio::awaitable<void> refresh(std::string key, std::string generation, Lifetime life, Loader load);
  // PostgreSQL only (bypass, or Redis unavailable): nothing is read from or stored in the cache.
  boost::asio::awaitable<Result<Answer>> load_direct(Answer answer, Loader& load);
  boost::asio::awaitable<Result<Answer>> load_once(const cache::Lookup& seen, Lifetime life, Loader& load,
                                                   bool cache_not_found);
  boost::asio::awaitable<Result<Answer>> load_and_store(const cache::Lookup& seen, Lifetime life,
                                                        Loader& load, bool cache_not_found);
  boost::asio::awaitable<WriteOutcome> after_write(std::int64_t id, std::optional<model::Product> product);
  boost::asio::awaitable<void> retry_invalidations();
  std::chrono::milliseconds jittered(std::chrono::milliseconds ttl);

  boost::asio::any_io_executor ex_;
  std::shared_ptr<cache::Store> cache_;
  std::shared_ptr<db::Catalog> db_;
  std::shared_ptr<Counters> counters_;
  Policy policy_;
  std::mt19937_64 rng_;
  std::string token_prefix_;  // unique per service instance; lease tokens are token_prefix_ + a counter
  std::uint64_t next_token_ = 0;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // in-flight loads on this thread
  std::set<std::int64_t> pending_invalidations_;  // product ids; derived keys go with them
  std::set<std::string>
      refreshing_;  // keys this thread is refreshing in the background (stale-while-revalidate)
  bool retrying_ = false;
};

// The marker stored for "this product does not exist" (negative caching): JSON null, which no real value is.
inline constexpr std::string_view not_found_marker = "null";

}  // namespace cachelab::service

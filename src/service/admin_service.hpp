// service/admin_service: looking at and managing the cache and the database off the request path — the
// numbers behind /api/stats, the TTL histogram, the cache browser (our namespace only), the query inspector
// (the fixed statements only), the flush, the stampede demo's expiry, and readiness.
// Never on the request path of a read, never touches keys outside `cachelab:{v1}:`, never runs SQL of its
// own. How it fails: Redis down leaves the app's counters answering (stats) or returns `unavailable`
// (Backend::cache); a key outside our namespace is invalid_argument.
#pragma once

#include "core/error.hpp"
#include "model/inspection.hpp"
#include "service/counters.hpp"
#include "service/policy.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::cache {
class Inspector;
class Store;
}  // namespace cachelab::cache
namespace cachelab::db {
class Inspector;
}  // namespace cachelab::db

namespace cachelab::service {

// Redis's own figures, from INFO, and how many keys of ours it holds.
struct RedisStats {
  std::int64_t keyspace_hits = 0, keyspace_misses = 0, used_memory = 0, maxmemory = 0, evicted_keys = 0,
               expired_keys = 0, connected_clients = 0, total_commands_processed = 0, keys = 0;
  // The Redis masters the figures are summed over: 1 for one node; on a cluster, the masters that answered
  // (the key count and maxmemory_policy are always the slot's node's: it holds every cachelab key).
  std::int64_t masters = 1;
  std::string used_memory_human, maxmemory_policy;
  double hit_rate() const;
};

struct CacheStats {
  std::optional<RedisStats> redis;  // empty when Redis is unavailable
  CounterSnapshot app;
  // "ok"; "degraded" when Redis answers but failed a call in the last `degraded_for` (an error reply such as
  // OOM, a timeout, a dropped connection); "unavailable" when it does not answer.
  std::string state() const;
};

inline constexpr std::chrono::seconds degraded_for{10};

// Remaining TTLs of our keys: bucket i counts keys with less than upper_edges_ms[i] left (and at least the
// previous edge); the last bucket counts the rest, including keys without a TTL.
struct TtlHistogram {
  std::vector<std::int64_t> upper_edges_ms;
  std::vector<std::int64_t> counts;
};

struct Readiness {
  bool database = false;
  bool cache = false;  // Redis connected, with no failure in the last `degraded_for`
};

class AdminService {
 public:
  AdminService(std::shared_ptr<cache::Inspector> cache, std::shared_ptr<cache::Store> store,
               std::shared_ptr<db::Inspector> db, std::shared_ptr<Counters> counters, const Policy& policy);

  // The app's counters always; Redis's figures when it answers (our key count too, a SCAN walk, unless
  // `count_keys` is false).
  boost::asio::awaitable<CacheStats> cache_stats(bool count_keys = true);
  // Six equal buckets up to the longest TTL plus its jitter, then "longer or no expiry".
  boost::asio::awaitable<Result<TtlHistogram>> ttl_histogram();
  // Deletes our namespace (SCAN + UNLINK), retires loads in flight, resets the app's counters; returns how
  // many keys went.
  boost::asio::awaitable<Result<std::int64_t>> clear_cache();
  // One SCAN step; `match` is a pattern relative to our namespace (e.g. "product:*").
  boost::asio::awaitable<Result<model::KeyPage>> browse_keys(std::string_view match, std::string_view cursor,
                                                             int count);
  // Keys outside our namespace are invalid_argument; a missing key is an empty optional / false.
  boost::asio::awaitable<Result<std::optional<model::KeyValue>>> read_key(std::string_view key);
  boost::asio::awaitable<Result<bool>> delete_key(std::string_view key);
  // EXPLAIN (ANALYZE, BUFFERS) of the statements behind one of explainable_endpoints().
  boost::asio::awaitable<Result<std::vector<model::QueryPlan>>> explain(std::string_view endpoint);
  static std::vector<std::string_view> explainable_endpoints();
  // Deletes one product's cached entry, as if it had expired (the stampede demonstration starts from this);
  // returns the key.
  boost::asio::awaitable<Result<std::string>> expire_product(std::int64_t id);
  boost::asio::awaitable<Readiness> readiness();
  // A Redis setting, read or changed (the load lab's experiments; they restore what they change).
  boost::asio::awaitable<Result<std::string>> redis_setting(std::string_view name);
  boost::asio::awaitable<Result<void>> change_redis_setting(std::string_view name, std::string_view value);

  const Policy& policy() const { return policy_; }
  const std::shared_ptr<Counters>& counters() const { return counters_; }

 private:
  std::shared_ptr<cache::Inspector> cache_;
  std::shared_ptr<cache::Store> store_;
  std::shared_ptr<db::Inspector> db_;
  std::shared_ptr<Counters> counters_;
  Policy policy_;
};

}  // namespace cachelab::service

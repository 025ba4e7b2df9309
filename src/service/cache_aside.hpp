// service/cache_aside: the cache-aside pattern itself — read this file (and its .cpp) to see how cachelab
// caches. Owns, for any key and any loader: look up; serve a hit (or a stale hit while one caller refreshes
// it); on a miss collapse concurrent loads (single-flight on this thread, a Redis lease across threads and
// processes); load from PostgreSQL; store with a jittered TTL only if no write happened meanwhile (a store
// guarded by the catalog generation); cache "not found" briefly; and after a write, drop the key and retire
// every derived answer at once (a generation bump), retrying while Redis is unreachable.
// Never names a key or writes SQL (service/catalog_service says which key, TTL and query serve an endpoint),
// never speaks a wire protocol (it composes cache::Store and a loader), so it is unit-tested with fakes.
// How it fails: a Redis failure is never the caller's failure (the read comes from PostgreSQL and says "cache
// unavailable"; a write's invalidation is queued and retried); a loader's failure is returned as it is.
// One instance per I/O thread: nothing here is shared across threads but the counters.
#pragma once

#include "core/error.hpp"
#include "core/stopwatch.hpp"
#include "service/answer.hpp"
#include "service/counters.hpp"
#include "service/overrides.hpp"
#include "service/policy.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cachelab::cache {
class Store;
struct Lookup;
class NearCache;
class InvalidationLog;
}  // namespace cachelab::cache

namespace cachelab::service {

class CacheAside {
 public:
  // Loads the data from PostgreSQL and serialises it as a JSON object; not_found when there is none. Its
  // argument is the WAL fence read with the generation (cache::Lookup::wal_fence): with a read replica, the
  // load reads a replica only if it has replayed that far (db/catalog), so a miss after a write never fills
  // the cache from a replica that has not seen the write. 0 where no fence was read (bypass, Redis down).
  using Loader = std::function<boost::asio::awaitable<Result<std::string>>(std::uint64_t wal_fence)>;
  // How long a key lives: its TTL, plus the stale-while-revalidate window when its endpoint opted in.
  struct Lifetime {
    std::chrono::milliseconds ttl;
    std::chrono::milliseconds swr{0};
  };
  // What a loader's not_found becomes: only the answer, or also a cached marker for Policy::negative_ttl.
  enum class NotFound { answer, cache };

  // The near cache in front of Redis (this thread's), and the log this process's writes are published to.
  struct Near {
    std::shared_ptr<cache::NearCache> cache;
    std::shared_ptr<cache::InvalidationLog> log;
  };

  CacheAside(boost::asio::any_io_executor ex, std::shared_ptr<cache::Store> store,
             std::shared_ptr<Counters> counters, const Policy& policy,
             std::shared_ptr<const Overrides> overrides = nullptr, Near near = {});
  ~CacheAside();

  // The lifetime of an endpoint's entries under the policy (`endpoint` as in Policy::swr_endpoints), or the
  // override's TTL while one is set.
  Lifetime lifetime(std::chrono::milliseconds ttl, std::string_view endpoint) const;

  // Cache-aside for one key (see the .cpp for each step).
  boost::asio::awaitable<Result<Answer>> read_through(std::string key, Lifetime life, CacheMode mode,
                                                      Loader load, NotFound not_found = NotFound::answer);

  // After a write committed in PostgreSQL: delete `key` and retire every derived key (one Lua script). Under
  // write-through, then store `committed` (the row as written) under `key`. When Redis cannot be reached the
  // invalidation is queued and retried until it goes through; when the replicas did not acknowledge it, it is
  // sent again until they do (Policy::unreplicated_resend_for).
  // `wal_fence`: the write's position in the primary's WAL (db::Catalog::written()), raised in Redis with
  // the generation so that no later miss fills the cache from a replica that has not replayed it.
  boost::asio::awaitable<Invalidation> invalidate_after_write(std::string key,
                                                              std::optional<std::string> committed,
                                                              std::uint64_t wal_fence = 0);

  // A TTL spread by ±Policy::ttl_jitter, so keys stored together do not expire together.
  std::chrono::milliseconds jittered(std::chrono::milliseconds ttl);

  const Policy& policy() const { return policy_; }

 private:
  struct Flight;
  boost::asio::awaitable<Result<Answer>> serve_hit(cache::Lookup& seen, double lookup_ms, Lifetime life,
                                                   Loader& load);
  boost::asio::awaitable<Result<Answer>> join_flight(std::shared_ptr<Flight> flight,
                                                     const cache::Lookup& seen, Lifetime life, Loader& load,
                                                     NotFound not_found);
  boost::asio::awaitable<Result<Answer>> lead_flight(const cache::Lookup& seen, double lookup_ms,
                                                     Lifetime life, Loader& load, NotFound not_found);
  boost::asio::awaitable<Result<Answer>> load_direct(Answer answer, Loader& load);
  boost::asio::awaitable<Result<Answer>> load_once(const cache::Lookup& seen, Lifetime life, Loader& load,
                                                   NotFound not_found);
  boost::asio::awaitable<std::optional<Answer>> wait_for_lease_holder(const cache::Lookup& seen);
  boost::asio::awaitable<Result<Answer>> load_and_store(const cache::Lookup& seen, Lifetime life,
                                                        Loader& load, NotFound not_found);
  boost::asio::awaitable<void> refresh(std::string key, std::string generation, std::uint64_t wal_fence,
                                       Lifetime life, Loader load);
  boost::asio::awaitable<void> retry_invalidations();
  void keep_near(std::uint64_t ticket_seq, bool ticket_valid, const cache::Lookup& seen, Lifetime life);
  void publish_write(const std::string& key);
  std::string next_lease_token();

  boost::asio::any_io_executor ex_;
  std::shared_ptr<cache::Store> store_;
  std::shared_ptr<Counters> counters_;
  Policy policy_;
  std::shared_ptr<const Overrides> overrides_;
  Near near_;
  std::mt19937_64 rng_;
  std::string token_prefix_;  // unique per instance; lease tokens are token_prefix_ + a counter
  std::uint64_t next_token_ = 0;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;  // loads in progress on this thread
  std::set<std::string> pending_invalidations_;  // product keys whose write could not reach Redis yet
  std::uint64_t pending_fence_ = 0;              // and the highest WAL fence among those writes
  // Until then, pending invalidations that went through unacknowledged by the replicas are sent again.
  Stopwatch::clock::time_point resend_unreplicated_until_{};
  std::set<std::string> refreshing_;  // keys this thread is refreshing in the background (SWR)
  bool retrying_ = false;
};

// The marker stored for "this product does not exist" (negative caching): JSON null, which no real value is.
inline constexpr std::string_view not_found_marker = "null";

}  // namespace cachelab::service

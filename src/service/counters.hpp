// service/counters: the app's own cache statistics, shared by every I/O thread (relaxed atomics).
// Owns hits, misses, collapsed reads, database queries and Redis errors as this process saw them. Never
// touches Redis: these are the numbers to trust, because Redis's keyspace counters also count our own
// bookkeeping. A read is exactly one of: a hit (served from the near cache or Redis), a miss (this request
// loaded it from PostgreSQL), or collapsed (served by another request's load: single-flight or the lease).
// Bypassed reads are none of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>

namespace cachelab::service {

// The near cache (L1) across this process's threads.
struct NearSnapshot {
  bool listening = false;  // invalidations are being received; while false nothing is served from L1
  std::int64_t max_bytes = 0, bytes = 0, entries = 0;
  std::int64_t hits = 0, misses = 0, evictions = 0;
  std::int64_t invalidated = 0;  // entries dropped by an invalidation
  std::int64_t refused = 0;      // Redis answers not kept (an invalidation overtook them, or blind)
  std::int64_t flushes = 0;      // whole-L1 drops (FLUSHALL, a lost connection, a new subscription)
  std::int64_t invalidation_messages = 0, invalidated_keys = 0;  // received from Redis
  // From a write to its invalidation's arrival, measured by the listener's probe once a second.
  std::int64_t lag_samples = 0, lag_lost = 0;
  // Times the listener stopped hearing its probes and the near caches went blind.
  std::int64_t deaf_periods = 0;
  double lag_last_ms = 0, lag_p50_ms = 0, lag_max_ms = 0;  // p50 and max over the last 128 probes
};

struct CounterSnapshot {
  std::int64_t hits = 0;       // from the near cache or Redis
  std::int64_t near_hits = 0;  // of which from the near cache
  std::int64_t misses = 0;
  std::int64_t collapsed = 0;  // answered by another request's load, not a query of their own
  std::int64_t db_queries = 0;
  std::int64_t redis_errors = 0;
  std::int64_t stampede_suppressed = 0;    // callers that waited for another caller's load in this process
  std::int64_t lease_waits = 0;            // callers that waited for another process's (or thread's) load
  std::int64_t invalidations = 0;          // writes whose cache invalidation went through
  std::int64_t invalidations_pending = 0;  // invalidations waiting for Redis to come back
  std::int64_t ms_since_redis_error = -1;  // how long ago Redis last failed a call; -1: never
  double hit_rate() const;                 // hits / (hits + misses); collapsed reads are apart; 0 when none
  std::optional<NearSnapshot> near;        // empty when the near cache is off
};

class Counters {
 public:
  void hit() { hits_.fetch_add(1, std::memory_order_relaxed); }
  void near_hit() { near_hits_.fetch_add(1, std::memory_order_relaxed); }
  void miss() { misses_.fetch_add(1, std::memory_order_relaxed); }
  void collapsed() { collapsed_.fetch_add(1, std::memory_order_relaxed); }
  void db_query() { db_queries_.fetch_add(1, std::memory_order_relaxed); }
  void redis_error() {
    redis_errors_.fetch_add(1, std::memory_order_relaxed);
    last_redis_error_ms_.store(now_ms(), std::memory_order_relaxed);
  }
  void stampede_suppressed() { suppressed_.fetch_add(1, std::memory_order_relaxed); }
  void lease_wait() { lease_waits_.fetch_add(1, std::memory_order_relaxed); }
  void invalidated() { invalidations_.fetch_add(1, std::memory_order_relaxed); }
  void pending_invalidations(std::int64_t delta) { pending_.fetch_add(delta, std::memory_order_relaxed); }
  CounterSnapshot snapshot() const;
  void reset();
  // Where snapshot() reads the near cache's figures; set once, before the I/O threads start.
  void set_near_source(std::function<NearSnapshot()> source) { near_source_ = std::move(source); }

 private:
  static std::int64_t now_ms();
  std::function<NearSnapshot()> near_source_;
  std::atomic<std::int64_t> last_redis_error_ms_{-1};
  std::atomic<std::int64_t> hits_{0}, near_hits_{0}, misses_{0}, collapsed_{0}, db_queries_{0},
      redis_errors_{0}, suppressed_{0}, lease_waits_{0}, invalidations_{0}, pending_{0};
};

}  // namespace cachelab::service

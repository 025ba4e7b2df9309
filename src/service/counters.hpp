// service/counters: the app's own cache statistics, shared by every I/O thread, recorded in per-thread
// metrics cells (core/metrics) that /metrics exposes and /api/stats reads.
// Owns hits, misses, collapsed reads, database queries and Redis errors as this process saw them. Never
// touches Redis: these are the numbers to trust, because Redis's keyspace counters also count our own
// bookkeeping. A read is exactly one of: a hit (served from the near cache or Redis), a miss (this request
// loaded it from PostgreSQL), or collapsed (served by another request's load: single-flight or the lease).
// Bypassed reads are none of them.
#pragma once

#include "core/metrics.hpp"
#include "service/answer.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

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

// Which cache-aside endpoint a lookup served, for cachelab_cache_lookups_total.
enum class Endpoint { product, products, categories, search, top_products };

class Counters {
 public:
  // Cells on `registry` (the process's, exposed at /metrics), or on a registry of its own when null.
  explicit Counters(metrics::Registry* registry = nullptr);
  ~Counters();

  void hit() const { hits_.inc(); }
  void near_hit() const { near_hits_.inc(); }  // a hit from the near cache (hit() is one from Redis)
  void miss() const { misses_.inc(); }
  void collapsed() const { collapsed_.inc(); }
  void db_query() const { db_queries_.inc(); }
  void redis_error() {
    redis_errors_.inc();
    last_redis_error_ms_.store(now_ms(), std::memory_order_relaxed);
  }
  void stampede_suppressed() const { suppressed_.inc(); }
  void lease_wait() const { lease_waits_.inc(); }
  void store_refused() const { stores_refused_.inc(); }  // the generation guard kept a load out of Redis
  void invalidated() const { invalidations_.inc(); }
  void invalidations_retried(std::int64_t n) const {  // queued ones that went through
    retried_.inc(n);
    pending_.sub(n);
  }
  // An invalidation the replicas did not acknowledge in time (WAIT): sent again until they do.
  void invalidation_unreplicated() const { unreplicated_.inc(); }
  void invalidation_queued() const { pending_.add(1); }
  void invalidation_merged() const { pending_.sub(1); }  // queued twice: one entry again
  // One read of `endpoint` and how it was answered (an error: the loader failed).
  void looked_up(Endpoint endpoint, const Answer* answer);

  CounterSnapshot snapshot() const;
  // Starts the snapshot's figures from zero again; /metrics's counters keep counting (Prometheus counters
  // never go back).
  void reset();
  // Where snapshot() reads the near cache's figures; set once, before the I/O threads start.
  void set_near_source(std::function<NearSnapshot()> source) { near_source_ = std::move(source); }

 private:
  struct Baseline;
  static std::int64_t now_ms();
  std::unique_ptr<metrics::Registry> own_registry_;
  std::function<NearSnapshot()> near_source_;
  std::atomic<std::int64_t> last_redis_error_ms_{-1};
  metrics::Counter hits_, near_hits_, misses_, collapsed_, db_queries_, redis_errors_, suppressed_,
      lease_waits_, stores_refused_, invalidations_, retried_, unreplicated_;
  metrics::Gauge pending_;
  // lookups_[endpoint][outcome]
  std::vector<metrics::Counter> lookups_;
  std::unique_ptr<Baseline> baseline_;  // what reset() saw; snapshot() subtracts it
  mutable std::mutex baseline_mutex_;
};

}  // namespace cachelab::service

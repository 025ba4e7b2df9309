#include "service/counters.hpp"

#include <array>
#include <chrono>
#include <string>

namespace cachelab::service {
namespace {

constexpr std::array<const char*, 5> endpoint_names = {"product", "products", "categories", "search",
                                                       "top-products"};

// How a lookup was answered, and by which tier: the label pairs of cachelab_cache_lookups_total.
struct Outcome {
  const char* outcome;
  const char* tier;
};
constexpr std::array<Outcome, 9> outcomes = {{{"hit", "l1"},
                                              {"hit", "redis"},
                                              {"stale", "l1"},
                                              {"stale", "redis"},
                                              {"miss", "none"},
                                              {"collapsed", "none"},
                                              {"bypass", "none"},
                                              {"unavailable", "none"},
                                              {"error", "none"}}};

std::size_t outcome_index(const Answer* a) {
  if (!a) return 8;
  if (a->bypassed) return 6;
  if (a->cache_unavailable) return 7;
  switch (a->source) {
    case Source::memory:
      return a->stale ? 2 : 0;
    case Source::cache:
      return a->stale ? 3 : 1;
    case Source::database:
      break;
  }
  return a->collapsed ? 5 : 4;
}

}  // namespace

struct Counters::Baseline {
  std::int64_t hits = 0, near_hits = 0, misses = 0, collapsed = 0, db_queries = 0, redis_errors = 0,
               suppressed = 0, lease_waits = 0, invalidations = 0;
};

double CounterSnapshot::hit_rate() const {
  const auto lookups = hits + misses;
  return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
}

Counters::Counters(metrics::Registry* registry) : baseline_(std::make_unique<Baseline>()) {
  if (!registry) {
    own_registry_ = std::make_unique<metrics::Registry>(1024);
    registry = own_registry_.get();
  }
  auto& r = *registry;
  const std::array<std::string, 2> read_labels = {"outcome", "tier"};
  const char* reads_help =
      "Cache-aside reads as the cache-aside saw them (what /api/stats's hit rate counts): hit (from the near "
      "cache, l1, or Redis), miss (loaded from PostgreSQL by this read), collapsed (served by another read's "
      "load).";
  near_hits_ = r.counter("cachelab_cache_reads_total", reads_help, read_labels, {"hit", "l1"});
  hits_ = r.counter("cachelab_cache_reads_total", reads_help, read_labels, {"hit", "redis"});
  misses_ = r.counter("cachelab_cache_reads_total", reads_help, read_labels, {"miss", "none"});
  collapsed_ = r.counter("cachelab_cache_reads_total", reads_help, read_labels, {"collapsed", "none"});
  db_queries_ = r.counter("cachelab_cache_loads_total", "Loads from PostgreSQL on a miss or a refresh.");
  redis_errors_ = r.counter("cachelab_redis_errors_total",
                            "Redis calls that failed (lost connection, timeout, open breaker, error reply).");
  suppressed_ = r.counter("cachelab_cache_stampede_suppressed_total",
                          "Reads that waited for another read's load in this thread (single-flight).");
  lease_waits_ = r.counter("cachelab_cache_lease_waits_total",
                           "Reads that waited for a load leased by another thread or process.");
  stores_refused_ = r.counter(
      "cachelab_cache_stores_refused_total",
      "Loads not stored in Redis because a write retired their generation while they loaded (the guard).");
  const std::array<std::string, 1> result = {"result"};
  const char* invalidations_help = "Invalidations after writes that went through: at once, or retried later.";
  invalidations_ = r.counter("cachelab_cache_invalidations_total", invalidations_help, result, {"ok"});
  retried_ = r.counter("cachelab_cache_invalidations_total", invalidations_help, result, {"retried"});
  unreplicated_ = r.counter(
      "cachelab_cache_invalidations_unreplicated_total",
      "Invalidations the Redis replicas did not acknowledge in time (WAIT), sent again until they do.");
  pending_ = r.gauge("cachelab_cache_invalidations_pending",
                     "Invalidations waiting for Redis to come back, retried until they go through.");
  const std::array<std::string, 3> lookup_labels = {"endpoint", "outcome", "tier"};
  for (const char* endpoint : endpoint_names) {
    for (const auto& o : outcomes) {
      lookups_.push_back(r.counter("cachelab_cache_lookups_total",
                                   "Cache-aside reads by endpoint, outcome and the tier that answered.",
                                   lookup_labels, {endpoint, o.outcome, o.tier}));
    }
  }
}

Counters::~Counters() = default;

void Counters::looked_up(Endpoint endpoint, const Answer* answer) {
  lookups_[static_cast<std::size_t>(endpoint) * outcomes.size() + outcome_index(answer)].inc();
}

std::int64_t Counters::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

CounterSnapshot Counters::snapshot() const {
  const auto last_error = last_redis_error_ms_.load(std::memory_order_relaxed);
  Baseline b;
  {
    const std::lock_guard lock(baseline_mutex_);
    b = *baseline_;
  }
  CounterSnapshot s;
  s.hits = hits_.value() + near_hits_.value() - b.hits;
  s.near_hits = near_hits_.value() - b.near_hits;
  s.misses = misses_.value() - b.misses;
  s.collapsed = collapsed_.value() - b.collapsed;
  s.db_queries = db_queries_.value() - b.db_queries;
  s.redis_errors = redis_errors_.value() - b.redis_errors;
  s.stampede_suppressed = suppressed_.value() - b.suppressed;
  s.lease_waits = lease_waits_.value() - b.lease_waits;
  s.invalidations = invalidations_.value() + retried_.value() - b.invalidations;
  s.invalidations_pending = pending_.value();
  s.ms_since_redis_error = last_error < 0 ? -1 : now_ms() - last_error;
  if (near_source_) s.near = near_source_();
  return s;
}

void Counters::reset() {
  Baseline b;
  b.hits = hits_.value() + near_hits_.value();
  b.near_hits = near_hits_.value();
  b.misses = misses_.value();
  b.collapsed = collapsed_.value();
  b.db_queries = db_queries_.value();
  b.redis_errors = redis_errors_.value();
  b.suppressed = suppressed_.value();
  b.lease_waits = lease_waits_.value();
  b.invalidations = invalidations_.value() + retried_.value();
  // The pending invalidations are not a statistic but work still to do, and the last Redis failure is a fact
  // about Redis: a flush makes neither go away.
  const std::lock_guard lock(baseline_mutex_);
  *baseline_ = b;
}

}  // namespace cachelab::service

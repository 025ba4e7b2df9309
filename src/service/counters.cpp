#include "service/counters.hpp"

#include <chrono>

namespace cachelab::service {

double CounterSnapshot::hit_rate() const {
  const auto lookups = hits + misses;
  return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
}

std::int64_t Counters::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

CounterSnapshot Counters::snapshot() const {
  const auto last_error = last_redis_error_ms_.load(std::memory_order_relaxed);
  CounterSnapshot s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.near_hits = near_hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.collapsed = collapsed_.load(std::memory_order_relaxed);
  s.db_queries = db_queries_.load(std::memory_order_relaxed);
  s.redis_errors = redis_errors_.load(std::memory_order_relaxed);
  s.stampede_suppressed = suppressed_.load(std::memory_order_relaxed);
  s.lease_waits = lease_waits_.load(std::memory_order_relaxed);
  s.invalidations = invalidations_.load(std::memory_order_relaxed);
  s.invalidations_pending = pending_.load(std::memory_order_relaxed);
  s.ms_since_redis_error = last_error < 0 ? -1 : now_ms() - last_error;
  if (near_source_) s.near = near_source_();
  return s;
}

void Counters::reset() {
  hits_.store(0, std::memory_order_relaxed);
  near_hits_.store(0, std::memory_order_relaxed);
  misses_.store(0, std::memory_order_relaxed);
  collapsed_.store(0, std::memory_order_relaxed);
  db_queries_.store(0, std::memory_order_relaxed);
  redis_errors_.store(0, std::memory_order_relaxed);
  suppressed_.store(0, std::memory_order_relaxed);
  lease_waits_.store(0, std::memory_order_relaxed);
  invalidations_.store(0, std::memory_order_relaxed);
  // pending_ is not a statistic but work still to do, and the last Redis failure is a fact about Redis: a
  // flush makes neither go away.
}

}  // namespace cachelab::service

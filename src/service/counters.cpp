#include "service/counters.hpp"

namespace cachelab::service {

double CounterSnapshot::hit_rate() const {
  const auto lookups = hits + misses;
  return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups);
}

CounterSnapshot Counters::snapshot() const {
  return {hits_.load(std::memory_order_relaxed),         misses_.load(std::memory_order_relaxed),
          collapsed_.load(std::memory_order_relaxed),    db_queries_.load(std::memory_order_relaxed),
          redis_errors_.load(std::memory_order_relaxed), suppressed_.load(std::memory_order_relaxed),
          lease_waits_.load(std::memory_order_relaxed),  invalidations_.load(std::memory_order_relaxed),
          pending_.load(std::memory_order_relaxed)};
}

void Counters::reset() {
  hits_.store(0, std::memory_order_relaxed);
  misses_.store(0, std::memory_order_relaxed);
  collapsed_.store(0, std::memory_order_relaxed);
  db_queries_.store(0, std::memory_order_relaxed);
  redis_errors_.store(0, std::memory_order_relaxed);
  suppressed_.store(0, std::memory_order_relaxed);
  lease_waits_.store(0, std::memory_order_relaxed);
  invalidations_.store(0, std::memory_order_relaxed);
  // pending_ is not a statistic but work still to do: a flush does not make it go away.
}

}  // namespace cachelab::service

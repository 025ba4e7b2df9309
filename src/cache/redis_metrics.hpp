// cache/redis_metrics: what the Redis connections add to /metrics. Owns the names; recording is done by
// cache/redis_connection. Handles on the process's registry, shared by every thread's connection (each
// records in its own cells); default-constructed, nothing is recorded.
#pragma once

#include "core/metrics.hpp"

namespace cachelab::cache {

struct RedisMetrics {
  metrics::Histogram command_seconds;  // one exec(): the commands written together, until their last reply
  metrics::Counter connects, disconnects, breaker_trips;
  metrics::Counter ask_redirects;  // commands sent again with ASKING to the node importing the slot
  metrics::Counter shared_reads;   // exec() calls answered with the replies of the same reads queued before
  metrics::Gauge breakers_open;
  static RedisMetrics on(metrics::Registry& registry);
};

}  // namespace cachelab::cache

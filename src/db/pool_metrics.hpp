// db/pool_metrics: what the PostgreSQL pools and their queries add to /metrics. Owns the names; recording is
// done by db/pg_pool and db/pg_catalog. Never records anything itself.
#pragma once

#include "core/metrics.hpp"

namespace cachelab::db {

// What the pools and their queries add to /metrics: handles on the process's registry, shared by every
// thread's pool (each records in its own cells). Default-constructed: nothing is recorded.
struct PoolMetrics {
  metrics::Gauge in_use, waiting, breakers_open;
  metrics::Counter opened, open_failed, broken, breaker_trips;
  // Batches (one caller's statements and a sync) sent, and the writes that sent them: their ratio is how many
  // requests' queries one write carries (db/pg_connection's pipelining across requests).
  metrics::Counter batches_sent, batch_writes;
  metrics::Histogram query_seconds;
  // Reads sent to the read replica: served there, sent to the primary because the replica had not replayed
  // the last write yet, or because the replica failed.
  metrics::Counter replica_served, replica_behind, replica_failed;
  static PoolMetrics on(metrics::Registry& registry);
};

}  // namespace cachelab::db

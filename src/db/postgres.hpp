// db/postgres: builds the PostgreSQL side of one I/O thread — a connection pool (db/pg_pool) with every
// statement of db/statements prepared, behind the db::Catalog and db::Inspector interfaces, and with a read
// replica a second pool that reads go to while it has replayed far enough (see Catalog's WAL fence).
// Never shared between threads: everything returned must be used from `ex` only (but `own_writes`, which
// every thread's catalog shares, is an atomic).
#pragma once

#include "db/catalog.hpp"
#include "db/inspector.hpp"
#include "db/pool_metrics.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace cachelab::db {

struct PostgresOptions {
  std::string conninfo;
  // A streaming replica for reads (empty: none). Writes, pings and EXPLAIN stay on the primary.
  std::string read_conninfo;
  // The WAL position past this process's last write (a read never goes to a replica behind it), shared by
  // the threads' catalogs. Made here when not given.
  std::shared_ptr<std::atomic<std::uint64_t>> own_writes;
  int pool_size = 2;       // connections for this I/O thread
  int pipeline_depth = 1;  // callers whose batches may be in flight on one connection at once
  std::chrono::milliseconds timeout{5000};          // per call, including the wait for a free connection
  std::chrono::milliseconds connect_timeout{1000};  // opening one connection (within `timeout`)
  std::chrono::milliseconds ping_timeout{1000};     // the readiness check's own, shorter deadline
  std::chrono::milliseconds outage_wait{2000};      // how long callers keep trying while connections fail
  std::chrono::milliseconds read_delay{0};  // simulated latency before each read (holds no connection)
  PoolMetrics metrics;                      // the pool's and its queries' figures for /metrics
  // A round trip over this is logged (event=slow_query) with its statements and parameters; 0: never.
  std::chrono::milliseconds slow_query{0};
};

// Two views of one pool.
struct Postgres {
  std::shared_ptr<Catalog> catalog;
  std::shared_ptr<Inspector> inspector;
};

Postgres make_postgres(boost::asio::any_io_executor ex, PostgresOptions options);

}  // namespace cachelab::db

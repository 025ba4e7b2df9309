// db/pg_pool: a small pool of PgConnections for one I/O thread (each thread has its own; no locks).
// Owns the open connections, the queue of coroutines waiting for one, and a circuit breaker. A caller gets
// an idle connection if there is one, else a new one while fewer than `max_size` are open, else a share of
// the least busy one while it has fewer than `pipeline_depth` callers' batches in flight (db/pg_connection
// pipelines them), else waits. Never waits past the caller's deadline (a new connection gets
// `connect_timeout` at most), never opens more than `max_size` connections. Fails with `unavailable` when
// PostgreSQL kept refusing new connections or the breaker is open, and `timeout` when none frees up in time;
// broken connections are dropped and re-opened on demand, which is how the service recovers by itself when
// PostgreSQL comes back. Outages: a caller whose new connection is refused tries again every `retry_pause`
// (within its deadline) until connections have failed for `outage_wait` in a row, counted by the pool from
// the first refusal, whoever saw it; so a PostgreSQL restart shorter than that costs a delay, not an error,
// even to a caller that queued first. Then the circuit breaker opens: acquire() fails at once for
// `breaker_open`, and the callers queued meanwhile are failed too, so a longer outage costs a request a 503
// rather than a wait for its query deadline; then one caller may try to connect, and its success closes the
// breaker (with `breaker_open` at 100 ms, a request is refused at most that long after PostgreSQL is back). A
// connection that broke while in use is no failure of its own: after a restart every pooled connection
// breaks, and the remedy is to open new ones. So a connection lost under use (its socket closed, not a late
// query) makes the others suspect: the idle ones are closed at once, and those in use are not shared with new
// callers until one of their callers is answered on it, so that a read sent again after the loss (db/
// pg_catalog) goes to a connection known to be alive or a new one, not to another that died with the first.
#pragma once

#include "db/pg_connection.hpp"
#include "db/pool_metrics.hpp"

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <vector>

namespace cachelab::db {

struct PoolOptions {
  std::string conninfo;
  int max_size = 2;
  int pipeline_depth = 1;  // callers sharing one connection at once, their batches pipelined (1: one each)
  int statement_timeout_ms = 5000;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds outage_wait{2000};  // connections failing this long in a row open the breaker
  std::chrono::milliseconds retry_pause{100};   // between a waiting caller's tries
  std::chrono::milliseconds breaker_open{100};  // open: refuse at once this long, then let one caller try
  std::span<const Statement> statements;        // prepared on every new connection (db/statements, static)
  PoolMetrics metrics;
};

class PgPool : public std::enable_shared_from_this<PgPool> {
 public:
  // A borrowed connection, perhaps shared with other callers; going out of scope gives it back (and the
  // pool drops it if it broke).
  class Lease {
   public:
    // `counted`: release() has counted it as lent already, handing it to a waiter.
    Lease(std::shared_ptr<PgPool> pool, std::shared_ptr<PgConnection> conn, bool counted = false)
        : pool_(std::move(pool)), conn_(std::move(conn)) {
      if (!counted) pool_->lend(*conn_);
    }
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }

   private:
    std::shared_ptr<PgPool> pool_;
    std::shared_ptr<PgConnection> conn_;
  };

  static std::shared_ptr<PgPool> create(asio::any_io_executor ex, PoolOptions options);

  asio::awaitable<Result<Lease>> acquire(Clock::time_point deadline);
  const PoolMetrics& metrics() const { return options_.metrics; }

 private:
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::shared_ptr<PgConnection> conn;  // handed over by release()
    bool retry = false;                  // a slot freed up: try opening a connection
    bool refused = false;                // the breaker opened while it waited
  };

  PgPool(asio::any_io_executor ex, PoolOptions options) : ex_(ex), options_(std::move(options)) {}
  void lend(PgConnection& conn);
  void release(const std::shared_ptr<PgConnection>& conn);
  void offer(const std::shared_ptr<PgConnection>& conn);  // its free places to the callers queued
  bool drop(const std::shared_ptr<PgConnection>& conn);   // a broken one, if still counted: true; if lost,
                                                          // suspect_the_rest()
  PgConnection* least_busy();  // of the healthy ones not suspect since a loss; broken ones are dropped
  void suspect_the_rest();     // one was lost under use: close the idle ones, stop sharing the busy ones
  void wake_one_for_retry();
  bool admit();                  // the breaker's answer to one acquire()
  void record(bool ok);          // a new connection opened (true) or could not be opened (false)
  void open_breaker();           // and fail the callers queued for a connection
  void show_breaker(bool open);  // in the breakers_open gauge

  asio::any_io_executor ex_;
  PoolOptions options_;
  std::vector<std::shared_ptr<PgConnection>> conns_;  // open: idle, or lent to one caller or more
  std::deque<std::shared_ptr<Waiter>> waiters_;
  int open_ = 0;                       // connections in conns_ or being opened
  std::uint64_t losses_ = 0;           // connections lost under use (not by a late query), ever
  Clock::time_point failing_since_{};  // the first of the connection failures in a row (zero: none)
  Clock::time_point last_failure_{};   // the latest of them
  Clock::time_point open_until_{};     // the breaker is open until then (zero: closed)
  bool probing_ = false;               // half-open: one caller is trying
  bool shown_open_ = false;            // what this pool last added to the breakers_open gauge
};

}  // namespace cachelab::db

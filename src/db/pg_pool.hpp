// db/pg_pool: a small pool of PgConnections for one I/O thread (each thread has its own; no locks).
// Owns idle connections and the queue of coroutines waiting for one. Never waits past the caller's deadline,
// never opens more than `max_size` connections. Fails with `unavailable` when PostgreSQL refuses a new
// connection and `timeout` when none frees up in time; broken connections are dropped and re-opened on
// demand, which is how the service recovers by itself when PostgreSQL comes back.
#pragma once

#include "db/pg_connection.hpp"

#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <memory>
#include <vector>

namespace cachelab::db {

struct PoolOptions {
  std::string conninfo;
  int max_size = 2;
  int statement_timeout_ms = 5000;
  std::span<const Statement> statements;  // prepared on every new connection (db/statements, static)
};

class PgPool : public std::enable_shared_from_this<PgPool> {
 public:
  // A borrowed connection; going out of scope gives it back (or drops it if it broke).
  class Lease {
   public:
    Lease(std::shared_ptr<PgPool> pool, std::unique_ptr<PgConnection> conn)
        : pool_(std::move(pool)), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = default;
    ~Lease();
    PgConnection& operator*() { return *conn_; }
    PgConnection* operator->() { return conn_.get(); }

   private:
    std::shared_ptr<PgPool> pool_;
    std::unique_ptr<PgConnection> conn_;
  };

  static std::shared_ptr<PgPool> create(asio::any_io_executor ex, PoolOptions options);

  asio::awaitable<Result<Lease>> acquire(Clock::time_point deadline);

 private:
  struct Waiter {
    explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
    asio::steady_timer timer;
    std::unique_ptr<PgConnection> conn;  // handed over by release()
    bool retry = false;                  // a slot freed up: try opening a connection
  };

  PgPool(asio::any_io_executor ex, PoolOptions options) : ex_(ex), options_(std::move(options)) {}
  void release(std::unique_ptr<PgConnection> conn);
  void wake_one_for_retry();

  asio::any_io_executor ex_;
  PoolOptions options_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  int open_ = 0;  // connections in use, idle, or being opened
};

}  // namespace cachelab::db

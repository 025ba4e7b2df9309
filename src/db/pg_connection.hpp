// db/pg_connection: one PostgreSQL connection driven by libpq's non-blocking API on an Asio executor.
// Owns the PGconn and its socket watcher; always in pipeline mode, so any number of prepared statements go
// out in one round trip. Never blocks: every wait is an async_wait on the socket with a deadline. Fails by
// returning an Error; after a timeout or protocol error the connection is marked broken and the pool discards
// it (its state is unknown, and PQcancel would block).
#pragma once

#include "core/error.hpp"
#include "db/statements.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct pg_conn;
struct pg_result;

namespace cachelab::db {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// One execution of a prepared statement with text parameters; an empty optional is SQL NULL.
// With `statement` null, `sql` is sent as an unnamed statement instead (EXPLAIN of a fixed statement).
struct Query {
  const char* statement;
  std::vector<std::optional<std::string>> params;
  const char* sql = nullptr;
};

// A query's rows, in text format.
class PgResult {
 public:
  explicit PgResult(pg_result* r);
  int rows() const;
  int columns() const;
  std::string_view get(int row, int col) const;
  bool is_null(int row, int col) const;

 private:
  std::shared_ptr<pg_result> res_;
};

class PgConnection {
 public:
  explicit PgConnection(asio::any_io_executor ex);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Connects (conninfo is a URL or key=value string), enters pipeline mode and prepares `statements`.
  asio::awaitable<Result<void>> connect(const std::string& conninfo, int statement_timeout_ms,
                                        std::span<const Statement> statements, Clock::time_point deadline);

  // Sends all queries in one pipeline and returns one result per query. An error in any query fails the call.
  asio::awaitable<Result<std::vector<PgResult>>> run(std::span<const Query> queries,
                                                     Clock::time_point deadline);

  bool healthy() const { return conn_ != nullptr && !broken_; }

  // On a replica: the highest replay position this connection has seen (db/pg_catalog's WAL fence). It only
  // grows while the connection lives; a replica restart, which could show an older state at first, ends it.
  std::uint64_t replayed_seen() const { return replayed_seen_; }
  void saw_replayed(std::uint64_t at) { replayed_seen_ = std::max(replayed_seen_, at); }

 private:
  enum class Wait { read, write };
  asio::awaitable<bool> wait_socket(Wait w, Clock::time_point deadline);
  asio::awaitable<Result<void>> flush(Clock::time_point deadline);
  asio::awaitable<Result<pg_result*>> next_result(Clock::time_point deadline);
  asio::awaitable<Result<std::vector<PgResult>>> read_pipeline(std::size_t n, Clock::time_point deadline);
  void watch_socket();
  Error fail(ErrorKind kind, std::string what);
  void close();

  asio::any_io_executor ex_;
  asio::posix::stream_descriptor socket_;
  pg_conn* conn_ = nullptr;
  bool broken_ = false;
  std::uint64_t replayed_seen_ = 0;
};

}  // namespace cachelab::db

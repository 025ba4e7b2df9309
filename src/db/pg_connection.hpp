// db/pg_connection: one PostgreSQL connection driven by libpq's non-blocking API on an Asio executor.
// Owns the PGconn, its socket watcher and the FIFOs of callers whose batches wait to be sent or are in
// flight. Always in pipeline mode: a caller's statements go out as one batch ending in a sync (one implicit
// transaction), and many callers' batches can be in flight at once, those of one turn of the event loop sent
// together (corked: one wake-up of PostgreSQL); answers come back in the order sent and reach each caller by
// its place in the FIFO.
// Never blocks: every wait is an async_wait on the socket. Fails by returning an Error; a failed statement
// fails its own batch only. A batch not answered by its caller's deadline, a lost socket or a protocol error
// marks the connection broken, fails every batch still in flight (they wait on the same stuck connection),
// and the pool discards it (its state is unknown, and PQcancel would block).
#pragma once

#include "core/error.hpp"
#include "core/metrics.hpp"
#include "db/statements.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
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

class PgConnection : public std::enable_shared_from_this<PgConnection> {
 public:
  // `batches` and `writes` count what it sends (db/pool_metrics); default-constructed, nothing is counted.
  explicit PgConnection(asio::any_io_executor ex, metrics::Counter batches = {},
                        metrics::Counter writes = {});
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Connects (conninfo is a URL or key=value string), enters pipeline mode and prepares `statements`.
  asio::awaitable<Result<void>> connect(const std::string& conninfo, int statement_timeout_ms,
                                        std::span<const Statement> statements, Clock::time_point deadline);

  // Sends the queries as one batch and returns one result per query; other callers' batches may be in flight
  // before and after it. An error in any of its queries fails this call only. No answer by `deadline`: the
  // connection breaks (this call fails with `timeout`, the batches behind it with `unavailable`).
  asio::awaitable<Result<std::vector<PgResult>>> run(std::span<const Query> queries,
                                                     Clock::time_point deadline);

  bool healthy() const { return conn_ != nullptr && !broken_; }
  // Broken because a caller's deadline passed (a query ahead on it was late), rather than lost: its socket
  // closed or the protocol failed, as a PostgreSQL restart or pg_terminate_backend does to every connection.
  bool timed_out() const { return timed_out_; }

  // How many callers db/pg_pool has lent this connection to now: its bookkeeping, kept here.
  int lent() const { return lent_; }
  void lend() { ++lent_; }
  void give_back() { --lent_; }
  // The pool's count of connections lost under use that this one is known to have outlived (opened after, or
  // answered since): its bookkeeping too.
  std::uint64_t vouched() const { return vouched_; }
  void vouch(std::uint64_t losses) { vouched_ = losses; }

  // On a replica: the highest replay position this connection has seen (db/pg_catalog's WAL fence). It only
  // grows while the connection lives; a replica restart, which could show an older state at first, ends it.
  std::uint64_t replayed_seen() const { return replayed_seen_; }
  void saw_replayed(std::uint64_t at) { replayed_seen_ = std::max(replayed_seen_, at); }

 private:
  // One caller's batch: its queries (a view of the caller's, who waits for the answer, or breaks the
  // connection and so takes the batch out of both FIFOs before it returns), and the answer once read (or
  // failed). The timer is the caller's deadline, cancelled to wake it when the answer is in.
  struct Batch {
    Batch(asio::any_io_executor ex, std::span<const Query> q) : timer(ex), queries(q), expected(q.size()) {}
    asio::steady_timer timer;
    std::span<const Query> queries;
    std::size_t expected;
    std::optional<Result<std::vector<PgResult>>> answer;
  };

  enum class Wait { read, write };
  // Until the socket is ready, or `deadline` passes (false). Without a deadline (the connection's own
  // reader and writer, whose callers keep the deadlines) it also returns, true, when woken to look again.
  asio::awaitable<bool> wait_socket(Wait w, std::optional<Clock::time_point> deadline);
  asio::awaitable<Result<void>> flush(Clock::time_point deadline);
  asio::awaitable<Result<pg_result*>> next_result(std::optional<Clock::time_point> deadline);
  asio::awaitable<Result<std::vector<PgResult>>> read_pipeline(std::size_t n,
                                                               std::optional<Clock::time_point> deadline);
  bool send(std::span<const Query> queries);  // into libpq, then a sync: one batch
  void send_unsent();                         // every batch of this turn of the loop, then reading them
  asio::awaitable<void> write_loop();         // sends the batches, and what libpq could not write at once
  asio::awaitable<void> read_loop();          // reads the batches' answers in order, while any are in flight
  void break_connection(const Error& why);    // and fail every batch in flight with `why`
  void watch_socket();
  Error fail(ErrorKind kind, std::string what);
  void close();

  asio::any_io_executor ex_;
  metrics::Counter batches_, writes_;
  asio::posix::stream_descriptor socket_;
  pg_conn* conn_ = nullptr;
  bool broken_ = false;
  bool timed_out_ = false;
  std::deque<std::shared_ptr<Batch>> unsent_;   // waiting for write_loop()
  std::deque<std::shared_ptr<Batch>> pending_;  // sent, not answered yet, in the order sent
  bool writing_ = false;                        // write_loop() is running
  bool reading_ = false;                        // read_loop() is running
  int lent_ = 0;
  std::uint64_t vouched_ = 0;
  std::uint64_t replayed_seen_ = 0;
};

}  // namespace cachelab::db

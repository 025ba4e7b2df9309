#include "db/pg_connection.hpp"

#include "core/deadline.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cachelab::db {

PgResult::PgResult(pg_result* r) : res_(r, PQclear) {}
int PgResult::rows() const {
  return PQntuples(res_.get());
}
int PgResult::columns() const {
  return PQnfields(res_.get());
}
std::string_view PgResult::get(int row, int col) const {
  return {PQgetvalue(res_.get(), row, col), static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}
bool PgResult::is_null(int row, int col) const {
  return PQgetisnull(res_.get(), row, col) != 0;
}

PgConnection::PgConnection(asio::any_io_executor ex, metrics::Counter batches, metrics::Counter writes)
    : ex_(ex), batches_(batches), writes_(writes), socket_(ex) {}

PgConnection::~PgConnection() {
  close();
}

void PgConnection::close() {
  // libpq owns the file descriptor: release it from Asio before PQfinish closes it.
  if (socket_.is_open()) {
    boost::system::error_code ec;
    socket_.cancel(ec);
    socket_.release();
  }
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

Error PgConnection::fail(ErrorKind kind, std::string what) {
  if (!broken_) timed_out_ = kind == ErrorKind::timeout;  // why it broke first
  broken_ = true;
  // libpq closes its socket when it finds the connection lost. Let go of the descriptor now, before another
  // connection can be given the same number: releasing it later (Asio removes it from epoll then) would take
  // that connection's registration away.
  if (socket_.is_open() && PQsocket(conn_) != socket_.native_handle()) {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    socket_.release();
  }
  std::string detail = conn_ != nullptr ? PQerrorMessage(conn_) : "";
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  return make_error(kind, detail.empty() ? what : fmt::format("{}: {}", what, detail), Backend::database);
}

void PgConnection::watch_socket() {
  int fd = PQsocket(conn_);
  if (socket_.is_open() && socket_.native_handle() == fd) return;
  if (socket_.is_open()) socket_.release();
  if (fd >= 0) socket_.assign(fd);
}

asio::awaitable<bool> PgConnection::wait_socket(Wait w, std::optional<Clock::time_point> deadline) {
  auto type =
      w == Wait::read ? asio::posix::descriptor_base::wait_read : asio::posix::descriptor_base::wait_write;
  boost::system::error_code ec;
  if (!deadline) {
    // Woken early (operation_aborted) by write_loop() or break_connection(): the caller looks again.
    co_await socket_.async_wait(type, asio::redirect_error(asio::use_awaitable, ec));
    co_return !broken_ && (!ec || ec == asio::error::operation_aborted);
  }
  Deadline timeout(ex_, *deadline, [this] {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  });
  co_await socket_.async_wait(type, asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec && !timeout.expired();
}

asio::awaitable<Result<void>> PgConnection::connect(const std::string& conninfo, int statement_timeout_ms,
                                                    std::span<const Statement> statements,
                                                    Clock::time_point deadline) {
  std::string options = fmt::format("-c statement_timeout={}", statement_timeout_ms);
  const char* keys[] = {"dbname", "application_name", "options", nullptr};
  const char* values[] = {conninfo.c_str(), "cachelab", options.c_str(), nullptr};
  conn_ = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr)
    co_return fail(ErrorKind::unavailable, "out of memory starting a PostgreSQL connection");
  if (PQstatus(conn_) == CONNECTION_BAD)
    co_return fail(ErrorKind::unavailable, "PostgreSQL connection failed");

  // PQconnectPoll's state machine: each step says whether it needs the socket readable or writable.
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) co_return fail(ErrorKind::unavailable, "PostgreSQL connection failed");
    watch_socket();
    const bool ready =
        co_await wait_socket(poll == PGRES_POLLING_READING ? Wait::read : Wait::write, deadline);
    if (!ready) co_return fail(ErrorKind::timeout, "PostgreSQL connection timed out");
    poll = PQconnectPoll(conn_);
  }
  watch_socket();
  if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) {
    co_return fail(ErrorKind::internal, "could not enter libpq pipeline mode");
  }
  for (const auto& s : statements) {
    if (PQsendPrepare(conn_, s.name, s.sql, 0, nullptr) != 1)
      co_return fail(ErrorKind::internal, "prepare failed");
  }
  if (PQpipelineSync(conn_) != 1) co_return fail(ErrorKind::internal, "pipeline sync failed");
  auto flushed = co_await flush(deadline);
  if (!flushed) co_return flushed.error();
  auto prepared = co_await read_pipeline(statements.size(), deadline);
  if (!prepared) co_return prepared.error();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> PgConnection::flush(Clock::time_point deadline) {
  for (;;) {
    int r = PQflush(conn_);
    if (r == 0) co_return Result<void>{};
    if (r < 0) co_return fail(ErrorKind::unavailable, "sending to PostgreSQL failed");
    const bool ready = co_await wait_socket(Wait::write, deadline);
    if (!ready) co_return fail(ErrorKind::timeout, "PostgreSQL write timed out");
  }
}

asio::awaitable<Result<pg_result*>> PgConnection::next_result(std::optional<Clock::time_point> deadline) {
  while (PQisBusy(conn_) != 0) {
    const bool ready = co_await wait_socket(Wait::read, deadline);
    if (!ready && broken_)
      co_return make_error(ErrorKind::unavailable, "PostgreSQL connection broken", Backend::database);
    if (!ready && deadline) co_return fail(ErrorKind::timeout, "PostgreSQL query timed out");
    if (!ready) co_return fail(ErrorKind::unavailable, "waiting on the PostgreSQL socket failed");
    if (PQconsumeInput(conn_) == 0) co_return fail(ErrorKind::unavailable, "PostgreSQL connection lost");
  }
  co_return PQgetResult(conn_);
}

asio::awaitable<Result<std::vector<PgResult>>> PgConnection::read_pipeline(
    std::size_t n, std::optional<Clock::time_point> deadline) {
  // Each query yields its result then a null; the batch ends with PGRES_PIPELINE_SYNC.
  std::vector<PgResult> results;
  results.reserve(n);
  std::string first_error;
  bool aborted = false;
  for (std::size_t i = 0; i < n; ++i) {
    auto r = co_await next_result(deadline);
    if (!r) co_return r.error();
    if (*r == nullptr) co_return fail(ErrorKind::internal, "PostgreSQL pipeline ended early");
    PgResult result(*r);
    auto status = PQresultStatus(*r);
    if (status == PGRES_FATAL_ERROR || status == PGRES_PIPELINE_ABORTED) {
      if (first_error.empty() && status == PGRES_FATAL_ERROR) first_error = PQresultErrorMessage(*r);
      aborted = true;
    }
    results.push_back(std::move(result));
    auto end = co_await next_result(deadline);
    if (!end) co_return end.error();
    if (*end != nullptr) {
      PQclear(*end);
      co_return fail(ErrorKind::internal, "PostgreSQL returned more results than expected");
    }
  }
  auto sync = co_await next_result(deadline);
  if (!sync) co_return sync.error();
  if (*sync == nullptr || PQresultStatus(*sync) != PGRES_PIPELINE_SYNC) {
    if (*sync != nullptr) PQclear(*sync);
    co_return fail(ErrorKind::internal, "PostgreSQL pipeline out of step");
  }
  PQclear(*sync);
  if (aborted) {
    while (!first_error.empty() && first_error.back() == '\n') first_error.pop_back();
    // The connection itself is fine after a failed statement; only the caller's batch failed.
    co_return make_error(ErrorKind::internal, first_error.empty() ? "query failed" : first_error,
                         Backend::database);
  }
  co_return results;
}

asio::awaitable<Result<std::vector<PgResult>>> PgConnection::run(std::span<const Query> queries,
                                                                 Clock::time_point deadline) {
  if (!healthy())
    co_return make_error(ErrorKind::unavailable, "PostgreSQL connection is not open", Backend::database);
  // write_loop() sends it, with every other batch of this turn of the event loop.
  auto batch = std::make_shared<Batch>(ex_, queries);
  unsent_.push_back(batch);
  if (!writing_) {
    writing_ = true;
    asio::co_spawn(
        ex_, [self = shared_from_this()] { return self->write_loop(); }, asio::detached);
  }

  batch->timer.expires_at(deadline);
  if (!batch->answer) {
    boost::system::error_code ec;
    co_await batch->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!batch->answer) {
    // Late: whatever holds this batch up holds up every batch behind it on this connection too. Breaking
    // the connection also takes the batch out of the FIFOs, which hold a view of `queries`.
    auto e = fail(ErrorKind::timeout, "PostgreSQL query timed out");
    break_connection(make_error(ErrorKind::unavailable,
                                "PostgreSQL connection broken: a query ahead on it timed out",
                                Backend::database));
    co_return e;
  }
  co_return std::move(*batch->answer);
}

bool PgConnection::send(std::span<const Query> queries) {
  for (const auto& q : queries) {
    std::vector<const char*> values;
    values.reserve(q.params.size());
    for (const auto& p : q.params) values.push_back(p ? p->c_str() : nullptr);
    const int sent = q.statement != nullptr
                         ? PQsendQueryPrepared(conn_, q.statement, static_cast<int>(values.size()),
                                               values.data(), nullptr, nullptr, 0)
                         : PQsendQueryParams(conn_, q.sql, static_cast<int>(values.size()), nullptr,
                                             values.data(), nullptr, nullptr, 0);
    if (sent != 1) return false;
  }
  // libpq 15 has no sync that only buffers: this one also writes what is buffered to the socket.
  return PQpipelineSync(conn_) == 1;
}

namespace {
void set_cork(int fd, bool on) {
  const int v = on ? 1 : 0;
  ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof v);  // a hint: without it, only more segments go out
}
}  // namespace

void PgConnection::send_unsent() {
  auto batches = std::move(unsent_);
  unsent_.clear();
  // PQpipelineSync writes each batch to the socket as it ends it; corked, the kernel holds them until the
  // last, so that PostgreSQL is woken once for all of them and reads them in one go.
  const int fd = PQsocket(conn_);
  const bool cork = batches.size() > 1;
  if (cork) set_cork(fd, true);
  bool sent = true;
  for (auto& batch : batches) {
    pending_.push_back(batch);  // answered by read_loop() or, if sending fails, by break_connection()
    sent = sent && send(batch->queries);
  }
  if (cork) set_cork(fd, false);
  writes_.inc();
  batches_.inc(static_cast<std::int64_t>(batches.size()));
  if (!sent) {
    // Part of a batch may be in the buffer: the connection's state is unknown.
    break_connection(fail(ErrorKind::unavailable, "sending a query to PostgreSQL failed"));
    return;
  }
  if (!reading_) {
    reading_ = true;
    asio::co_spawn(
        ex_, [self = shared_from_this()] { return self->read_loop(); }, asio::detached);
  }
}

asio::awaitable<void> PgConnection::write_loop() {
  // A turn of the event loop first, so that every batch its callers send meanwhile leaves together.
  co_await asio::post(ex_, asio::use_awaitable);
  while (!broken_) {
    if (!unsent_.empty()) send_unsent();
    if (broken_) break;
    const int r = PQflush(conn_);
    if (r == 0 && unsent_.empty()) break;
    if (r == 0) continue;
    if (r < 0) {
      break_connection(fail(ErrorKind::unavailable, "sending to PostgreSQL failed"));
      break;
    }
    // The socket is full. libpq has read whatever PostgreSQL had sent meanwhile (so that neither side
    // waits on the other): wake read_loop() to look at it, then wait until the socket takes more.
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    if (!co_await wait_socket(Wait::write, std::nullopt) && broken_) break;
  }
  writing_ = false;
}

asio::awaitable<void> PgConnection::read_loop() {
  while (!pending_.empty() && !broken_) {
    auto batch = pending_.front();
    auto answer = co_await read_pipeline(batch->expected, std::nullopt);
    if (broken_) {
      // The socket or the protocol failed (or a caller's deadline broke the connection, which has answered
      // every batch already): the batches still in flight get this error.
      break_connection(
          answer ? make_error(ErrorKind::unavailable, "PostgreSQL connection broken", Backend::database)
                 : answer.error());
      break;
    }
    pending_.pop_front();
    batch->answer = std::move(answer);
    batch->timer.cancel();
  }
  reading_ = false;
}

void PgConnection::break_connection(const Error& why) {
  broken_ = true;
  auto in_flight = std::move(pending_);
  pending_.clear();
  for (auto& batch : unsent_) in_flight.push_back(batch);
  unsent_.clear();
  for (auto& batch : in_flight) {
    if (batch->answer) continue;
    batch->answer = why;
    batch->timer.cancel();
  }
  // read_loop() and write_loop() wake, see the connection broken and end.
  boost::system::error_code ignored;
  if (socket_.is_open()) socket_.cancel(ignored);
}

}  // namespace cachelab::db

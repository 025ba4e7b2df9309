#include "db/pg_pool.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>

namespace cachelab::db {

std::shared_ptr<PgPool> PgPool::create(asio::any_io_executor ex, PoolOptions options) {
  return std::shared_ptr<PgPool>(new PgPool(ex, std::move(options)));
}

PgPool::Lease::~Lease() {
  if (pool_ && conn_) pool_->release(conn_);
}

PoolMetrics PoolMetrics::on(metrics::Registry& r) {
  PoolMetrics m;
  m.in_use =
      r.gauge("cachelab_db_connections_in_use",
              "PostgreSQL connections with a query in flight now (one caller's or several, pipelined).");
  m.waiting = r.gauge("cachelab_db_connections_waiting", "Callers queued for a free PostgreSQL connection.");
  m.breakers_open =
      r.gauge("cachelab_db_breakers_open",
              "Connection pools (one per I/O thread) whose circuit breaker is open or half-open.");
  m.opened = r.counter("cachelab_db_connections_opened_total", "PostgreSQL connections opened.");
  m.open_failed =
      r.counter("cachelab_db_connections_failed_total", "PostgreSQL connections that could not open.");
  m.broken = r.counter("cachelab_db_connections_broken_total",
                       "Pooled PostgreSQL connections found broken and dropped.");
  m.breaker_trips = r.counter("cachelab_db_breaker_trips_total", "Times a pool's circuit breaker opened.");
  m.batches_sent = r.counter("cachelab_db_batches_total",
                             "Batches of statements (one request's, ending in a sync) sent to PostgreSQL.");
  m.batch_writes =
      r.counter("cachelab_db_batch_writes_total",
                "Writes that sent those batches, each carrying every batch of one event-loop turn "
                "on one connection.");
  m.query_seconds = r.histogram("cachelab_db_query_duration_seconds",
                                "A round trip of queries on a connection (pool wait excluded).",
                                metrics::latency_buckets());
  const std::array<std::string, 1> outcome = {"outcome"};
  const char* help =
      "Reads meant for the read replica: served there, or sent to the primary because the replica was behind "
      "the last write (its WAL fence) or failed.";
  m.replica_served = r.counter("cachelab_db_replica_reads_total", help, outcome, {"served"});
  m.replica_behind = r.counter("cachelab_db_replica_reads_total", help, outcome, {"behind"});
  m.replica_failed = r.counter("cachelab_db_replica_reads_total", help, outcome, {"failed"});
  return m;
}

namespace {
Error refused() {
  return make_error(ErrorKind::unavailable, "PostgreSQL is failing (circuit breaker open)",
                    Backend::database);
}
}  // namespace

bool PgPool::admit() {
  if (open_until_ == Clock::time_point{}) return true;  // closed
  if (Clock::now() < open_until_) return false;         // open
  if (probing_) return false;                           // half-open: one try at a time
  probing_ = true;
  return true;
}

void PgPool::show_breaker(bool open) {
  if (open == shown_open_) return;
  shown_open_ = open;
  options_.metrics.breakers_open.add(open ? 1 : -1);
}

void PgPool::record(bool ok) {
  if (ok) {
    show_breaker(false);
    failing_since_ = {};
    open_until_ = {};
    probing_ = false;
    return;
  }
  const auto now = Clock::now();
  const bool was_open = open_until_ != Clock::time_point{};
  probing_ = false;
  // A failure long after the last one starts a new run: an old blip is no part of today's outage.
  if (failing_since_ == Clock::time_point{} || now - last_failure_ > options_.outage_wait)
    failing_since_ = now;
  last_failure_ = now;
  // Closed: open once connections have failed for `outage_wait` in a row. Half-open: the probe failed.
  if (!was_open && now - failing_since_ < options_.outage_wait) return;
  open_breaker();
}

void PgPool::open_breaker() {
  if (!shown_open_) options_.metrics.breaker_trips.inc();
  show_breaker(true);
  open_until_ = Clock::now() + options_.breaker_open;
  // Everyone queued for a connection would wait for one that is not coming: fail them now.
  for (auto& w : waiters_) {
    w->refused = true;
    w->timer.cancel();
  }
  waiters_.clear();
}

asio::awaitable<Result<PgPool::Lease>> PgPool::acquire(Clock::time_point deadline) {
  auto self = shared_from_this();
  if (!admit()) co_return refused();
  for (;;) {
    auto* best = least_busy();
    if (best != nullptr && best->lent() == 0) {
      if (open_until_ != Clock::time_point{}) record(true);  // a half-open probe got a working connection
      co_return Lease(self, best->shared_from_this());
    }
    if (open_ < options_.max_size) {
      ++open_;
      auto conn =
          std::make_shared<PgConnection>(ex_, options_.metrics.batches_sent, options_.metrics.batch_writes);
      const auto connect_by = std::min(deadline, Clock::now() + options_.connect_timeout);
      auto connected = co_await conn->connect(options_.conninfo, options_.statement_timeout_ms,
                                              options_.statements, connect_by);
      if (!connected) {
        options_.metrics.open_failed.inc();
        --open_;
        record(false);  // opens the breaker once connections have failed for `outage_wait` in a row
        wake_one_for_retry();
        if (open_until_ != Clock::time_point{}) co_return refused();
        if (Clock::now() + options_.retry_pause >= deadline) co_return connected.error();
        // PostgreSQL may be restarting: try again shortly. How long is the pool's to say (the failures in a
        // row, whoever saw them), not this caller's: time it spent queued behind a busy connection does not
        // count against it, and it gives up only when the breaker opens.
        asio::steady_timer pause(ex_, options_.retry_pause);
        boost::system::error_code ec;
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (!admit()) co_return refused();
        continue;
      }
      options_.metrics.opened.inc();
      record(true);
      conn->vouch(losses_);
      conns_.push_back(conn);
      Lease lease(self, std::move(conn));
      offer(conns_.back());  // the callers that queued while it opened share it
      co_return lease;
    }
    // As many connections as may be: share the least busy one, its batches pipelined behind the others'.
    if (best != nullptr && best->lent() < options_.pipeline_depth) {
      if (open_until_ != Clock::time_point{}) record(true);
      co_return Lease(self, best->shared_from_this());
    }
    // All connections are that busy: queue up until one is released or the deadline passes.
    auto waiter = std::make_shared<Waiter>(ex_);
    waiter->timer.expires_at(deadline);
    waiters_.push_back(waiter);
    boost::system::error_code ec;
    options_.metrics.waiting.add(1);
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    options_.metrics.waiting.sub(1);
    if (waiter->conn) {
      if (open_until_ != Clock::time_point{}) record(true);
      co_return Lease(self, std::move(waiter->conn), /*counted=*/true);
    }
    if (waiter->refused) co_return refused();
    if (waiter->retry) continue;
    waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
    co_return make_error(ErrorKind::timeout, "no PostgreSQL connection became free before the deadline",
                         Backend::database);
  }
}

PgConnection* PgPool::least_busy() {
  PgConnection* best = nullptr;
  for (std::size_t i = 0; i < conns_.size();) {
    auto* c = conns_[i].get();
    if (!c->healthy()) {
      auto dead = conns_[i];
      drop(dead);  // erases conns_[i]
      continue;
    }
    if (c->vouched() == losses_ && (best == nullptr || c->lent() < best->lent())) best = c;
    ++i;
  }
  return best;
}

void PgPool::suspect_the_rest() {
  ++losses_;
  // An idle one would be found dead only by the next caller's query: close it now (not counted as broken,
  // which it may not be); the next callers open new ones. A busy one is vouched for again when one of its
  // callers is answered on it (release()), or dropped when it breaks too.
  const auto closed = std::erase_if(
      conns_, [](const std::shared_ptr<PgConnection>& c) { return c->lent() == 0 && c->healthy(); });
  open_ -= static_cast<int>(closed);
  for (std::size_t i = 0; i < closed; ++i) wake_one_for_retry();  // room to open a new one
}

bool PgPool::drop(const std::shared_ptr<PgConnection>& conn) {
  auto it = std::find(conns_.begin(), conns_.end(), conn);
  if (it == conns_.end()) return false;
  conns_.erase(it);
  options_.metrics.broken.inc();
  --open_;
  if (!conn->timed_out()) suspect_the_rest();
  return true;
}

void PgPool::lend(PgConnection& conn) {
  if (conn.lent() == 0) options_.metrics.in_use.add(1);
  conn.lend();
}

void PgPool::release(const std::shared_ptr<PgConnection>& conn) {
  conn->give_back();
  if (conn->lent() == 0) options_.metrics.in_use.sub(1);
  if (!conn->healthy()) {
    if (drop(conn)) wake_one_for_retry();
    return;
  }
  conn->vouch(losses_);  // still healthy as its caller is done with it: it answered, it is alive
  offer(conn);
}

void PgPool::offer(const std::shared_ptr<PgConnection>& conn) {
  while (!waiters_.empty() && conn->lent() < options_.pipeline_depth) {
    auto waiter = waiters_.front();
    waiters_.pop_front();
    // Counted as lent from now, so that no other caller takes the place first; the waiter's Lease takes
    // the count over when it wakes (counted = true).
    lend(*conn);
    waiter->conn = conn;
    waiter->timer.cancel();
  }
}

void PgPool::wake_one_for_retry() {
  if (waiters_.empty()) return;
  auto waiter = waiters_.front();
  waiters_.pop_front();
  waiter->retry = true;
  waiter->timer.cancel();
}

}  // namespace cachelab::db

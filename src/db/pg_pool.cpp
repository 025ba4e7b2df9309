#include "db/pg_pool.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace cachelab::db {

std::shared_ptr<PgPool> PgPool::create(asio::any_io_executor ex, PoolOptions options) {
  return std::shared_ptr<PgPool>(new PgPool(ex, std::move(options)));
}

PgPool::Lease::~Lease() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

asio::awaitable<Result<PgPool::Lease>> PgPool::acquire(Clock::time_point deadline) {
  auto self = shared_from_this();
  for (;;) {
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->healthy()) co_return Lease(self, std::move(conn));
      --open_;
    }
    if (open_ < options_.max_size) {
      ++open_;
      auto conn = std::make_unique<PgConnection>(ex_);
      auto connected = co_await conn->connect(options_.conninfo, options_.statement_timeout_ms,
                                              options_.statements, deadline);
      if (!connected) {
        --open_;
        wake_one_for_retry();
        co_return connected.error();
      }
      co_return Lease(self, std::move(conn));
    }
    // All connections are busy: queue up until one is released or the deadline passes.
    auto waiter = std::make_shared<Waiter>(ex_);
    waiter->timer.expires_at(deadline);
    waiters_.push_back(waiter);
    boost::system::error_code ec;
    co_await waiter->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (waiter->conn) co_return Lease(self, std::move(waiter->conn));
    if (waiter->retry) continue;
    waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
    co_return make_error(ErrorKind::timeout, "no PostgreSQL connection became free before the deadline",
                         Backend::database);
  }
}

void PgPool::release(std::unique_ptr<PgConnection> conn) {
  if (!conn->healthy()) {
    --open_;
    wake_one_for_retry();
    return;
  }
  if (!waiters_.empty()) {
    auto waiter = waiters_.front();
    waiters_.pop_front();
    waiter->conn = std::move(conn);
    waiter->timer.cancel();
    return;
  }
  idle_.push_back(std::move(conn));
}

void PgPool::wake_one_for_retry() {
  if (waiters_.empty()) return;
  auto waiter = waiters_.front();
  waiters_.pop_front();
  waiter->retry = true;
  waiter->timer.cancel();
}

}  // namespace cachelab::db

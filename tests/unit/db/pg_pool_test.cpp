// The pool's outage handling (retry, then the circuit breaker), against an address where nothing listens
// (libpq gets "connection refused" at once; no server is needed).
#include "db/pg_pool.hpp"
#include "db/statements.hpp"
#include "support/loop.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace cachelab::db {
namespace {

using namespace std::chrono_literals;
using test::Loop;

PoolOptions refused_options() {
  // Port 1 on loopback: nothing listens there, so every connection attempt fails at once.
  return {.conninfo = "host=127.0.0.1 port=1 dbname=x user=x",
          .max_size = 2,
          .connect_timeout = 500ms,
          .outage_wait = 300ms,
          .retry_pause = 50ms,
          .breaker_open = 300ms,
          .statements = statements()};
}

boost::asio::awaitable<std::string> try_acquire(PgPool& pool) {
  auto lease = co_await pool.acquire(Clock::now() + 2s);
  co_return lease ? std::string("acquired") : lease.error().message;
}

// The error, and how long it took.
std::pair<std::string, Clock::duration> acquire_error(Loop& loop, PgPool& pool) {
  const auto started = Clock::now();
  auto error = loop.run(try_acquire(pool));
  return {error, Clock::now() - started};
}

TEST(PgPoolOutage, ACallerKeepsTryingForTheOutageWaitThenTheBreakerRefusesAtOnce) {
  Loop loop;
  auto pool = PgPool::create(loop.ctx.get_executor(), refused_options());
  // Refused every time: the caller retries every 50 ms for 300 ms (a restart would have been ridden out),
  // then fails; not before, and well within its 2 s deadline.
  auto [first, took] = acquire_error(loop, *pool);
  EXPECT_NE(first, "acquired");
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1s);
  // The failures lasted the outage wait: the breaker is open and refuses at once, saying why.
  auto [second, quick] = acquire_error(loop, *pool);
  EXPECT_NE(second.find("circuit breaker open"), std::string::npos) << second;
  EXPECT_LT(quick, 50ms);
}

TEST(PgPoolOutage, AfterTheOpenPeriodOneCallerTriesAndItsFailureOpensTheBreakerAgain) {
  Loop loop;
  auto pool = PgPool::create(loop.ctx.get_executor(), refused_options());
  acquire_error(loop, *pool);
  ASSERT_NE(acquire_error(loop, *pool).first.find("circuit breaker open"), std::string::npos);
  std::this_thread::sleep_for(350ms);
  // Half-open: this caller tries (refused again), which opens the breaker at once, without a second wait.
  auto [probe, took] = acquire_error(loop, *pool);
  EXPECT_NE(probe, "acquired");
  EXPECT_LT(took, 200ms);
  auto [after, quick] = acquire_error(loop, *pool);
  EXPECT_NE(after.find("circuit breaker open"), std::string::npos) << after;
  EXPECT_LT(quick, 50ms);
}

}  // namespace
}  // namespace cachelab::db

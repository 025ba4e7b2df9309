// The pool's outage handling (retry, then the circuit breaker), against an address where nothing listens
// (libpq gets "connection refused" at once; no server is needed).
#include "db/pg_pool.hpp"
#include "db/statements.hpp"
#include "support/loop.hpp"

#include <gtest/gtest.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

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

// The patience is the pool's, counted from the first refusal: a caller that comes later in an outage gives up
// when the breaker opens, not after an outage wait of its own.
TEST(PgPoolOutage, ALaterCallerGivesUpWhenTheOutageWaitOfTheFirstRefusalEnds) {
  Loop loop;
  auto pool = PgPool::create(loop.ctx.get_executor(), refused_options());
  const auto started = Clock::now();
  Clock::duration first_took{}, second_took{};
  std::string second_error;
  loop.run([&]() -> boost::asio::awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::co_spawn(
        ex,
        [&]() -> boost::asio::awaitable<void> {
          co_await try_acquire(*pool);
          first_took = Clock::now() - started;
        },
        boost::asio::detached);
    boost::asio::steady_timer later(ex, 200ms);
    co_await later.async_wait(boost::asio::use_awaitable);
    const auto second_started = Clock::now();
    second_error = co_await try_acquire(*pool);
    second_took = Clock::now() - second_started;
  }());
  loop.ctx.restart();
  loop.ctx.run();  // the first caller's last tries
  EXPECT_GE(first_took, 250ms);
  EXPECT_NE(second_error, "acquired");
  // The first refusal was 200 ms before the second caller came; the 300 ms wait ends about 100 ms into its
  // tries (one retry pause of 50 ms either way), not 300 ms.
  EXPECT_LT(second_took, 250ms) << second_error;
}

// One failed connection long ago (a caller whose deadline allowed a single try) is no part of a later
// outage: the next refusal starts a new run, and its caller keeps trying for the whole outage wait.
TEST(PgPoolOutage, AFailureLongAfterTheLastStartsANewRun) {
  Loop loop;
  auto pool = PgPool::create(loop.ctx.get_executor(), refused_options());
  auto once = loop.run([&]() -> boost::asio::awaitable<bool> {
    auto lease = co_await pool->acquire(Clock::now() + 20ms);  // no time for a second try
    co_return static_cast<bool>(lease);
  }());
  ASSERT_FALSE(once);
  std::this_thread::sleep_for(400ms);  // past the 300 ms outage wait
  auto [error, took] = acquire_error(loop, *pool);
  EXPECT_NE(error, "acquired");
  EXPECT_GE(took, 250ms) << "refused at once on a stale run: " << error;
}

}  // namespace
}  // namespace cachelab::db

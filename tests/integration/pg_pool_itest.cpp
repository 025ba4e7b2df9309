// db/pg_pool and db/pg_connection against the real PostgreSQL: many callers' batches pipelined on one
// connection, each getting its own answers; a failed statement failing its own batch only; a caller's
// deadline breaking the connection for the batches behind it, and the pool opening a fresh one; a connection
// lost under use taking the idle ones with it; a queued caller riding out a restart; callers past the
// pipeline depth queued. Links cachelab_db itself: these are the exact connections the server uses.
#include "db/pg_pool.hpp"

#include "core/metrics.hpp"
#include "support/harness.hpp"
#include "support/loop.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cachelab::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using db::Clock;
using db::PgPool;
using db::Query;

// The statements every connection of these tests prepares.
const std::vector<db::Statement>& test_statements() {
  static const std::vector<db::Statement> s = {
      {"echo", "SELECT $1::text", nullptr, {}},
      {"sleep", "SELECT pg_sleep($1::float8)::text", nullptr, {}},
      {"divide", "SELECT (1 / $1::int)::text", nullptr, {}},
      {"backend", "SELECT pg_backend_pid()::text", nullptr, {}},
  };
  return s;
}

class PgPoolTest : public ::testing::Test, public Loop {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(backends("start", "pg"), 0); }

  std::shared_ptr<PgPool> pool(int max_size, int depth) {
    db::PoolOptions o{.conninfo = database_url(),
                      .max_size = max_size,
                      .pipeline_depth = depth,
                      .statements = test_statements(),
                      .metrics = db::PoolMetrics::on(registry)};
    metrics = o.metrics;
    return PgPool::create(ctx.get_executor(), o);
  }

  // One caller: a lease, then one batch; its first result's value, or the error's kind and message.
  struct Outcome {
    bool ok = false;
    std::string value;  // the first query's answer, or the error message
    ErrorKind kind = ErrorKind::internal;
    bool pipelined = false;  // the connection was lent to another caller too when this one got it
  };
  static asio::awaitable<Outcome> call(std::shared_ptr<PgPool> p, std::vector<Query> batch,
                                       Clock::duration within) {
    const auto deadline = Clock::now() + within;
    auto lease = co_await p->acquire(deadline);
    if (!lease) co_return Outcome{false, lease.error().message, lease.error().kind};
    const bool shared = (*lease)->lent() > 1;
    auto r = co_await (*lease)->run(batch, deadline);
    if (!r) co_return Outcome{false, r.error().message, r.error().kind, shared};
    co_return Outcome{true, std::string((*r)[0].get(0, 0)), ErrorKind::internal, shared};
  }

  // Starts every call at once (the first with its own deadline, if given) and runs the loop until all have
  // answered.
  std::vector<Outcome> all_at_once(const std::shared_ptr<PgPool>& p,
                                   const std::vector<std::vector<Query>>& batches,
                                   std::optional<Clock::duration> first_within = std::nullopt) {
    std::vector<Outcome> out(batches.size());
    std::size_t done = 0;
    for (std::size_t i = 0; i < batches.size(); ++i) {
      const Clock::duration within = i == 0 && first_within ? *first_within : 5s;
      asio::co_spawn(ctx, call(p, batches[i], within), [&out, &done, i](std::exception_ptr e, Outcome o) {
        if (e) std::rethrow_exception(e);
        out[i] = std::move(o);
        ++done;
      });
    }
    ctx.restart();
    while (done < batches.size()) ctx.run_one();
    return out;
  }

  static std::vector<Query> echo(std::string v) { return {Query{"echo", {std::move(v)}}}; }

  metrics::Registry registry;
  db::PoolMetrics metrics;
};

TEST_F(PgPoolTest, SixtyFourCallersOnOneConnectionEachGetTheirOwnAnswers) {
  auto p = pool(/*max_size=*/1, /*depth=*/64);
  std::vector<std::vector<Query>> batches;
  for (int i = 0; i < 64; ++i) {
    auto b = echo("caller " + std::to_string(i));
    b.push_back(Query{"echo", {std::to_string(i * 7)}});  // two statements per batch
    batches.push_back(std::move(b));
  }
  auto out = all_at_once(p, batches);
  int pipelined = 0;
  for (int i = 0; i < 64; ++i) {
    ASSERT_TRUE(out[i].ok) << out[i].value;
    EXPECT_EQ(out[i].value, "caller " + std::to_string(i));
    pipelined += out[i].pipelined ? 1 : 0;
  }
  EXPECT_EQ(metrics.opened.value(), 1);  // one connection carried them all
  EXPECT_GT(pipelined, 32) << "callers were not sharing the connection";
  // The batches of one turn of the event loop leave together, not one write each.
  EXPECT_EQ(metrics.batches_sent.value(), 64);
  EXPECT_LE(metrics.batch_writes.value(), 8) << "batches were not sent together";
  EXPECT_EQ(metrics.in_use.value(), 0);
}

TEST_F(PgPoolTest, AFailedStatementFailsItsOwnBatchOnly) {
  auto p = pool(1, 16);
  std::vector<std::vector<Query>> batches;
  for (int i = 0; i < 9; ++i) batches.push_back(echo(std::to_string(i)));
  batches[4] = {Query{"echo", {"before"}}, Query{"divide", {"0"}}, Query{"echo", {"after"}}};
  auto out = all_at_once(p, batches);
  for (int i = 0; i < 9; ++i) {
    if (i == 4) continue;
    ASSERT_TRUE(out[i].ok) << i << ": " << out[i].value;
    EXPECT_EQ(out[i].value, std::to_string(i));
  }
  EXPECT_FALSE(out[4].ok);
  EXPECT_NE(out[4].value.find("division by zero"), std::string::npos) << out[4].value;
  // The connection is fine: the next caller gets it, and no connection was counted broken.
  auto next = all_at_once(p, {echo("next")});
  ASSERT_TRUE(next[0].ok) << next[0].value;
  EXPECT_EQ(metrics.opened.value(), 1);
  EXPECT_EQ(metrics.broken.value(), 0);
}

TEST_F(PgPoolTest, ALateBatchBreaksTheConnectionForTheBatchesBehindItAndTheNextCallerGetsAFreshOne) {
  auto p = pool(1, 16);
  const auto first_backend = all_at_once(p, {{Query{"backend", {}}}})[0];
  ASSERT_TRUE(first_backend.ok) << first_backend.value;
  // The first caller's deadline (300 ms) passes while its 2 s sleep runs; the four behind it on the same
  // connection (5 s deadlines) would wait for the sleep too: they fail with it, at once.
  std::vector<std::vector<Query>> batches = {{Query{"sleep", {"2"}}}};
  for (int i = 0; i < 4; ++i) batches.push_back(echo(std::to_string(i)));
  const auto started = Clock::now();
  auto out = all_at_once(p, batches, 300ms);
  EXPECT_LT(Clock::now() - started, 1500ms) << "callers waited for the sleep or their own deadlines";
  EXPECT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].kind, ErrorKind::timeout) << out[0].value;
  for (int i = 1; i < 5; ++i) {
    EXPECT_FALSE(out[i].ok) << i;
    EXPECT_EQ(out[i].kind, ErrorKind::unavailable) << out[i].value;
  }
  // A new connection (another backend) answers the next caller at once.
  auto next = all_at_once(p, {{Query{"backend", {}}}});
  ASSERT_TRUE(next[0].ok) << next[0].value;
  EXPECT_NE(next[0].value, first_backend.value);
  EXPECT_EQ(metrics.opened.value(), 2);
  EXPECT_EQ(metrics.broken.value(), 1);
  EXPECT_EQ(metrics.in_use.value(), 0);
}

// pg_terminate_backend of both pooled connections, as a PostgreSQL restart does: the caller that finds its
// connection lost fails, and the other connection, idle and as dead, is closed with it rather than lent to
// the next caller (a read sent again after the loss), who gets a new connection.
TEST_F(PgPoolTest, AConnectionLostUnderUseTakesTheIdleOnesWithIt) {
  auto p = pool(2, 4);
  // Two callers at once: each opens a connection of its own while the pool has room.
  const auto before = all_at_once(p, {{Query{"backend", {}}}, {Query{"backend", {}}}});
  ASSERT_TRUE(before[0].ok && before[1].ok) << before[0].value << " " << before[1].value;
  ASSERT_NE(before[0].value, before[1].value);
  ASSERT_EQ(metrics.opened.value(), 2);
  const std::string pids = before[0].value + ", " + before[1].value;
  sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid IN (" + pids + ")");
  ASSERT_TRUE(eventually(
      [&] { return sql("SELECT count(*) FROM pg_stat_activity WHERE pid IN (" + pids + ")")[0][0] == "0"; },
      5s));

  const auto lost = all_at_once(p, {echo("lost")});
  EXPECT_FALSE(lost[0].ok);
  EXPECT_EQ(lost[0].kind, ErrorKind::unavailable) << lost[0].value;
  const auto next = all_at_once(p, {{Query{"backend", {}}}});
  ASSERT_TRUE(next[0].ok) << next[0].value << ": the next caller got the other dead connection";
  EXPECT_NE(next[0].value, before[0].value);
  EXPECT_NE(next[0].value, before[1].value);
  EXPECT_EQ(metrics.opened.value(), 3);
  EXPECT_EQ(metrics.broken.value(), 1);  // the idle one was closed, not found broken
  EXPECT_EQ(metrics.in_use.value(), 0);
}

// A restart that begins while a caller waits in the queue: the only connection is cut under its caller, and
// new connections are refused for 450 ms (ALLOW_CONNECTIONS false, which PostgreSQL answers as it answers a
// connection during a restart). The queued caller rides it out: its patience is the pool's 600 ms, counted
// from the first refusal, not from when it began to wait (it waited 300 ms of it behind the busy connection).
TEST_F(PgPoolTest, ACallerQueuedBehindABusyConnectionRidesOutARestartThatBeganWhileItWaited) {
  db::PoolOptions o{.conninfo = database_url(),
                    .max_size = 1,
                    .pipeline_depth = 1,
                    .outage_wait = 600ms,
                    .retry_pause = 50ms,
                    .statements = test_statements(),
                    .metrics = db::PoolMetrics::on(registry)};
  metrics = o.metrics;
  auto p = PgPool::create(ctx.get_executor(), o);
  const std::string admin = "postgresql://cachelab@127.0.0.1:" + env("PG_PORT", "54330") + "/postgres";
  struct AllowAgain {
    std::string url;
    ~AllowAgain() { sql("ALTER DATABASE cachelab ALLOW_CONNECTIONS true", url); }
  } allow_again{admin};
  std::thread restart([&] {
    std::this_thread::sleep_for(300ms);
    sql("ALTER DATABASE cachelab ALLOW_CONNECTIONS false", admin);
    sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND "
        "pid <> pg_backend_pid()",
        admin);
    std::this_thread::sleep_for(450ms);
    sql("ALTER DATABASE cachelab ALLOW_CONNECTIONS true", admin);
  });
  auto out = all_at_once(p, {{Query{"sleep", {"2"}}}, echo("queued")});
  restart.join();
  EXPECT_FALSE(out[0].ok) << "the sleep's connection was cut";
  EXPECT_TRUE(out[1].ok) << out[1].value;
  EXPECT_EQ(out[1].value, "queued");
  EXPECT_GE(metrics.open_failed.value(), 1) << "no connection was refused: the restart was not seen";
  EXPECT_EQ(metrics.breaker_trips.value(), 0);
}

TEST_F(PgPoolTest, CallersPastThePipelineDepthWaitForAPlace) {
  auto p = pool(1, 2);
  // Two sleeps fill the only connection's two places; the third caller queues until one is answered.
  std::vector<std::vector<Query>> batches = {
      {Query{"sleep", {"0.3"}}}, {Query{"sleep", {"0.3"}}}, echo("third")};
  std::int64_t waiting_seen = 0;
  asio::steady_timer probe(ctx, 100ms);
  probe.async_wait([&](auto) { waiting_seen = metrics.waiting.value(); });
  const auto started = Clock::now();
  auto out = all_at_once(p, batches);
  for (const auto& o : out) ASSERT_TRUE(o.ok) << o.value;
  EXPECT_EQ(out[2].value, "third");
  EXPECT_EQ(waiting_seen, 1);
  EXPECT_GE(Clock::now() - started, 300ms);
  EXPECT_EQ(metrics.opened.value(), 1);
}

TEST_F(PgPoolTest, DepthOneLendsEachConnectionToOneCallerAtATime) {
  auto p = pool(2, 1);
  std::vector<std::vector<Query>> batches;
  for (int i = 0; i < 8; ++i) batches.push_back(echo(std::to_string(i)));
  auto out = all_at_once(p, batches);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(out[i].ok) << out[i].value;
    EXPECT_EQ(out[i].value, std::to_string(i));
    EXPECT_FALSE(out[i].pipelined) << i;
  }
  EXPECT_EQ(metrics.opened.value(), 2);
}

}  // namespace
}  // namespace cachelab::test

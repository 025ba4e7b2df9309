#include "cache/redis_connection.hpp"
#include "cache/store.hpp"

#include "support/loop.hpp"
#include "support/scripted_redis.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <string>
#include <vector>

namespace cachelab::cache {
namespace {

using namespace std::chrono_literals;
using test::ScriptedRedis;

// The invalidation script answers with the new generation; what else the store sends is answered as the test
// says (PING by default with PONG).
struct RedisStoreInvalidateTest : ::testing::Test, test::Loop {
  ScriptedRedis redis{ctx};
  std::shared_ptr<RedisConnection> conn = RedisConnection::create(
      ctx.get_executor(), {.endpoint = {.host = "127.0.0.1", .port = redis.port()}, .timeout = 2s});
  const std::vector<std::string> drop{"cachelab:{v1}:product:1"};  // outlives the coroutines given it
  std::string ping_answer = "+PONG\r\n";
  bool hold_after_ping = false;

  void SetUp() override {
    redis.answer = [this](const std::vector<std::string>& cmd) -> std::string {
      if (cmd[0] == "EVAL") return ":7\r\n";
      if (cmd[0] == "WAIT") return ":1\r\n";
      if (cmd[0] == "PING") {
        redis.hold = hold_after_ping;
        return ping_answer;
      }
      return "$-1\r\n";
    };
    conn->start();
  }
  void TearDown() override {
    conn->stop();
    ctx.restart();
    ctx.run_for(20ms);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& c : redis.commands) out.push_back(c[0]);
    return out;
  }
};

// Redis may write the script's answer before the invalidations it sends other clients in the same turn: the
// write is answered only after a round trip that Redis reads in a later turn, so after the script's answer
// (not in its pipeline) and answered before invalidate() returns.
TEST_F(RedisStoreInvalidateTest, ReturnsOnlyAfterARoundTripThatFollowsTheScriptsAnswer) {
  auto store = make_redis_store(conn);
  hold_after_ping = true;
  auto call = asio::co_spawn(ctx, store->invalidate(drop, 0), asio::use_future);
  ctx.restart();
  ctx.run_for(100ms);
  ASSERT_EQ(names(), (std::vector<std::string>{"EVAL", "PING"}));
  ASSERT_EQ(redis.commands_per_read, (std::vector<std::size_t>{1, 1}));  // PING sent once EVAL was answered
  EXPECT_NE(call.wait_for(0s), std::future_status::ready) << "answered before the round trip came back";
  redis.release();
  while (call.wait_for(0s) != std::future_status::ready) ctx.run_one();
  auto r = call.get();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->generation, 7);
  EXPECT_TRUE(r->replicated);
}

// The round trip only orders the answer: the invalidation went through, so its failure is not the write's.
TEST_F(RedisStoreInvalidateTest, AFailedRoundTripAfterTheScriptStillReportsTheInvalidation) {
  auto store = make_redis_store(conn);
  ping_answer = "-ERR refused\r\n";
  auto r = run(store->invalidate(drop, 0));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->generation, 7);
  EXPECT_EQ(names(), (std::vector<std::string>{"EVAL", "PING"}));
}

// WAIT is answered in a later turn of Redis's loop already: no PING after it.
TEST_F(RedisStoreInvalidateTest, NoExtraRoundTripWhenWaitFollowsTheScript) {
  auto store = make_redis_store(conn, nullptr, false, WriteOptions{.connection = conn, .wait_replicas = 1});
  auto r = run(store->invalidate(drop, 0));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->generation, 7);
  EXPECT_TRUE(r->replicated);
  EXPECT_EQ(names(), (std::vector<std::string>{"EVAL", "WAIT"}));
}

}  // namespace
}  // namespace cachelab::cache

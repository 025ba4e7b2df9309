#include "cache/redis_connection.hpp"

#include "support/loop.hpp"
#include "support/scripted_redis.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <hiredis/hiredis.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

namespace cachelab::cache {
namespace {

using namespace std::chrono_literals;

using test::ScriptedRedis;

// Commands are written in RESP by append_command; hiredis's own formatter is the oracle: the same bytes for
// empty, binary and long arguments, and for the commands the store sends.
TEST(AppendCommand, WritesWhatHiredisFormatterWrites) {
  auto hiredis = [](const RedisCommand& cmd) {
    std::vector<const char*> argv;
    std::vector<std::size_t> argl;
    for (auto a : cmd) {
      argv.push_back(a.data());
      argl.push_back(a.size());
    }
    char* formatted = nullptr;
    const int n = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), argv.data(), argl.data());
    std::string out(formatted, static_cast<std::size_t>(n));
    redisFreeCommand(formatted);
    return out;
  };
  const std::string binary("a\0b\r\nc", 7);
  const std::string long_arg(100000, 'x');
  std::vector<RedisCommand> cases = {
      {"PING"},           {"GET", "cachelab:v1:product:1"},
      {"SET", "k", ""},   {"ECHO", binary},
      {"ECHO", long_arg}, {"CLIENT", "TRACKING", "on", "REDIRECT", "12345", "NOLOOP"}};
  std::mt19937 rng(7);
  std::vector<std::string> random_args;
  for (int i = 0; i < 200; ++i) {
    std::string a(rng() % 40, '\0');
    for (auto& c : a) c = static_cast<char>(rng());
    random_args.push_back(std::move(a));
  }
  for (int i = 0; i + 5 <= 200; i += 5) {
    cases.push_back({random_args.begin() + i, random_args.begin() + i + 1 + static_cast<int>(rng() % 4)});
  }
  for (const auto& cmd : cases) {
    std::string ours = "prefix";
    append_command(ours, cmd);
    EXPECT_EQ(ours, "prefix" + hiredis(cmd)) << cmd[0];
  }
}

struct RedisConnectionTest : ::testing::Test, test::Loop {
  ScriptedRedis redis{ctx};
  std::shared_ptr<RedisConnection> conn =
      RedisConnection::create(ctx.get_executor(), {.endpoint = {.host = "127.0.0.1", .port = redis.port()},
                                                   .timeout = 50ms,
                                                   .breaker_threshold = 3,
                                                   .breaker_open = 200ms});

  void SetUp() override { conn->start(); }
  void TearDown() override {
    conn->stop();
    ctx.restart();
    ctx.run_for(20ms);
  }

  asio::awaitable<Result<std::vector<RedisReply>>> echo(std::string what) {
    const RedisCommand cmd[] = {{"ECHO", what}};
    auto r = co_await conn->exec(cmd);
    co_return r;
  }
  // `what` as a batch that may share another's replies (Sharing::reads), or not.
  asio::awaitable<Result<std::vector<RedisReply>>> read(std::vector<std::string> what,
                                                        RedisConnection::Sharing sharing) {
    std::vector<RedisCommand> cmds;
    for (const auto& w : what) cmds.push_back({"ECHO", w});
    auto r = co_await conn->exec(cmds, sharing);
    co_return r;
  }
  // Starts every batch in the same turn of the loop and runs it until all have answered.
  std::vector<Result<std::vector<RedisReply>>> all_at_once(
      const std::vector<std::pair<std::vector<std::string>, RedisConnection::Sharing>>& batches) {
    std::vector<std::future<Result<std::vector<RedisReply>>>> calls;
    for (const auto& [what, sharing] : batches) {
      calls.push_back(asio::co_spawn(ctx, read(what, sharing), asio::use_future));
    }
    ctx.restart();
    for (auto& c : calls) {
      while (c.wait_for(0s) != std::future_status::ready) ctx.run_one();
    }
    std::vector<Result<std::vector<RedisReply>>> out;
    for (auto& c : calls) out.push_back(c.get());
    return out;
  }
  static constexpr auto shared = RedisConnection::Sharing::reads;
  static constexpr auto alone = RedisConnection::Sharing::alone;
  // Runs the loop for `d` (timers, reconnects) without waiting on anything in particular.
  void pass(std::chrono::milliseconds d) {
    ctx.restart();
    ctx.run_for(d);
  }
};

TEST_F(RedisConnectionTest, CommandsOfOneTurnLeaveInOneWriteAndRepliesReachTheirOwnCallers) {
  ASSERT_TRUE(run(echo("warm-up")));  // connected
  redis.commands_per_read.clear();
  std::vector<std::future<Result<std::vector<RedisReply>>>> calls;
  for (const char* w : {"a", "b", "c"}) calls.push_back(asio::co_spawn(ctx, echo(w), asio::use_future));
  const RedisCommand batch[] = {{"ECHO", "d1"}, {"ECHO", "d2"}};
  auto batched = asio::co_spawn(ctx, conn->exec(batch), asio::use_future);
  ctx.restart();
  while (batched.wait_for(0s) != std::future_status::ready) ctx.run_one();
  ctx.run_for(10ms);
  int i = 0;
  for (const char* w : {"a", "b", "c"}) {
    auto r = calls[i++].get();
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].str, w);
  }
  auto b = batched.get();
  ASSERT_TRUE(b);
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].str, "d1");
  EXPECT_EQ((*b)[1].str, "d2");
  ASSERT_FALSE(redis.commands_per_read.empty());
  EXPECT_EQ(redis.commands_per_read[0], 5u) << "the five commands of one turn arrive in one write";
}

TEST_F(RedisConnectionTest, AReplyLargerThanTheReadBufferArrivesWholeAndTheNextOneAfterIt) {
  // The read buffer is 16 KiB: a 200 KB value comes in many reads, and the reply behind it in the same ones.
  const std::string big(200000, 'v');
  auto r = all_at_once({{{big}, alone}, {{"after"}, alone}});
  ASSERT_TRUE(r[0]) << r[0].error().message;
  ASSERT_TRUE(r[1]) << r[1].error().message;
  ASSERT_EQ(r[0]->size(), 1u);
  EXPECT_EQ((*r[0])[0].str.size(), big.size());
  EXPECT_EQ((*r[0])[0].str, big);
  ASSERT_EQ(r[1]->size(), 1u);
  EXPECT_EQ((*r[1])[0].str, "after");
}

TEST_F(RedisConnectionTest, ALateReplyGoesToItsAbandonedCallerNotToTheNextOne) {
  ASSERT_TRUE(run(echo("warm-up")));
  redis.hold = true;
  auto late = run(echo("late"));
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().kind, ErrorKind::timeout);
  EXPECT_EQ(late.error().backend, Backend::cache);
  redis.release();  // "late" arrives now and must be dropped
  auto next = run(echo("next"));
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ((*next)[0].str, "next");
}

TEST_F(RedisConnectionTest, TheBreakerOpensAfterThreeFailuresFailsFastThenOneProbeClosesIt) {
  ASSERT_TRUE(run(echo("warm-up")));
  redis.hold = true;
  for (int i = 0; i < 3; ++i) {
    auto r = run(echo("stuck"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  }
  // Open: fails at once, without waiting for the 50 ms timeout and without sending anything.
  const auto sent = redis.commands.size();
  const auto started = std::chrono::steady_clock::now();
  auto fast = run(echo("refused"));
  ASSERT_FALSE(fast);
  EXPECT_EQ(fast.error().kind, ErrorKind::unavailable);
  EXPECT_NE(fast.error().message.find("breaker"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20ms);
  EXPECT_EQ(redis.commands.size(), sent);

  redis.release();
  pass(250ms);  // past breaker_open: half-open
  // One probe goes through; a call made while it is in flight still fails fast.
  auto probe = asio::co_spawn(ctx, echo("probe"), asio::use_future);
  auto during = asio::co_spawn(ctx, echo("during"), asio::use_future);
  ctx.restart();
  while (probe.wait_for(0s) != std::future_status::ready) ctx.run_one();
  auto p = probe.get();
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ((*p)[0].str, "probe");
  auto d = during.get();
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("breaker"), std::string::npos);
  // Closed again.
  auto after = run(echo("after"));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ((*after)[0].str, "after");
}

TEST_F(RedisConnectionTest, ALostConnectionFailsItsCallersAndIsReopened) {
  ASSERT_TRUE(run(echo("warm-up")));
  redis.hold = true;
  auto pending = asio::co_spawn(ctx, echo("in-flight"), asio::use_future);
  ctx.restart();
  ctx.run_for(10ms);
  redis.drop();
  while (pending.wait_for(0s) != std::future_status::ready) ctx.run_one();
  auto lost = pending.get();
  ASSERT_FALSE(lost);
  EXPECT_EQ(lost.error().kind, ErrorKind::unavailable);
  EXPECT_FALSE(conn->connected());
  redis.hold = false;
  pass(300ms);  // the reconnect loop's first backoff is 100 ms
  EXPECT_TRUE(conn->connected());
  auto again = run(echo("again"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)[0].str, "again");
}

// Many requests for one hot key in one turn: their identical read batches go to Redis once (twice at most: on
// an idle connection the first batch is written at once, before the others are asked for), and each caller
// gets the replies.
TEST_F(RedisConnectionTest, TheSameReadsQueuedBackToBackInOneTurnAreSentOnceAndAnswerEveryCaller) {
  ASSERT_TRUE(run(echo("warm-up")));
  redis.commands.clear();
  const auto out = all_at_once(std::vector(5, std::pair{std::vector<std::string>{"k", "ttl"}, shared}));
  for (const auto& r : out) {
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].str, "k");
    EXPECT_EQ((*r)[1].str, "ttl");
  }
  EXPECT_LE(redis.commands.size(), 4u) << "five callers, their batch of two commands sent at most twice";
}

// Only the batch just before, unwritten, and only byte for byte: a different batch between two identical
// ones, a caller that did not ask to share, or a batch already written each make the later caller send its
// own.
TEST_F(RedisConnectionTest, ReadsAreSharedOnlyWithTheUnwrittenIdenticalBatchJustBeforeThem) {
  ASSERT_TRUE(run(echo("warm-up")));
  redis.commands.clear();
  auto out = all_at_once({{{"k"}, shared}, {{"other"}, shared}, {{"k"}, shared}});
  for (const auto& r : out) ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*out[2])[0].str, "k");
  EXPECT_EQ(redis.commands.size(), 3u) << "a batch between them: not shared";

  redis.commands.clear();
  out = all_at_once({{{"k"}, shared}, {{"k"}, alone}, {{"k", "k"}, shared}});
  for (const auto& r : out) ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(redis.commands.size(), 4u) << "a caller that shares nothing, and a longer batch: not shared";

  // The first batch is written (Redis holds its answer back) before the second is asked for: the second is
  // sent on its own, so that it sees whatever completed in between.
  redis.commands.clear();
  redis.hold = true;
  auto first = asio::co_spawn(ctx, read({"k"}, shared), asio::use_future);
  pass(10ms);
  ASSERT_EQ(redis.commands.size(), 1u);
  auto second = asio::co_spawn(ctx, read({"k"}, shared), asio::use_future);
  pass(10ms);
  EXPECT_EQ(redis.commands.size(), 2u) << "a written batch is not shared";
  redis.release();
  ctx.restart();
  while (second.wait_for(0s) != std::future_status::ready) ctx.run_one();
  ASSERT_TRUE(first.get());
  ASSERT_TRUE(second.get());
}

// A shared batch that times out fails all its callers, but counts once toward the breaker (three failures):
// five callers of one late batch leave it closed.
TEST_F(RedisConnectionTest, ASharedBatchThatTimesOutCountsOnceTowardTheBreaker) {
  ASSERT_TRUE(run(echo("warm-up")));
  redis.hold = true;
  const auto late = all_at_once(std::vector(5, std::pair{std::vector<std::string>{"k"}, shared}));
  for (const auto& r : late) {
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::timeout);
  }
  redis.release();
  auto next = run(echo("next"));
  ASSERT_TRUE(next) << "the breaker opened: " << next.error().message;
  EXPECT_EQ((*next)[0].str, "next");
}

}  // namespace
}  // namespace cachelab::cache

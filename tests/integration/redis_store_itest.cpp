// cache/redis_store's leases against the real Redis: the Lua script that refuses a lease while the key it is
// for holds a value (the stampede guard's second half), the plain SET NX the stale-while-revalidate refresh
// uses, compare-and-delete on release, and an error reply (OOM) that stays an error. Links cachelab_cache
// itself: these are the exact commands the server sends.
#include "cache/redis_connection.hpp"
#include "cache/store.hpp"

#include "support/harness.hpp"
#include "support/loop.hpp"

#include <gtest/gtest.h>

namespace cachelab::test {
namespace {

using namespace std::chrono_literals;

class RedisStoreTest : public ::testing::Test, public Loop {
 protected:
  static void SetUpTestSuite() { ASSERT_EQ(backends("start", "redis"), 0); }
  void SetUp() override {
    redis({"FLUSHALL"});
    cache::RedisConnection::Options options;
    options.endpoint.port = env("REDIS_PORT", "63800");
    options.timeout = 2s;
    conn = cache::RedisConnection::create(ctx.get_executor(), options);
    conn->start();
    store = cache::make_redis_store(conn);
  }
  void TearDown() override {
    conn->stop();
    ctx.restart();
    ctx.poll();
  }
  // "held", "refused", or the error's message.
  std::string lease(std::string_view token, std::string_view unless_present = {}) {
    auto r = run(store->acquire_lease("t:lease:k", token, 3s, unless_present));
    if (!r) return r.error().message;
    return *r ? "held" : "refused";
  }

  std::shared_ptr<cache::RedisConnection> conn;
  std::shared_ptr<cache::Store> store;
};

TEST_F(RedisStoreTest, OneCallerHoldsALeaseUntilItReleasesIt) {
  ASSERT_EQ(lease("a", "t:k"), "held");
  EXPECT_EQ(redis({"GET", "t:lease:k"}), "a");
  const auto ttl = std::stoll(redis({"PTTL", "t:lease:k"}).value());
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 3000);
  EXPECT_EQ(lease("b", "t:k"), "refused");  // held
  ASSERT_TRUE(run(store->release_lease("t:lease:k", "b")));
  EXPECT_EQ(redis({"GET", "t:lease:k"}), "a");  // not b's to release
  ASSERT_TRUE(run(store->release_lease("t:lease:k", "a")));
  EXPECT_EQ(redis({"GET", "t:lease:k"}), std::nullopt);
  EXPECT_EQ(lease("b", "t:k"), "held");
}

TEST_F(RedisStoreTest, NoLeaseWhileTheKeyHoldsAValue) {
  // Someone loaded and stored the key (and released the lease) after our lookup missed.
  redis({"SET", "t:k", "value"});
  EXPECT_EQ(lease("a", "t:k"), "refused");
  EXPECT_EQ(redis({"EXISTS", "t:lease:k"}), "0");  // nothing taken
  // The stale-while-revalidate refresh asks without `unless_present`: the stale value is why it refreshes.
  EXPECT_EQ(lease("a"), "held");
}

TEST_F(RedisStoreTest, AnErrorReplyIsAnErrorNotALeaseHeldElsewhere) {
  ASSERT_EQ(redis({"CONFIG", "SET", "maxmemory-policy", "noeviction"}), "OK");
  ASSERT_EQ(redis({"CONFIG", "SET", "maxmemory", "1"}), "OK");  // below what Redis uses: every write is OOM
  auto scripted = lease("a", "t:k");
  auto plain = lease("a");
  redis({"CONFIG", "SET", "maxmemory", "64mb"});
  redis({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  EXPECT_NE(scripted.find("OOM"), std::string::npos) << scripted;
  EXPECT_NE(plain.find("OOM"), std::string::npos) << plain;
}

}  // namespace
}  // namespace cachelab::test

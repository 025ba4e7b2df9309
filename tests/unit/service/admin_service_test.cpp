#include "service/admin_service.hpp"

#include "service/catalog_service.hpp"
#include "support/fakes.hpp"
#include "support/loop.hpp"

#include <gtest/gtest.h>

namespace cachelab::service {
namespace {

// Stats, the key browser and the flush, against the same in-memory Redis the catalog reads through.
struct Admin : ::testing::Test, test::Loop {
  std::shared_ptr<test::FakeRedis> redis = std::make_shared<test::FakeRedis>();
  std::shared_ptr<test::FakeCatalog> db = std::make_shared<test::FakeCatalog>();
  std::shared_ptr<test::FakeDbInspector> pg = std::make_shared<test::FakeDbInspector>();
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  Policy policy;
  CatalogService svc{ctx.get_executor(), redis, db, counters, policy};
  AdminService admin{redis, redis, pg, counters, policy};
};

TEST_F(Admin, ClearRemovesKeysAndResetsCounters) {
  run(svc.product(1, CacheMode::use));
  run(svc.products(10, 0, CacheMode::use));
  auto n = run(admin.clear_cache());
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(counters->snapshot().misses, 0);
  EXPECT_EQ(counters->snapshot().db_queries, 0);
}

TEST_F(Admin, StatsReportRedisAndAppCountersAndSurviveRedisDown) {
  run(svc.product(1, CacheMode::use));
  auto s = run(admin.cache_stats());
  ASSERT_TRUE(s.redis);
  EXPECT_EQ(s.redis->keys, 1);
  EXPECT_DOUBLE_EQ(s.redis->hit_rate(), 0.75);
  redis->down = true;
  auto down = run(admin.cache_stats());
  EXPECT_FALSE(down.redis);
  EXPECT_EQ(down.app.misses, 1);
}

TEST_F(Admin, TheKeyBrowserOnlyTouchesOurNamespace) {
  run(svc.product(3, CacheMode::use));
  auto v = run(admin.read_key("cachelab:{v1}:product:3"));
  ASSERT_TRUE(v);
  ASSERT_TRUE(*v);
  EXPECT_NE((*v)->value.find("\"id\":3"), std::string::npos);
  auto foreign = run(admin.read_key("someone:else"));
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().kind, ErrorKind::invalid_argument);
  EXPECT_FALSE(run(admin.delete_key("someone:else")));
  EXPECT_TRUE(*run(admin.delete_key("cachelab:{v1}:product:3")));
  EXPECT_FALSE(*run(admin.read_key("cachelab:{v1}:product:3")));
}

TEST_F(Admin, AFlushRetiresLoadsThatBeganBeforeIt) {
  // The reader has looked up and loaded; a flush happens before it stores.
  redis->before_store = [&] { ASSERT_TRUE(run_nested(admin.clear_cache())); };
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->stored);
  EXPECT_EQ(redis->generation, 1);
}

TEST_F(Admin, ReadinessNeedsPostgresAndReportsRedis) {
  auto both = run(admin.readiness());
  EXPECT_TRUE(both.database);
  EXPECT_TRUE(both.cache);
  redis->down = true;
  EXPECT_FALSE(run(admin.readiness()).cache);
  pg->down = true;
  EXPECT_FALSE(run(admin.readiness()).database);
}

TEST_F(Admin, ExpiringAProductForTheDemoDeletesItsKeyAndNamesIt) {
  run(svc.product(4, CacheMode::use));
  auto key = run(admin.expire_product(4));
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, "cachelab:{v1}:product:4");
  EXPECT_FALSE(redis->data.contains(*key));
}

// The cache's state in /api/stats: unavailable without Redis, degraded for `degraded_for` after a failure.
TEST(CacheState, IsDegradedForAWhileAfterARedisFailureThenOk) {
  CacheStats s;
  EXPECT_EQ(s.state(), "unavailable");
  s.redis = RedisStats{};
  EXPECT_EQ(s.state(), "ok");  // ms_since_redis_error = -1: never failed
  s.app.ms_since_redis_error = 0;
  EXPECT_EQ(s.state(), "degraded");
  s.app.ms_since_redis_error = std::chrono::milliseconds(degraded_for).count() - 1;
  EXPECT_EQ(s.state(), "degraded");
  s.app.ms_since_redis_error = std::chrono::milliseconds(degraded_for).count();
  EXPECT_EQ(s.state(), "ok");
}

TEST(CacheState, ARedisErrorIsTimedByTheCounters) {
  Counters c;
  EXPECT_EQ(c.snapshot().ms_since_redis_error, -1);
  c.redis_error();
  const auto since = c.snapshot().ms_since_redis_error;
  EXPECT_GE(since, 0);
  EXPECT_LT(since, 1000);
  c.reset();  // a flush clears statistics, not the fact that Redis failed
  EXPECT_GE(c.snapshot().ms_since_redis_error, 0);
}

}  // namespace
}  // namespace cachelab::service

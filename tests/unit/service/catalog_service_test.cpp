#include "service/catalog_service.hpp"

#include "api/handlers.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <map>

namespace cachelab::service {
namespace {

namespace asio = boost::asio;

// In-memory cache::Store; `down` makes every call fail like an unreachable Redis.
class FakeStore : public cache::Store {
 public:
  std::map<std::string, std::pair<std::string, std::int64_t>, std::less<>> data;
  bool down = false;
  int sets = 0;

  asio::awaitable<Result<std::optional<cache::CachedValue>>> get(std::string_view key) override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    auto it = data.find(key);
    if (it == data.end()) co_return std::optional<cache::CachedValue>{};
    co_return std::optional<cache::CachedValue>{cache::CachedValue{it->second.first, it->second.second}};
  }
  asio::awaitable<Result<void>> set(std::string_view key, std::string_view value,
                                    std::chrono::milliseconds ttl) override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    ++sets;
    data[std::string(key)] = {std::string(value), ttl.count()};
    co_return Result<void>{};
  }
  asio::awaitable<Result<cache::ServerInfo>> info() override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    co_return cache::ServerInfo{{"keyspace_hits", "3"}, {"keyspace_misses", "1"}, {"maxmemory", "100"}};
  }
  asio::awaitable<Result<std::int64_t>> count(std::string_view) override {
    co_return static_cast<std::int64_t>(data.size());
  }
  asio::awaitable<Result<std::int64_t>> remove(std::string_view) override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    auto n = static_cast<std::int64_t>(data.size());
    data.clear();
    co_return n;
  }
  bool connected() const override { return !down; }
};

class FakeCatalog : public db::Catalog {
 public:
  int queries = 0;
  bool down = false;

  asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id) override {
    ++queries;
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    if (id > 100) co_return std::optional<model::Product>{};
    co_return std::optional<model::Product>{
        model::Product{id, "Kettle", "Boils", "19.90", "Home", "t0", "t1"}};
  }
  asio::awaitable<Result<model::ProductPage>> products_page(int limit, std::int64_t offset) override {
    ++queries;
    model::ProductPage page;
    page.limit = limit;
    page.offset = offset;
    page.total = 100;
    co_return page;
  }
  asio::awaitable<Result<std::vector<model::CategoryStats>>> category_stats() override {
    ++queries;
    co_return std::vector<model::CategoryStats>{{1, "Books", 2, 3, "4.50", "10.00", "5.00", "15.00"}};
  }
  asio::awaitable<Result<model::SearchPage>> search(std::string_view query, int limit,
                                                    std::int64_t offset) override {
    ++queries;
    last_query = std::string(query);
    co_return model::SearchPage{std::string(query), {}, 0, limit, offset};
  }
  asio::awaitable<Result<model::TopProducts>> top_products(int limit, int min_reviews) override {
    ++queries;
    co_return model::TopProducts{{}, min_reviews, limit};
  }
  std::string last_query;

  asio::awaitable<Result<void>> ping() override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    co_return Result<void>{};
  }
};

template <class T>
T run(asio::awaitable<T> op) {
  asio::io_context ctx;
  auto fut = asio::co_spawn(ctx, std::move(op), asio::use_future);
  ctx.run();
  return fut.get();
}

struct Fixture : ::testing::Test {
  std::shared_ptr<FakeStore> store = std::make_shared<FakeStore>();
  std::shared_ptr<FakeCatalog> db = std::make_shared<FakeCatalog>();
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  CatalogService svc{store, db, counters, Policy{std::chrono::milliseconds(60000)}};
};

TEST_F(Fixture, MissLoadsStoresWithTheTtlThenHitServesTheStoredBytes) {
  auto miss = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(miss);
  EXPECT_EQ(miss->source, Source::database);
  EXPECT_EQ(store->data.at("cachelab:v1:product:7").second, 60000);
  auto hit = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->source, Source::cache);
  EXPECT_EQ(hit->body, miss->body);
  EXPECT_EQ(db->queries, 1);
  auto c = counters->snapshot();
  EXPECT_EQ(c.hits, 1);
  EXPECT_EQ(c.misses, 1);
  EXPECT_EQ(c.db_queries, 1);
}

TEST_F(Fixture, BypassNeverTouchesTheCache) {
  auto a = run(svc.product(7, CacheMode::bypass));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->bypassed);
  EXPECT_TRUE(store->data.empty());
  EXPECT_EQ(counters->snapshot().misses, 0);
  EXPECT_EQ(counters->snapshot().db_queries, 1);
}

TEST_F(Fixture, RedisFailureFallsBackToTheDatabase) {
  store->down = true;
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source, Source::database);
  EXPECT_TRUE(a->cache_unavailable);
  EXPECT_EQ(counters->snapshot().redis_errors, 1);  // the GET failed; no SET was tried
  EXPECT_EQ(store->sets, 0);
}

TEST_F(Fixture, NotFoundIsAnErrorAndIsNotCachedAsAValue) {
  auto a = run(svc.product(999, CacheMode::use));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::not_found);
  EXPECT_TRUE(store->data.empty());
}

TEST_F(Fixture, DatabaseFailureIsReturned) {
  db->down = true;
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::unavailable);
  EXPECT_TRUE(store->data.empty());
}

TEST_F(Fixture, ClearRemovesKeysAndResetsCounters) {
  run(svc.product(1, CacheMode::use));
  run(svc.products(10, 0, CacheMode::use));
  auto n = run(svc.clear_cache());
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(counters->snapshot().misses, 0);
  EXPECT_EQ(counters->snapshot().db_queries, 0);
}

TEST_F(Fixture, StatsReportRedisAndAppCountersAndSurviveRedisDown) {
  run(svc.product(1, CacheMode::use));
  auto s = run(svc.cache_stats());
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->redis);
  EXPECT_EQ(s->redis->keys, 1);
  EXPECT_DOUBLE_EQ(s->redis->hit_rate(), 0.75);
  store->down = true;
  auto down = run(svc.cache_stats());
  ASSERT_TRUE(down);
  EXPECT_FALSE(down->redis);
  EXPECT_EQ(down->app.misses, 1);
}

TEST_F(Fixture, EachEndpointHasItsOwnKeyAndTtl) {
  Policy p;
  p.categories_ttl = std::chrono::milliseconds(5000);
  p.search_ttl = std::chrono::milliseconds(7000);
  CatalogService custom{store, db, counters, p};
  ASSERT_TRUE(run(custom.categories(CacheMode::use)));
  ASSERT_TRUE(run(custom.search("coffee", 10, 0, CacheMode::use)));
  ASSERT_TRUE(run(custom.top_products(5, CacheMode::use)));
  EXPECT_EQ(store->data.at("cachelab:v1:categories").second, 5000);
  EXPECT_EQ(store->data.at("cachelab:v1:search:limit=10:offset=0:q=coffee").second, 7000);
  EXPECT_EQ(store->data.at("cachelab:v1:top-products:limit=5:min_reviews=5").second, 60000);
  EXPECT_EQ(db->last_query, "coffee");
  ASSERT_TRUE(run(custom.categories(CacheMode::use)));
  EXPECT_EQ(db->queries, 3);  // the second categories read was a hit
}

TEST(RenderAnswer, SplicesSourceTimingAndTtlIntoTheStoredObject) {
  Answer a;
  a.body = R"({"id":1,"price":19.90})";
  a.source = Source::cache;
  a.ttl_ms = 41200;
  auto res = api::render_answer(a, 0.25);
  auto j = boost::json::parse(res.body());
  EXPECT_EQ(j.at("source"), "cache");
  EXPECT_DOUBLE_EQ(j.at("fetch_time_ms").as_double(), 0.25);
  EXPECT_EQ(j.at("ttl_remaining_s"), 42);
  EXPECT_EQ(res["X-Cache"], "HIT");
  EXPECT_EQ(res["Cache-Status"], "cachelab; hit; ttl=42");

  Answer down;
  down.body = R"({"id":1})";
  down.cache_unavailable = true;
  auto res2 = api::render_answer(down, 1.0);
  auto j2 = boost::json::parse(res2.body());
  EXPECT_EQ(j2.at("source"), "database");
  EXPECT_EQ(j2.at("cache"), "unavailable");
  EXPECT_FALSE(j2.as_object().contains("ttl_remaining_s"));
  EXPECT_EQ(res2["X-Cache"], "MISS");
}

}  // namespace
}  // namespace cachelab::service

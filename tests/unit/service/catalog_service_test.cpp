#include "service/catalog_service.hpp"

#include "api/handlers.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <future>
#include <map>
#include <set>

namespace cachelab::service {
namespace {

namespace asio = boost::asio;

// In-memory cache::Store; `down` makes every call fail like an unreachable Redis.
class FakeStore : public cache::Store {
 public:
  std::map<std::string, std::pair<std::string, std::int64_t>, std::less<>> data;
  std::int64_t generation = 0;
  bool down = false;
  int stores = 0;
  std::map<std::string, std::string, std::less<>> leases;
  // Runs between a lookup and the store that follows it, to simulate a write racing a slow reader.
  std::function<void()> before_store;

  std::string resolve(std::string_view key) const {
    std::string k(key);
    if (auto at = k.find("{gen}"); at != std::string::npos) k.replace(at, 5, std::to_string(generation));
    return k;
  }
  asio::awaitable<Result<cache::Lookup>> lookup(std::string_view key) override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    cache::Lookup out{std::to_string(generation), resolve(key), std::nullopt};
    if (auto it = data.find(out.key); it != data.end()) {
      out.value = cache::CachedValue{it->second.first, it->second.second};
    }
    co_return out;
  }
  asio::awaitable<Result<bool>> store(std::string_view key, std::string_view value,
                                      std::chrono::milliseconds ttl, std::string_view gen) override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    if (before_store) std::exchange(before_store, nullptr)();
    if (gen != std::to_string(generation)) co_return false;
    ++stores;
    data[std::string(key)] = {std::string(value), ttl.count()};
    co_return true;
  }
  asio::awaitable<Result<std::string>> invalidate(const std::vector<std::string>& keys) override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    for (const auto& k : keys) data.erase(k);
    co_return std::to_string(++generation);
  }
  asio::awaitable<Result<bool>> acquire_lease(std::string_view key, std::string_view token,
                                              std::chrono::milliseconds) override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    co_return leases.emplace(std::string(key), std::string(token)).second;
  }
  asio::awaitable<Result<void>> release_lease(std::string_view key, std::string_view token) override {
    if (auto it = leases.find(key); it != leases.end() && it->second == token) leases.erase(it);
    co_return Result<void>{};
  }
  asio::awaitable<Result<std::vector<std::int64_t>>> ttl_histogram(
      std::string_view, const std::vector<std::int64_t>& edges) override {
    std::vector<std::int64_t> counts(edges.size() + 1, 0);
    for (const auto& [k, v] : data) {
      std::size_t b = 0;
      while (b < edges.size() && v.second >= edges[b]) ++b;
      ++counts[b];
    }
    co_return counts;
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
  asio::awaitable<Result<bool>> erase(std::string_view key) override {
    if (auto it = data.find(key); it != data.end()) {
      data.erase(it);
      co_return true;
    }
    co_return false;
  }
  asio::awaitable<Result<cache::KeyPage>> browse(std::string_view, std::string_view, int) override {
    cache::KeyPage page{"0", {}};
    for (const auto& [k, v] : data)
      page.keys.push_back({k, "string", static_cast<std::int64_t>(v.first.size()), v.second});
    co_return page;
  }
  asio::awaitable<Result<std::optional<cache::KeyValue>>> read(std::string_view key) override {
    auto it = data.find(key);
    if (it == data.end()) co_return std::optional<cache::KeyValue>{};
    co_return std::optional<cache::KeyValue>{cache::KeyValue{"string", it->second.first, it->second.second}};
  }
  bool connected() const override { return !down; }
};

class FakeCatalog : public db::Catalog {
 public:
  int queries = 0;
  bool down = false;

  std::map<std::int64_t, std::string> prices;  // written prices; others are 19.90
  std::set<std::int64_t> removed;
  std::chrono::milliseconds latency{0};  // > 0: each read suspends this long, so concurrent callers overlap

  model::Product row(std::int64_t id) const {
    auto it = prices.find(id);
    return model::Product{id,     "Kettle", "Boils", it == prices.end() ? "19.90" : it->second,
                          "Home", "t0",     "t1"};
  }
  asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id) override {
    ++queries;
    if (latency.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, latency);
      co_await t.async_wait(asio::use_awaitable);
    }
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    if (id > 100 || removed.contains(id)) co_return std::optional<model::Product>{};
    co_return std::optional<model::Product>{row(id)};
  }
  asio::awaitable<Result<model::Product>> create_product(const model::ProductDraft& d) override {
    prices[101] = d.price;
    co_return row(101);
  }
  asio::awaitable<Result<model::Product>> update_product(std::int64_t id,
                                                         const model::ProductPatch& p) override {
    if (id > 100 || removed.contains(id)) co_return make_error(ErrorKind::not_found, "no");
    if (p.price) prices[id] = *p.price;
    co_return row(id);
  }
  asio::awaitable<Result<void>> remove_product(std::int64_t id) override {
    if (id > 100 || !removed.insert(id).second) co_return make_error(ErrorKind::not_found, "no");
    co_return Result<void>{};
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
    if (latency.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, latency);
      co_await t.async_wait(asio::use_awaitable);
    }
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

  asio::awaitable<Result<std::vector<QueryPlan>>> explain(std::string_view) override {
    co_return std::vector<QueryPlan>{};
  }
  asio::awaitable<Result<void>> ping() override {
    if (down) co_return make_error(ErrorKind::unavailable, "down");
    co_return Result<void>{};
  }
};

struct Fixture : ::testing::Test {
  asio::io_context ctx;
  std::shared_ptr<FakeStore> store = std::make_shared<FakeStore>();
  std::shared_ptr<FakeCatalog> db = std::make_shared<FakeCatalog>();
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  static Policy no_jitter() {
    Policy p;
    p.ttl_jitter = 0;
    return p;
  }
  CatalogService svc{ctx.get_executor(), store, db, counters, no_jitter()};

  // For use inside a fake's hook while run() is already driving the loop: run `op` on a loop of its own.
  template <class T>
  T run_nested(asio::awaitable<T> op) {
    asio::io_context nested;
    auto fut = asio::co_spawn(nested, std::move(op), asio::use_future);
    nested.run();
    return fut.get();
  }

  // Runs the event loop until `op` completes (background work, such as a retry loop, may still be pending).
  template <class T>
  T run(asio::awaitable<T> op) {
    auto fut = asio::co_spawn(ctx, std::move(op), asio::use_future);
    ctx.restart();
    while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) ctx.run_one();
    return fut.get();
  }
};

TEST_F(Fixture, MissLoadsStoresWithTheTtlThenHitServesTheStoredBytes) {
  auto miss = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(miss);
  EXPECT_EQ(miss->source, Source::database);
  EXPECT_EQ(store->data.at("cachelab:v1:product:7").second, 60000);
  EXPECT_TRUE(miss->stored);
  EXPECT_EQ(miss->ttl_ms, 60000);  // the TTL the entry was stored with, for the client's countdown
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
  EXPECT_EQ(counters->snapshot().redis_errors, 1);  // the lookup failed; no store was tried
  EXPECT_EQ(store->stores, 0);
}

TEST_F(Fixture, NotFoundIsCachedBrieflyAsNullDistinctFromAValue) {
  auto a = run(svc.product(999, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->not_found);
  EXPECT_EQ(a->source, Source::database);
  EXPECT_EQ(store->data.at("cachelab:v1:product:999"), (std::pair<std::string, std::int64_t>{"null", 10000}));
  auto again = run(svc.product(999, CacheMode::use));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->not_found);
  EXPECT_EQ(again->source, Source::cache);
  EXPECT_EQ(db->queries, 1);
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
  Policy p = no_jitter();
  p.categories_ttl = std::chrono::milliseconds(5000);
  p.search_ttl = std::chrono::milliseconds(7000);
  CatalogService custom{ctx.get_executor(), store, db, counters, p};
  ASSERT_TRUE(run(custom.categories(CacheMode::use)));
  ASSERT_TRUE(run(custom.search("coffee", 10, 0, CacheMode::use)));
  ASSERT_TRUE(run(custom.top_products(5, CacheMode::use)));
  EXPECT_EQ(store->data.at("cachelab:v1:g0:categories").second, 5000);
  EXPECT_EQ(store->data.at("cachelab:v1:g0:search:limit=10:offset=0:q=coffee").second, 7000);
  EXPECT_EQ(store->data.at("cachelab:v1:g0:top-products:limit=5:min_reviews=5").second, 60000);
  EXPECT_EQ(db->last_query, "coffee");
  ASSERT_TRUE(run(custom.categories(CacheMode::use)));
  EXPECT_EQ(db->queries, 3);  // the second categories read was a hit
}

model::ProductPatch price(std::string p) {
  model::ProductPatch patch;
  patch.price = std::move(p);
  return patch;
}

TEST_F(Fixture, AWriteDeletesTheProductKeyAndRetiresDerivedKeys) {
  run(svc.product(7, CacheMode::use));
  run(svc.categories(CacheMode::use));
  ASSERT_TRUE(store->data.contains("cachelab:v1:product:7"));
  auto w = run(svc.update_product(7, price("25.00")));
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->invalidation_pending);
  EXPECT_FALSE(store->data.contains("cachelab:v1:product:7"));
  EXPECT_EQ(store->generation, 1);
  ASSERT_EQ(w->invalidated.size(), 2u);
  EXPECT_EQ(w->invalidated[0], "cachelab:v1:product:7");
  auto after = run(svc.product(7, CacheMode::use));
  EXPECT_EQ(after->source, Source::database);
  EXPECT_NE(after->body.find("\"price\":25.00"), std::string::npos);
  auto cats = run(svc.categories(CacheMode::use));  // g0's entry is no longer reachable
  EXPECT_EQ(cats->source, Source::database);
  EXPECT_EQ(counters->snapshot().invalidations, 1);
}

TEST_F(Fixture, ASlowReaderCannotStoreAValueOlderThanACommittedWrite) {
  // The reader has loaded the old price; before it stores, a write commits and invalidates.
  store->before_store = [&] {
    db->prices[7] = "30.00";
    ++store->generation;
  };
  auto stale = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->stored);  // the guarded store refused the old value
  EXPECT_FALSE(store->data.contains("cachelab:v1:product:7"));
  auto fresh = run(svc.product(7, CacheMode::use));
  EXPECT_NE(fresh->body.find("\"price\":30.00"), std::string::npos);
}

TEST_F(Fixture, ConcurrentMissesOnOneKeyQueryTheDatabaseOnce) {
  db->latency = std::chrono::milliseconds(20);
  std::vector<std::future<Result<Answer>>> answers;
  for (int i = 0; i < 50; ++i)
    answers.push_back(asio::co_spawn(ctx, svc.product(7, CacheMode::use), asio::use_future));
  ctx.restart();
  ctx.run();
  int collapsed = 0;
  for (auto& f : answers) {
    auto a = f.get();
    ASSERT_TRUE(a);
    EXPECT_NE(a->body.find("\"id\":7"), std::string::npos);
    collapsed += a->collapsed;
  }
  EXPECT_EQ(db->queries, 1);
  EXPECT_EQ(collapsed, 49);
  EXPECT_EQ(counters->snapshot().stampede_suppressed, 49);
  EXPECT_TRUE(store->leases.empty());  // released after the load
}

TEST_F(Fixture, AWaiterOnAnotherProcesssLeaseTakesItsValue) {
  store->leases["cachelab:v1:lease:product:7"] = "someone-else";
  asio::steady_timer later(ctx, std::chrono::milliseconds(30));
  later.async_wait([&](auto) { store->data["cachelab:v1:product:7"] = {R"({"id":7,"price":1.00})", 60000}; });
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source, Source::cache);
  EXPECT_TRUE(a->collapsed);
  EXPECT_EQ(db->queries, 0);
  EXPECT_EQ(counters->snapshot().lease_waits, 1);
}

TEST_F(Fixture, AWriteWhileRedisIsDownCommitsAndItsInvalidationIsRetried) {
  Policy p = no_jitter();
  p.invalidation_retry = std::chrono::milliseconds(5);
  CatalogService quick{ctx.get_executor(), store, db, counters, p};
  run(quick.product(7, CacheMode::use));
  store->down = true;
  auto w = run(quick.update_product(7, price("40.00")));
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->invalidation_pending);
  EXPECT_EQ(db->prices[7], "40.00");  // committed regardless
  EXPECT_EQ(counters->snapshot().invalidations_pending, 1);
  store->down = false;
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(store->data.contains("cachelab:v1:product:7"));
  EXPECT_EQ(counters->snapshot().invalidations_pending, 0);
  EXPECT_EQ(counters->snapshot().invalidations, 1);
}

TEST_F(Fixture, WriteThroughStoresTheCommittedValue) {
  Policy p = no_jitter();
  p.write_policy = WritePolicy::write_through;
  CatalogService wt{ctx.get_executor(), store, db, counters, p};
  auto w = run(wt.update_product(9, price("12.34")));
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->written_through);
  auto a = run(wt.product(9, CacheMode::use));
  EXPECT_EQ(a->source, Source::cache);
  EXPECT_NE(a->body.find("\"price\":12.34"), std::string::npos);
}

TEST_F(Fixture, JitterSpreadsTtlsWithinTheBand) {
  Policy p;
  p.ttl_jitter = 0.1;
  CatalogService jittery{ctx.get_executor(), store, db, counters, p};
  std::set<std::int64_t> ttls;
  for (int id = 1; id <= 50; ++id) run(jittery.product(id, CacheMode::use));
  for (const auto& [k, v] : store->data) {
    EXPECT_GE(v.second, 54000) << k;
    EXPECT_LE(v.second, 66000) << k;
    ttls.insert(v.second);
  }
  EXPECT_GT(ttls.size(), 10u);
}

TEST_F(Fixture, CreatingAProductClearsItsNegativeEntry) {
  auto missing = run(svc.product(101, CacheMode::use));
  ASSERT_TRUE(missing->not_found);
  ASSERT_EQ(store->data.at("cachelab:v1:product:101").first, "null");
  model::ProductDraft d{"New", "", "1.00", "Home"};
  ASSERT_TRUE(run(svc.create_product(d)));
  EXPECT_FALSE(store->data.contains("cachelab:v1:product:101"));
}

TEST_F(Fixture, StaleWhileRevalidateServesAtOnceAndRefreshesInTheBackground) {
  Policy p = no_jitter();
  p.categories_ttl = std::chrono::milliseconds(1000);
  p.swr = std::chrono::milliseconds(5000);
  p.swr_endpoints = {"categories"};
  CatalogService swr{ctx.get_executor(), store, db, counters, p};
  ASSERT_TRUE(run(swr.categories(CacheMode::use)));
  auto& entry = store->data.at("cachelab:v1:g0:categories");
  EXPECT_EQ(entry.second, 6000);  // TTL + the stale window
  entry.second = 3000;            // 3 s left: past the soft TTL, inside the stale window
  db->latency = std::chrono::milliseconds(20);
  auto stale = run(swr.categories(CacheMode::use));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->source, Source::cache);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(db->queries, 2);  // the refresh has started, but the stale answer did not wait for it
  EXPECT_LT(stale->timings.db_ms, 1.0);
  EXPECT_EQ(store->data.at("cachelab:v1:g0:categories").second, 3000);
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));  // the background refresh completes
  EXPECT_EQ(db->queries, 2);
  EXPECT_EQ(store->data.at("cachelab:v1:g0:categories").second, 6000);
  auto fresh = run(swr.categories(CacheMode::use));
  EXPECT_FALSE(fresh->stale);
  EXPECT_EQ(*fresh->ttl_ms, 1000);  // reported against the soft TTL
}

TEST_F(Fixture, TheKeyBrowserOnlyTouchesOurNamespace) {
  run(svc.product(3, CacheMode::use));
  auto v = run(svc.read_key("cachelab:v1:product:3"));
  ASSERT_TRUE(v);
  ASSERT_TRUE(*v);
  EXPECT_NE((*v)->value.find("\"id\":3"), std::string::npos);
  auto foreign = run(svc.read_key("someone:else"));
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().kind, ErrorKind::invalid_argument);
  EXPECT_FALSE(run(svc.delete_key("someone:else")));
  EXPECT_TRUE(*run(svc.delete_key("cachelab:v1:product:3")));
  EXPECT_FALSE(*run(svc.read_key("cachelab:v1:product:3")));
}

TEST_F(Fixture, AFlushRetiresLoadsThatBeganBeforeIt) {
  // The reader has looked up and loaded; a flush happens before it stores.
  store->before_store = [&] { ASSERT_TRUE(run_nested(svc.clear_cache())); };
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->stored);
  EXPECT_EQ(store->generation, 1);
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

  Answer stored;
  stored.body = R"({"id":1})";
  stored.stored = true;
  stored.ttl_ms = 57300;
  auto res3 = api::render_answer(stored, 2.0);
  EXPECT_EQ(boost::json::parse(res3.body()).at("ttl_remaining_s"), 58);
  EXPECT_EQ(res3["X-Cache"], "MISS");
  EXPECT_EQ(res3["Cache-Status"], "cachelab; fwd=miss; stored");
}

}  // namespace
}  // namespace cachelab::service

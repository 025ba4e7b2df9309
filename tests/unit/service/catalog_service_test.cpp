#include "service/catalog_service.hpp"

#include "support/fakes.hpp"
#include "support/loop.hpp"

#include <gtest/gtest.h>
#include <boost/asio/steady_timer.hpp>

#include <set>

namespace cachelab::service {
namespace {

namespace asio = boost::asio;

// The caching policy (service/cache_aside) as the catalog's endpoints use it, against in-memory fakes.
struct CacheAsidePolicy : ::testing::Test, test::Loop {
  std::shared_ptr<test::FakeStore> store = std::make_shared<test::FakeStore>();
  std::shared_ptr<test::FakeCatalog> db = std::make_shared<test::FakeCatalog>();
  std::shared_ptr<Counters> counters = std::make_shared<Counters>();
  static Policy no_jitter() {
    Policy p;
    p.ttl_jitter = 0;
    return p;
  }
  // Stale-while-revalidate for `endpoint` with a 5 s stale window; the caller sets the endpoint's soft TTL.
  static Policy stale_while_revalidate(std::string endpoint) {
    Policy p = no_jitter();
    p.swr = std::chrono::milliseconds(5000);
    p.swr_endpoints = {std::move(endpoint)};
    return p;
  }
  CatalogService svc{ctx.get_executor(), store, db, counters, no_jitter()};
};

model::ProductPatch price(std::string p) {
  model::ProductPatch patch;
  patch.price = std::move(p);
  return patch;
}

TEST_F(CacheAsidePolicy, MissLoadsStoresWithTheTtlThenHitServesTheStoredBytes) {
  auto miss = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(miss);
  EXPECT_EQ(miss->source, Source::database);
  EXPECT_EQ(store->data.at("cachelab:{v1}:product:7").second, 60000);
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

TEST_F(CacheAsidePolicy, BypassNeverTouchesTheCache) {
  auto a = run(svc.product(7, CacheMode::bypass));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->bypassed);
  EXPECT_TRUE(store->data.empty());
  EXPECT_EQ(counters->snapshot().misses, 0);
  EXPECT_EQ(counters->snapshot().db_queries, 1);
}

TEST_F(CacheAsidePolicy, RedisFailureFallsBackToTheDatabase) {
  store->down = true;
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source, Source::database);
  EXPECT_TRUE(a->cache_unavailable);
  EXPECT_EQ(counters->snapshot().redis_errors, 1);  // the lookup failed; no store was tried
  EXPECT_EQ(store->stores, 0);
}

TEST_F(CacheAsidePolicy, NotFoundIsCachedBrieflyAsNullDistinctFromAValue) {
  auto a = run(svc.product(999, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->not_found);
  EXPECT_EQ(a->source, Source::database);
  EXPECT_EQ(store->data.at("cachelab:{v1}:product:999"),
            (std::pair<std::string, std::int64_t>{"null", 10000}));
  auto again = run(svc.product(999, CacheMode::use));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->not_found);
  EXPECT_EQ(again->source, Source::cache);
  EXPECT_EQ(db->queries, 1);
}

TEST_F(CacheAsidePolicy, DatabaseFailureIsReturned) {
  db->down = true;
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().kind, ErrorKind::unavailable);
  EXPECT_TRUE(store->data.empty());
}

TEST_F(CacheAsidePolicy, EachEndpointHasItsOwnKeyAndTtl) {
  Policy p = no_jitter();
  p.categories_ttl = std::chrono::milliseconds(5000);
  p.search_ttl = std::chrono::milliseconds(7000);
  CatalogService custom{ctx.get_executor(), store, db, counters, p};
  ASSERT_TRUE(run(custom.categories(CacheMode::use)));
  ASSERT_TRUE(run(custom.search("coffee", 10, 0, CacheMode::use)));
  ASSERT_TRUE(run(custom.top_products(5, CacheMode::use)));
  EXPECT_EQ(store->data.at("cachelab:{v1}:g0:categories").second, 5000);
  EXPECT_EQ(store->data.at("cachelab:{v1}:g0:search:limit=10:offset=0:q=coffee").second, 7000);
  EXPECT_EQ(store->data.at("cachelab:{v1}:g0:top-products:limit=5:min_reviews=5").second, 60000);
  EXPECT_EQ(db->last_query, "coffee");
  ASSERT_TRUE(run(custom.categories(CacheMode::use)));
  EXPECT_EQ(db->queries, 3);  // the second categories read was a hit
}

TEST_F(CacheAsidePolicy, AWriteDeletesTheProductKeyAndRetiresDerivedKeys) {
  run(svc.product(7, CacheMode::use));
  run(svc.categories(CacheMode::use));
  ASSERT_TRUE(store->data.contains("cachelab:{v1}:product:7"));
  auto w = run(svc.update_product(7, price("25.00")));
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->cache.pending);
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:7"));
  EXPECT_EQ(store->generation, 1);
  EXPECT_EQ(w->cache.dropped_key, "cachelab:{v1}:product:7");
  EXPECT_EQ(w->cache.retired_pattern, "cachelab:{v1}:g0:*");
  auto after = run(svc.product(7, CacheMode::use));
  EXPECT_EQ(after->source, Source::database);
  EXPECT_NE(after->body.find("\"price\":25.00"), std::string::npos);
  auto cats = run(svc.categories(CacheMode::use));  // g0's entry is no longer reachable
  EXPECT_EQ(cats->source, Source::database);
  EXPECT_EQ(counters->snapshot().invalidations, 1);
}

TEST_F(CacheAsidePolicy, ASlowReaderCannotStoreAValueOlderThanACommittedWrite) {
  // The reader has loaded the old price; before it stores, a write commits and invalidates.
  store->before_store = [&] {
    db->prices[7] = "30.00";
    ++store->generation;
  };
  auto stale = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(stale);
  EXPECT_FALSE(stale->stored);  // the guarded store refused the old value
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:7"));
  auto fresh = run(svc.product(7, CacheMode::use));
  EXPECT_NE(fresh->body.find("\"price\":30.00"), std::string::npos);
}

TEST_F(CacheAsidePolicy, ConcurrentMissesOnOneKeyQueryTheDatabaseOnce) {
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
  // One miss (the load), 49 collapsed: the hit rate is not dragged down by requests that never queried.
  EXPECT_EQ(counters->snapshot().misses, 1);
  EXPECT_EQ(counters->snapshot().collapsed, 49);
  EXPECT_EQ(counters->snapshot().hits, 0);
  EXPECT_TRUE(store->leases.empty());  // released after the load
}

TEST_F(CacheAsidePolicy, AMissThatLostTheRaceToAnotherProcesssStoreReadsItsValue) {
  // Our lookup missed; before we ask for the lease, another process stores the value and releases its lease.
  store->before_lease = [&] { store->data["cachelab:{v1}:product:7"] = {R"({"id":7,"price":1.00})", 60000}; };
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_EQ(db->queries, 0);  // not loaded a second time
  EXPECT_EQ(a->source, Source::cache);
  EXPECT_TRUE(a->collapsed);
  EXPECT_TRUE(store->leases.empty());  // and no lease taken
}

TEST_F(CacheAsidePolicy, AWaiterOnAnotherProcesssLeaseTakesItsValue) {
  store->leases["cachelab:{v1}:lease:product:7"] = "someone-else";
  asio::steady_timer later(ctx, std::chrono::milliseconds(30));
  later.async_wait([&](auto) {
    store->data["cachelab:{v1}:product:7"] = {R"({"id":7,"price":1.00})", 60000};
  });
  auto a = run(svc.product(7, CacheMode::use));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->source, Source::cache);
  EXPECT_TRUE(a->collapsed);
  EXPECT_EQ(counters->snapshot().collapsed, 1);
  EXPECT_EQ(counters->snapshot().misses, 0);
  EXPECT_EQ(db->queries, 0);
  EXPECT_EQ(counters->snapshot().lease_waits, 1);
}

TEST_F(CacheAsidePolicy, AWriteWhileRedisIsDownCommitsAndItsInvalidationIsRetried) {
  Policy p = no_jitter();
  p.invalidation_retry = std::chrono::milliseconds(5);
  CatalogService quick{ctx.get_executor(), store, db, counters, p};
  run(quick.product(7, CacheMode::use));
  store->down = true;
  auto w = run(quick.update_product(7, price("40.00")));
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->cache.pending);
  EXPECT_EQ(db->prices[7], "40.00");  // committed regardless
  EXPECT_EQ(counters->snapshot().invalidations_pending, 1);
  store->down = false;
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:7"));
  EXPECT_EQ(counters->snapshot().invalidations_pending, 0);
  EXPECT_EQ(counters->snapshot().invalidations, 1);
}

TEST_F(CacheAsidePolicy, AWriteQueuedWhileARetryIsInFlightIsNotForgotten) {
  Policy p = no_jitter();
  p.invalidation_retry = std::chrono::milliseconds(5);
  CatalogService quick{ctx.get_executor(), store, db, counters, p};
  run(quick.product(7, CacheMode::use));
  run(quick.product(8, CacheMode::use));
  store->down = true;
  ASSERT_TRUE(run(quick.update_product(7, price("40.00"))));
  // While the retry of 7's invalidation is in flight, product 8 is written and its invalidation fails.
  store->during_invalidate = [&] {
    store->down = true;
    auto w = run_nested(quick.update_product(8, price("41.00")));
    EXPECT_TRUE(w && w->cache.pending);
    store->down = false;
  };
  store->down = false;
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:7"));
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:8"));  // retried too, not dropped with 7's batch
  EXPECT_EQ(counters->snapshot().invalidations_pending, 0);
}

TEST_F(CacheAsidePolicy, AWriteWaitsForAClusterMovingTheSlotBeforeItAnswers) {
  run(svc.product(7, CacheMode::use));
  store->moving = 3;  // TRYAGAIN three times, then the slot has moved
  auto w = run(svc.update_product(7, price("40.00")));
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->cache.pending);  // invalidated before the answer, not queued
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:7"));
  EXPECT_EQ(store->moving, 0);
}

TEST_F(CacheAsidePolicy, AWriteWaitsOutTheReconnectThatASlotMoveCauses) {
  run(svc.product(7, CacheMode::use));
  store->moving = 1;                     // attempt 1: TRYAGAIN/MOVED
  store->during_invalidate = [this] {    // (runs at attempt 1)
    store->during_invalidate = [this] {  // attempt 2: the connection is being made again on the new node
      store->down = true;
      store->during_invalidate = [this] { store->down = false; };  // attempt 3: through
    };
  };
  auto w = run(svc.update_product(7, price("40.00")));
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->cache.pending);  // invalidated before the answer, not queued
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:7"));
}

// A failover can lose an invalidation the replicas never got: the promoted replica serves the old value. So
// one they did not acknowledge is sent again — re-deleting the key a stale replica brought back — until they
// do.
TEST_F(CacheAsidePolicy, AnInvalidationTheReplicasDidNotAcknowledgeIsSentAgainUntilTheyDo) {
  Policy p = no_jitter();
  p.invalidation_retry = std::chrono::milliseconds(5);
  CatalogService quick{ctx.get_executor(), store, db, counters, p};
  run(quick.product(7, CacheMode::use));
  store->unreplicated = 3;  // the write's own and two re-sends fall short, the third re-send is acknowledged
  auto w = run(quick.update_product(7, price("40.00")));
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->cache.pending);  // through on the master: the answer says invalidated
  EXPECT_EQ(counters->snapshot().invalidations_pending, 1);
  // A failover to a replica that missed the invalidation: the old value is back.
  store->data["cachelab:{v1}:product:7"] = {"old", 60000};
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:7"));
  EXPECT_EQ(store->invalidations, 4);  // the write's and three re-sends, none after the acknowledged one
  EXPECT_EQ(counters->snapshot().invalidations_pending, 0);
}

TEST_F(CacheAsidePolicy, UnacknowledgedInvalidationsAreSentAgainOnlyForAWhile) {
  Policy p = no_jitter();
  p.invalidation_retry = std::chrono::milliseconds(5);
  p.unreplicated_resend_for = std::chrono::milliseconds(50);
  CatalogService quick{ctx.get_executor(), store, db, counters, p};
  store->unreplicated = 1'000'000;  // the replicas never answer
  ASSERT_TRUE(run(quick.update_product(7, price("40.00"))));
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(200));
  const int sent = store->invalidations;
  EXPECT_GT(sent, 3);
  EXPECT_LT(sent, 40);  // about 50 ms / 5 ms, then no more
  EXPECT_EQ(counters->snapshot().invalidations_pending, 0);
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(store->invalidations, sent);
}

TEST_F(CacheAsidePolicy, AMissAfterAWriteReadsPastTheWritesWalFence) {
  // With a read replica, a write's WAL position travels with its invalidation, and the loads that follow get
  // it, so they never read a replica that has not replayed the write (db::Catalog).
  db->writes_at = 5000;
  ASSERT_TRUE(run(svc.update_product(7, price("40.00"))));
  EXPECT_EQ(store->wal_fence, 5000u);
  ASSERT_TRUE(run(svc.product(7, CacheMode::use)));
  EXPECT_EQ(db->last_fence, 5000u);
  ASSERT_TRUE(run(svc.categories(CacheMode::use)));  // a derived answer: the fence comes with its lookup
  EXPECT_EQ(db->last_fence, 5000u);
  // An older write finishing later never lowers it.
  db->writes_at = 4000;
  ASSERT_TRUE(run(svc.update_product(8, price("41.00"))));
  EXPECT_EQ(store->wal_fence, 5000u);
}

TEST_F(CacheAsidePolicy, AQueuedInvalidationKeepsItsWalFence) {
  Policy p = no_jitter();
  p.invalidation_retry = std::chrono::milliseconds(5);
  CatalogService quick{ctx.get_executor(), store, db, counters, p};
  store->down = true;
  db->writes_at = 7000;
  ASSERT_TRUE(run(quick.update_product(7, price("40.00"))));
  EXPECT_EQ(store->wal_fence, 0u);
  store->down = false;
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store->wal_fence, 7000u);
}

TEST_F(CacheAsidePolicy, WriteThroughStoresTheCommittedValue) {
  Policy p = no_jitter();
  p.write_policy = WritePolicy::write_through;
  CatalogService wt{ctx.get_executor(), store, db, counters, p};
  auto w = run(wt.update_product(9, price("12.34")));
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->cache.written_through);
  auto a = run(wt.product(9, CacheMode::use));
  EXPECT_EQ(a->source, Source::cache);
  EXPECT_NE(a->body.find("\"price\":12.34"), std::string::npos);
}

TEST_F(CacheAsidePolicy, JitterSpreadsTtlsWithinTheBand) {
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

TEST_F(CacheAsidePolicy, CreatingAProductClearsItsNegativeEntry) {
  auto missing = run(svc.product(101, CacheMode::use));
  ASSERT_TRUE(missing->not_found);
  ASSERT_EQ(store->data.at("cachelab:{v1}:product:101").first, "null");
  model::ProductDraft d{"New", "", "1.00", "Home"};
  ASSERT_TRUE(run(svc.create_product(d)));
  EXPECT_FALSE(store->data.contains("cachelab:{v1}:product:101"));
}

TEST_F(CacheAsidePolicy, StaleWhileRevalidateServesAtOnceAndRefreshesInTheBackground) {
  Policy p = stale_while_revalidate("categories");
  p.categories_ttl = std::chrono::milliseconds(1000);
  CatalogService swr{ctx.get_executor(), store, db, counters, p};
  ASSERT_TRUE(run(swr.categories(CacheMode::use)));
  auto& entry = store->data.at("cachelab:{v1}:g0:categories");
  EXPECT_EQ(entry.second, 6000);  // TTL + the stale window
  entry.second = 3000;            // 3 s left: past the soft TTL, inside the stale window
  db->latency = std::chrono::milliseconds(20);
  auto stale = run(swr.categories(CacheMode::use));
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->source, Source::cache);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(db->queries, 2);  // the refresh has started, but the stale answer did not wait for it
  EXPECT_LT(stale->timings.db_ms, 1.0);
  EXPECT_EQ(store->data.at("cachelab:{v1}:g0:categories").second, 3000);
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));  // the background refresh completes
  EXPECT_EQ(db->queries, 2);
  EXPECT_EQ(store->data.at("cachelab:{v1}:g0:categories").second, 6000);
  auto fresh = run(swr.categories(CacheMode::use));
  EXPECT_FALSE(fresh->stale);
  EXPECT_EQ(*fresh->ttl_ms, 1000);  // reported against the soft TTL
}

// A product's hit carries no generation (Store::lookup reads it only on a miss), so its
// stale-while-revalidate refresh reads the generation before loading: it stores the fresh value, and a write
// that bumps the generation while the refresh loads still gets the refreshed value refused.
TEST_F(CacheAsidePolicy, AProductsRefreshReadsTheGenerationBeforeItLoads) {
  Policy p = stale_while_revalidate("product");
  p.product_ttl = std::chrono::milliseconds(1000);
  CatalogService swr{ctx.get_executor(), store, db, counters, p};
  const std::string key = "cachelab:{v1}:product:7";
  ASSERT_TRUE(run(swr.product(7, CacheMode::use)));
  ASSERT_EQ(store->data.at(key).second, 6000);
  store->data.at(key).second = 3000;  // inside the stale window
  auto stale = run(swr.product(7, CacheMode::use));
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->stale);
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store->data.at(key).second, 6000) << "the refresh stored under the generation it read";

  store->data.at(key).second = 3000;
  store->before_store = [this] { ++store->generation; };  // a write commits while the refresh loads
  ASSERT_TRUE(run(swr.product(7, CacheMode::use))->stale);
  ctx.restart();
  ctx.run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(store->data.at(key).second, 3000) << "the refresh's value may predate the write: not stored";
}

}  // namespace
}  // namespace cachelab::service

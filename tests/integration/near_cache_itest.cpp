// The near cache (L1) against the real Redis: kept correct by client-side-caching invalidations across two
// server processes, dropped whenever it could be blind (the invalidation connection killed, FLUSHALL, a
// Redis restart), and never serving a value older than one already seen after a write.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace cachelab::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// The default budget, said out loud; two threads, the harness's default.
const std::vector<std::string> l1_args = {"--l1-max-bytes", "16777216"};
const std::map<std::string, std::string> json_type = {{"Content-Type", "application/json"}};

class NearCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
  void SetUp() override {
    ASSERT_EQ(backends("start", "all"), 0);
    redis({"FLUSHALL"});
  }
};

std::string source_of(const HttpResponse& r) {
  return std::string(r.json().at("source").as_string());
}
double price_of(const HttpResponse& r) {
  return r.json().at("price").to_number<double>();
}
json::value near_stats(unsigned short port) {
  return http(port, "GET", "/api/stats").json().at("app").at("near_cache");
}

// Reads until the near cache answers (each thread of the server fills its own on its second Redis hit).
bool warm(unsigned short port, const std::string& target) {
  return eventually([&] { return source_of(http(port, "GET", target)) == "memory"; }, 3s);
}

TEST_F(NearCacheTest, ARepeatedReadIsServedFromMemoryWithTheTierSaid) {
  ServerProcess server(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(server.port()).at("listening").as_bool(); }, 3s));
  ASSERT_TRUE(warm(server.port(), "/products/7"));
  auto r = http(server.port(), "GET", "/products/7");
  EXPECT_EQ(r.header("x-cache"), "HIT");
  EXPECT_NE(r.header("cache-status").find("detail=l1"), std::string::npos) << r.header("cache-status");
  EXPECT_EQ(r.header("server-timing").find("redis"), std::string::npos) << r.header("server-timing");
  // The TTL it counts down is the Redis key's.
  const auto redis_ttl = std::stoll(redis({"PTTL", "cachelab:v1:product:7"}).value_or("-2"));
  const auto l1_ttl = r.json().at("ttl_remaining_s").as_int64();
  EXPECT_LE(l1_ttl * 1000, redis_ttl + 1000);
  EXPECT_GE(l1_ttl * 1000, redis_ttl - 1000);
  auto stats = near_stats(server.port());
  EXPECT_GT(stats.at("hits").as_int64(), 0);
  EXPECT_GT(stats.at("entries").as_int64(), 0);
  // The listener's probe measures the invalidation lag once a second.
  ASSERT_TRUE(eventually(
      [&] { return near_stats(server.port()).at("invalidation_lag").at("samples").as_int64() >= 2; }, 4s));
  const auto lag = near_stats(server.port()).at("invalidation_lag");
  EXPECT_GT(lag.at("p50_ms").to_number<double>(), 0.0);
  EXPECT_LT(lag.at("max_ms").to_number<double>(), 500.0);
  EXPECT_EQ(lag.at("lost").as_int64(), 0);
  EXPECT_EQ(lag.at("deaf_periods").as_int64(), 0) << "every probe heard: never deaf";
  // Off, as before: never "memory".
  ServerProcess off({"--l1-max-bytes", "0"});
  for (int i = 0; i < 6; ++i) EXPECT_NE(source_of(http(off.port(), "GET", "/products/7")), "memory");
  EXPECT_TRUE(http(off.port(), "GET", "/api/stats").json().at("app").at("near_cache").is_null());
}

// Process A writes; process B, whose near cache holds the product, must see the new price shortly after the
// write's answer and, once it has, never the old one again (a reply that an invalidation overtook is not
// kept). Also measures the staleness window: from A's answer to B's first fresh read.
TEST_F(NearCacheTest, AWriteInOneProcessRetiresTheOthersEntryAndNeverComesBack) {
  ServerProcess a(l1_args), b(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  std::atomic<bool> stop{false};
  std::atomic<int> regressions{0};
  std::atomic<double> floor_price{0};  // the newest price B has been seen to serve after its write
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto r = http(b.port(), "GET", "/products/5");
        if (r.status != 200) continue;
        if (price_of(r) + 1e-9 < floor_price.load()) ++regressions;
      }
    });
  }
  std::vector<double> windows_ms;
  double price = 700.00;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(warm(b.port(), "/products/5"));
    price += 1.25;
    auto w = http(a.port(), "PATCH", "/products/5", "{\"price\": " + std::to_string(price) + "}", json_type);
    ASSERT_EQ(w.status, 200) << w.body;
    const auto written = std::chrono::steady_clock::now();
    ASSERT_TRUE(eventually(
        [&] { return std::abs(price_of(http(b.port(), "GET", "/products/5")) - price) < 1e-9; }, 2s))
        << "write " << i << " never reached process B";
    windows_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - written).count());
    floor_price = price;
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(regressions.load(), 0) << "B served an older price after it had served the newer one";
  std::sort(windows_ms.begin(), windows_ms.end());
  std::printf("staleness window over %zu writes (poll, ms): p50 %.2f  max %.2f\n", windows_ms.size(),
              windows_ms[windows_ms.size() / 2], windows_ms.back());
  EXPECT_GT(near_stats(b.port()).at("invalidated_keys").as_int64(), 0);
}

TEST_F(NearCacheTest, OwnWritesAreFreshOnEveryThreadOfTheWritingProcess) {
  ServerProcess a({"--l1-max-bytes", "16777216", "--threads", "4"});
  ASSERT_TRUE(eventually([&] { return near_stats(a.port()).at("listening").as_bool(); }, 3s));
  double price = 300.00;
  for (int i = 0; i < 20; ++i) {
    for (int k = 0; k < 12; ++k) http(a.port(), "GET", "/products/6");  // fill every thread's L1
    price += 0.5;
    ASSERT_EQ(http(a.port(), "PATCH", "/products/6", "{\"price\": " + std::to_string(price) + "}", json_type)
                  .status,
              200);
    for (int k = 0; k < 8; ++k) {
      auto r = http(a.port(), "GET", "/products/6");
      EXPECT_DOUBLE_EQ(price_of(r), price) << "write " << i << " read " << k << " from " << source_of(r);
    }
  }
}

// Killing the invalidation connection blinds the near cache: it is dropped at once, and once it listens
// again (a new client id) the data connections redirect their tracking to it, so a later write still reaches.
TEST_F(NearCacheTest, AKilledInvalidationConnectionDropsEverythingAndTrackingFollowsTheNewOne) {
  ServerProcess a(l1_args), b(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  ASSERT_TRUE(warm(b.port(), "/products/8"));
  const auto flushes = near_stats(b.port()).at("flushes").as_int64();
  ASSERT_TRUE(redis({"CLIENT", "KILL", "TYPE", "pubsub"}));
  // Each thread drops its entries when it next looks (a read), without serving them.
  ASSERT_TRUE(eventually(
      [&] {
        http(b.port(), "GET", "/products/8");
        return near_stats(b.port()).at("flushes").as_int64() > flushes;
      },
      2s));
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  ASSERT_TRUE(warm(b.port(), "/products/8"));  // filled again under the new subscription
  const double price = price_of(http(b.port(), "GET", "/products/8")) + 3;
  ASSERT_EQ(
      http(a.port(), "PATCH", "/products/8", "{\"price\": " + std::to_string(price) + "}", json_type).status,
      200);
  EXPECT_TRUE(
      eventually([&] { return std::abs(price_of(http(b.port(), "GET", "/products/8")) - price) < 1e-9; }, 2s))
      << "the write's invalidation did not reach the re-subscribed listener";
}

// FLUSHALL and a Redis restart: the near cache must not outlive what it mirrored. The row is changed behind
// the cache's back (plain SQL), so only a dropped L1 can show the new value.
TEST_F(NearCacheTest, FlushallAndARedisRestartDropTheNearCache) {
  ServerProcess b(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  const auto changed_behind = [&](double price) {
    sql("UPDATE products SET price = " + std::to_string(price) + " WHERE id = 9");
    return eventually([&] { return std::abs(price_of(http(b.port(), "GET", "/products/9")) - price) < 1e-9; },
                      2s);
  };
  ASSERT_TRUE(warm(b.port(), "/products/9"));
  redis({"FLUSHALL"});
  EXPECT_TRUE(changed_behind(111.11)) << "FLUSHALL did not drop the near cache";

  ASSERT_TRUE(warm(b.port(), "/products/9"));
  ASSERT_EQ(backends("stop", "redis"), 0);
  ASSERT_EQ(backends("start", "redis"), 0);
  EXPECT_TRUE(changed_behind(222.22)) << "a Redis restart did not drop the near cache";
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
}

}  // namespace
}  // namespace cachelab::test

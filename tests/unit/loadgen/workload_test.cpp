#include "loadgen/workload.hpp"

#include "loadgen/builtin.hpp"

#include <gtest/gtest.h>

#include <map>

namespace cachelab::loadgen {
namespace {

constexpr std::string_view good = R"({
  "name": "w", "description": "d",
  "mix": {"product": 3, "search": 1},
  "search_terms": ["coffee mug", "tea"],
  "keys": {"distribution": "zipf", "s": 0.99, "key_space": 1000},
  "write_fraction": 0.1, "warmup_seconds": 2, "duration_seconds": 5
})";

TEST(Workload, AValidFileIsRead) {
  auto w = parse_workload(good, "w.json");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->mix.size(), 2u);
  EXPECT_EQ(w->keys.kind, KeyDistribution::Kind::zipf);
  EXPECT_EQ(w->keys.key_space, 1000);
  EXPECT_DOUBLE_EQ(w->write_fraction, 0.1);
  EXPECT_EQ(w->warmup, std::chrono::seconds(2));
  EXPECT_EQ(w->duration, std::chrono::seconds(5));
}

TEST(Workload, MistakesAreNamedWithTheFileAndTheField) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"name":"w","description":"d","mix":{"product":1},"keys":{"distribution":"uniform","key_space":5},"colour":1})",
       "unknown field 'colour'"},
      {R"({"name":"w","description":"d","mix":{"product":1},"keys":{"distribution":"uniform","key_space":5,"x":1}})",
       "unknown field 'keys.x'"},
      {R"({"name":"w","description":"d","mix":{"basket":1},"keys":{"distribution":"uniform","key_space":5}})",
       "unknown endpoint 'basket'"},
      {R"({"name":"w","description":"d","mix":{"product":1},"keys":{"distribution":"zipf","key_space":5}})",
       "'keys.s' is required"},
      {R"({"name":"w","description":"d","mix":{"product":1},"keys":{"distribution":"zipf","s":0,"key_space":5}})",
       "'keys.s' must be > 0"},
      {R"({"name":"w","description":"d","mix":{"product":1},"keys":{"distribution":"pareto","key_space":5}})",
       "uniform, zipf or hotspot"},
      {R"({"name":"w","description":"d","mix":{"search":1},"keys":{"distribution":"uniform","key_space":5}})",
       "needs 'search_terms'"},
      {R"({"name":"w","description":"d","mix":{"product":1},"keys":{"distribution":"uniform","key_space":5},"write_fraction":2})",
       "'write_fraction' must be"},
      {R"({"name":"w","description":"d","mix":{"product":0},"keys":{"distribution":"uniform","key_space":5}})",
       "at least one endpoint"},
      {R"({"name":"w","mix":{"product":1},"keys":{"distribution":"uniform","key_space":5}})",
       "'description'"},
      {"not json", "not valid JSON"},
  };
  for (const auto& [doc, says] : cases) {
    auto w = parse_workload(doc, "bad.json");
    ASSERT_FALSE(w) << doc;
    EXPECT_NE(w.error().message.find("bad.json: "), std::string::npos) << w.error().message;
    EXPECT_NE(w.error().message.find(says), std::string::npos) << w.error().message;
  }
}

TEST(Workload, EveryBuiltInWorkloadIsValid) {
  ASSERT_GE(builtin_workloads().size(), 4u);
  for (const auto& b : builtin_workloads()) {
    auto w = parse_workload(b.json, b.file);
    EXPECT_TRUE(w) << (w ? "" : w.error().message);
  }
  for (auto name : {"hot-product", "zipf-0.99", "uniform-large", "read-write-90-10"}) {
    EXPECT_TRUE(find_workload(name)) << name;
  }
  auto missing = find_workload("nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("zipf-0.99"), std::string::npos) << "lists what exists";
}

// Zipf(s) on 1..n: P(k) = k^-s / H(n, s). The sampler's frequencies must match within sampling noise.
TEST(KeySampler, ZipfFrequenciesFollowTheLaw) {
  const std::int64_t n = 1000;
  const double s = 0.99;
  KeySampler zipf({.kind = KeyDistribution::Kind::zipf, .s = s}, n);
  std::mt19937_64 rng(42);
  std::map<std::int64_t, int> seen;
  const int draws = 400'000;
  for (int i = 0; i < draws; ++i) {
    const auto k = zipf.next(rng);
    ASSERT_GE(k, 1);
    ASSERT_LE(k, n);
    ++seen[k];
  }
  double h = 0;
  for (std::int64_t k = 1; k <= n; ++k) h += std::pow(static_cast<double>(k), -s);
  for (std::int64_t k : {1, 2, 10, 100}) {
    const double expected = draws * std::pow(static_cast<double>(k), -s) / h;
    EXPECT_NEAR(seen[k], expected, 5 * std::sqrt(expected)) << "key " << k;
  }
}

TEST(KeySampler, HotspotAndUniformStayInRangeWithTheirShares) {
  KeySampler hot({.kind = KeyDistribution::Kind::hotspot, .hot_requests = 0.9, .hot_keys = 0.1}, 1000);
  KeySampler flat({.kind = KeyDistribution::Kind::uniform}, 1000);
  std::mt19937_64 rng(1);
  int in_hot = 0, flat_low = 0;
  for (int i = 0; i < 100'000; ++i) {
    in_hot += hot.next(rng) <= 100;
    const auto k = flat.next(rng);
    ASSERT_GE(k, 1);
    ASSERT_LE(k, 1000);
    flat_low += k <= 100;
  }
  EXPECT_NEAR(in_hot / 100'000.0, 0.9, 0.01);
  EXPECT_NEAR(flat_low / 100'000.0, 0.1, 0.01);
}

TEST(RequestMix, FollowsTheMixAndWritesNewPrices) {
  auto w = parse_workload(good, "w.json");
  ASSERT_TRUE(w);
  RequestMix mix(*w, 1000, 3);
  Request r;
  int writes = 0, searches = 0;
  for (int i = 0; i < 10'000; ++i) {
    mix.next(r);
    if (r.write) {
      ++writes;
      EXPECT_EQ(r.method, "PATCH");
      EXPECT_EQ(r.target.rfind("/products/", 0), 0u);
      EXPECT_EQ(r.body.rfind(R"({"price":)", 0), 0u);
    } else if (r.target.rfind("/api/products?q=", 0) == 0) {
      ++searches;
      EXPECT_TRUE(r.target == "/api/products?q=coffee%20mug" || r.target == "/api/products?q=tea")
          << r.target;
    }
  }
  EXPECT_NEAR(writes / 10'000.0, 0.1, 0.015);
  EXPECT_NEAR(searches / 10'000.0, 0.9 * 0.25, 0.02);
}

}  // namespace
}  // namespace cachelab::loadgen

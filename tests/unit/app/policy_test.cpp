#include "app/policy.hpp"

#include <gtest/gtest.h>

namespace cachelab::app {
namespace {

using namespace std::chrono_literals;

TEST(PolicyFrom, EndpointTtlsFallBackToTheCacheTtl) {
  config::ServeConfig c;
  c.cache_ttl_seconds = 30;
  c.search_ttl_seconds = 5;
  const auto p = policy_from(c);
  EXPECT_EQ(p.product_ttl, 30s);
  EXPECT_EQ(p.products_ttl, 30s);
  EXPECT_EQ(p.search_ttl, 5s);
  EXPECT_EQ(p.top_products_ttl, 30s);
  EXPECT_EQ(p.negative_ttl, 10s);
  EXPECT_EQ(p.write_policy, service::WritePolicy::invalidate);
  EXPECT_EQ(p.swr, 0s);
  EXPECT_EQ(p.lease_ttl, 3s);  // not configurable: the policy's own default
}

TEST(PolicyFrom, WritePolicyJitterAndStaleWhileRevalidateComeFromTheFlags) {
  config::ServeConfig c;
  c.write_policy = "write-through";
  c.ttl_jitter = 0.25;
  c.swr_seconds = 20;
  c.swr_endpoints = {"categories"};
  const auto p = policy_from(c);
  EXPECT_EQ(p.write_policy, service::WritePolicy::write_through);
  EXPECT_DOUBLE_EQ(p.ttl_jitter, 0.25);
  EXPECT_EQ(p.swr, 20s);
  EXPECT_EQ(p.swr_endpoints, std::set<std::string>{"categories"});
}

}  // namespace
}  // namespace cachelab::app

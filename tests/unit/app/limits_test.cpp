#include "app/limits.hpp"

#include <gtest/gtest.h>

namespace cachelab::app {
namespace {

TEST(ConnectionLimit, LeavesAReserveOfDescriptorsForEverythingElse) {
  EXPECT_EQ(default_max_connections(256), 192u);   // reserve 64
  EXPECT_EQ(default_max_connections(1024), 922u);  // reserve 102 (10%)
  EXPECT_EQ(default_max_connections(1048576), 943719u);
  EXPECT_EQ(default_max_connections(64), 16u);  // never below 16, even when the limit leaves nothing
}

TEST(ConnectionLimit, RaisingTheDescriptorLimitNeverLowersIt) {
  const auto limit = raise_descriptor_limit();
  EXPECT_GE(limit, 16u);
  EXPECT_EQ(raise_descriptor_limit(), limit);  // already at the hard limit: nothing changes
}

}  // namespace
}  // namespace cachelab::app

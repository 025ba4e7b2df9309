#include "cache/invalidation_listener.hpp"

#include <gtest/gtest.h>

namespace cachelab::cache {
namespace {

using Change = ProbeWatch::Change;

// Deaf after deaf_after unheard probes in a row, not before; one heard probe in between starts the count
// again; hearing again is announced once, and only after deafness.
TEST(ProbeWatch, DeafAfterProbesUnheardInARowAndHearingAgainWithTheNextOneHeard) {
  ProbeWatch w;
  static_assert(ProbeWatch::deaf_after == 2);
  EXPECT_EQ(w.unheard(), Change::none);
  EXPECT_EQ(w.heard(), Change::none) << "a single late probe is a lost sample, not deafness";
  EXPECT_EQ(w.unheard(), Change::none);
  EXPECT_FALSE(w.deaf());
  EXPECT_EQ(w.unheard(), Change::went_deaf);
  EXPECT_TRUE(w.deaf());
  EXPECT_EQ(w.unheard(), Change::none) << "already deaf: announced once";
  EXPECT_EQ(w.unheard_in_a_row(), 3);
  EXPECT_EQ(w.heard(), Change::hears_again);
  EXPECT_FALSE(w.deaf());
  EXPECT_EQ(w.heard(), Change::none);
}

// A new subscription (or a lost one) forgets what the old one's probes said.
TEST(ProbeWatch, ANewSubscriptionStartsWithACleanSlate) {
  ProbeWatch w;
  w.unheard();
  w.unheard();
  ASSERT_TRUE(w.deaf());
  w.reset();
  EXPECT_FALSE(w.deaf());
  EXPECT_EQ(w.unheard(), Change::none);
}

}  // namespace
}  // namespace cachelab::cache

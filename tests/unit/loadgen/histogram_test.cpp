#include "loadgen/histogram.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace cachelab::loadgen {
namespace {

TEST(Histogram, EveryValueFrom1usTo60sIsKeptWithin1Percent) {
  for (double v = 1000; v <= 60e9; v *= 1.0137) {
    const auto ns = static_cast<std::int64_t>(v);
    const int i = Histogram::index_of(static_cast<std::uint64_t>(ns));
    ASSERT_LT(i, Histogram::bucket_count);
    ASSERT_LE(Histogram::lowest_of(i), ns);
    ASSERT_GE(Histogram::highest_of(i), ns);
    const double width = static_cast<double>(Histogram::highest_of(i) - Histogram::lowest_of(i));
    ASSERT_LE(width / static_cast<double>(ns), 0.01) << ns;
  }
}

TEST(Histogram, BucketsTileTheRangeWithoutGaps) {
  for (int i = 1; i < Histogram::bucket_count; ++i) {
    ASSERT_EQ(Histogram::lowest_of(i), Histogram::highest_of(i - 1) + 1) << i;
  }
  EXPECT_GE(Histogram::highest_of(Histogram::bucket_count - 1), Histogram::max_value_ns);
}

TEST(Histogram, PercentilesOfAKnownDistribution) {
  Histogram h;
  for (int ms = 1; ms <= 1000; ++ms) h.record(std::int64_t{ms} * 1'000'000);  // 1..1000 ms, once each
  EXPECT_EQ(h.count(), 1000);
  EXPECT_NEAR(h.percentile(50) / 1e6, 500, 5);
  EXPECT_NEAR(h.percentile(99) / 1e6, 990, 10);
  EXPECT_NEAR(h.percentile(99.9) / 1e6, 999, 10);
  EXPECT_EQ(h.percentile(100), 1'000'000'000);  // never above the largest recorded value
  EXPECT_EQ(h.max(), 1'000'000'000);
  EXPECT_EQ(h.min(), 1'000'000);
  EXPECT_NEAR(h.mean() / 1e6, 500.5, 3);
}

TEST(Histogram, MergingIsTheSameAsRecordingEverythingInOne) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(13, 1.2);  // around 0.5 ms, a long tail
  Histogram a, b, all;
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<std::int64_t>(latency(rng));
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  for (double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(a.percentile(p), all.percentile(p)) << p;
  EXPECT_EQ(a.max(), all.max());
  a.reset();
  EXPECT_EQ(a.count(), 0);
  EXPECT_EQ(a.percentile(99), 0);
}

TEST(Histogram, OutOfRangeValuesAreClamped) {
  Histogram h;
  h.record(-5);
  h.record(3'600'000'000'000);  // an hour
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), Histogram::max_value_ns);
}

}  // namespace
}  // namespace cachelab::loadgen

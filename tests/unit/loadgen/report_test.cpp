#include "loadgen/report.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace cachelab::loadgen {
namespace {

TEST(Timeline, OneSecondIsOneJsonLineWithItsCountsAndLatencies) {
  Progress p;
  p.elapsed_s = 3.0;
  p.second.requests = 100;
  p.second.hits = 90;
  p.second.misses = 10;
  p.second.errors.status_5xx = 2;
  p.second.errors.timeout = 1;
  for (int i = 1; i <= 100; ++i) p.latency.record(i * 1'000'000);  // 1 ms .. 100 ms
  const auto line = timeline_line(p);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto v = boost::json::parse(line).as_object();
  EXPECT_DOUBLE_EQ(v.at("t").as_double(), 3.0);
  EXPECT_FALSE(v.at("warmup").as_bool());
  EXPECT_EQ(v.at("requests").as_int64(), 100);
  EXPECT_EQ(v.at("errors").as_int64(), 3);
  EXPECT_EQ(v.at("hits").as_int64(), 90);
  EXPECT_EQ(v.at("misses").as_int64(), 10);
  EXPECT_NEAR(v.at("p50_ms").as_double(), 50, 0.5);
  EXPECT_NEAR(v.at("p99_ms").as_double(), 99, 1);
  EXPECT_NEAR(v.at("max_ms").as_double(), 100, 1);
}

}  // namespace
}  // namespace cachelab::loadgen

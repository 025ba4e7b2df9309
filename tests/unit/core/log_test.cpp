#include "core/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace cachelab {
namespace {

TEST(LogQuote, AMultiLineMessageWithQuotesStaysOneParseableValue) {
  // libpq's message on a refused connection, as it comes.
  const std::string libpq =
      "connection to server at \"127.0.0.1\", port 54330 failed: Connection refused\n\tIs the server "
      "running?";
  const auto q = log_quote(libpq);
  EXPECT_EQ(q.find('\n'), std::string::npos);
  EXPECT_EQ(q.find('\t'), std::string::npos);
  EXPECT_EQ(
      q,
      R"("connection to server at \"127.0.0.1\", port 54330 failed: Connection refused\n\tIs the server running?")");
  EXPECT_EQ(log_quote("a\\b"), R"("a\\b")");
  EXPECT_EQ(log_quote(std::string("nul\0bell\a", 9)), R"("nul\x00bell\x07")");
  EXPECT_EQ(log_quote(""), R"("")");
}

TEST(LogLimiter, LetsAFewThroughEachSecondAndCountsTheRest) {
  LogLimiter limit(5);
  // Start at the beginning of a second, so the burst below stays inside one window.
  const auto second = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  };
  const auto start = second();
  while (second() == start) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) admitted += limit.admit().has_value();
  EXPECT_EQ(admitted, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // the next second
  auto next = limit.admit();
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 995) << "the first record of the next second says how many were held back";
  auto after = limit.admit();
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, 0);
}

}  // namespace
}  // namespace cachelab

#include "core/log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

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

TEST(JsonLogs, TheEventIsTheMessageAndThePairsAreTypedFields) {
  const auto line = log_line_as_json(
      "2026-11-30T10:00:00.000Z", "info",
      R"(event=access method=GET target="/products/1?q=a b" status=200 bytes=512 ms=0.125 ok=true id=007)",
      "4bf9");
  const auto v = boost::json::parse(line);  // one valid JSON object
  EXPECT_EQ(
      line,
      R"({"ts":"2026-11-30T10:00:00.000Z","level":"info","msg":"access","request_id":"4bf9","method":"GET",)"
      R"("target":"/products/1?q=a b","status":200,"bytes":512,"ms":0.125,"ok":true,"id":"007"})");
  EXPECT_EQ(v.at("status").as_int64(), 200);
}

TEST(JsonLogs, QuotedValuesComeBackAsTheTextLogQuoteWasGiven) {
  const std::string nasty = "line one\nline \"two\" \\ tab\t bell\a";
  const auto line = log_line_as_json("t", "warn", "event=x detail=" + log_quote(nasty));
  EXPECT_EQ(boost::json::parse(line).at("detail").as_string(), nasty) << line;
}

TEST(JsonLogs, AMessageThatIsNotPairsIsTheMessageWhole) {
  for (const std::string m : {"plain words here", "k=\"unterminated", "=value", "event=x junk"}) {
    const auto v = boost::json::parse(log_line_as_json("t", "info", m));
    EXPECT_EQ(v.at("msg").as_string(), m);  // e.g. a word without '=' is not a pair
  }
}

TEST(JsonLogs, TheFormatWordIsTextJsonOrAuto) {
  EXPECT_EQ(parse_log_format("json"), LogFormat::json);
  EXPECT_EQ(parse_log_format("text"), LogFormat::text);
  EXPECT_TRUE(parse_log_format("auto").has_value());
  EXPECT_FALSE(parse_log_format("xml").has_value());
}

TEST(RequestIdScope, NestsAndRestores) {
  RequestId a, b;
  a.set("aaa");
  b.set(std::string(40, 'b'));
  EXPECT_EQ(RequestIdScope::current(), "");
  {
    const RequestIdScope outer(&a);
    EXPECT_EQ(RequestIdScope::current(), "aaa");
    {
      const RequestIdScope inner(&b);
      EXPECT_EQ(RequestIdScope::current(), std::string(32, 'b'));  // cut at 32
    }
    EXPECT_EQ(RequestIdScope::current(), "aaa");
    a.set("ccc");  // the transport's next request on the same connection
    EXPECT_EQ(RequestIdScope::current(), "ccc");
    a.clear();
    EXPECT_EQ(RequestIdScope::current(), "");
  }
  EXPECT_EQ(RequestIdScope::current(), "");
}

}  // namespace
}  // namespace cachelab

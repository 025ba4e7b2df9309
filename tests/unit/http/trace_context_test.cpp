#include "http/trace_context.hpp"

#include <gtest/gtest.h>

#include <set>

namespace cachelab::http {
namespace {

TEST(TraceContext, AWellFormedTraceparentGivesItsTraceIdAndFlags) {
  const auto t = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->flags, "01");
  // A later version may add fields after a dash; version 00 may not.
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more"));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more"));
}

TEST(TraceContext, MalformedOrAllZeroHeadersAreIgnored) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",     // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",  // separators
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  // not hex
       }) {
    EXPECT_FALSE(parse_traceparent(bad)) << bad;
  }
}

TEST(TraceContext, ATraceKeepsTheCallersTraceIdWithANewSpan) {
  const auto t = trace_for("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  EXPECT_EQ(t.id(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(std::string_view(t.span_id.data(), t.span_id.size()), "00f067aa0ba902b7");
  std::string headers;
  t.append_headers(headers);
  EXPECT_EQ(headers,
            "traceparent: " + t.traceparent() + "\r\nX-Request-Id: 4bf92f3577b34da6a3ce929d0e0e4736\r\n");
  EXPECT_EQ(t.traceparent().substr(0, 36), "00-4bf92f3577b34da6a3ce929d0e0e4736-");
  EXPECT_TRUE(parse_traceparent(t.traceparent())) << t.traceparent();
}

TEST(TraceContext, WithoutOneEachRequestGetsANewValidTrace) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto t = trace_for("garbage");
    EXPECT_EQ(t.traceparent().substr(53), "00");
    ASSERT_TRUE(parse_traceparent(t.traceparent())) << t.traceparent();
    seen.insert(std::string(t.id()));
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace cachelab::http

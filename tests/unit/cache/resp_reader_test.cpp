#include "cache/resp_reader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace cachelab::cache {
namespace {

using namespace std::string_view_literals;

TEST(RespReader, EveryReplyTypeOfRespTwo) {
  RespReader r;
  ASSERT_TRUE(r.feed("+OK\r\n-ERR no\r\n:-42\r\n$5\r\nhe\0lo\r\n$-1\r\n*-1\r\n*0\r\n"sv));
  auto ok = r.next();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->type, RedisReply::Type::status);
  EXPECT_EQ(ok->str, "OK");
  auto err = r.next();
  EXPECT_EQ(err->type, RedisReply::Type::error);
  EXPECT_EQ(err->str, "ERR no");
  auto n = r.next();
  EXPECT_EQ(n->type, RedisReply::Type::integer);
  EXPECT_EQ(n->integer, -42);
  auto bulk = r.next();
  EXPECT_EQ(bulk->type, RedisReply::Type::string);
  EXPECT_EQ(bulk->str, std::string("he\0lo", 5));
  EXPECT_EQ(r.next()->type, RedisReply::Type::nil);
  EXPECT_EQ(r.next()->type, RedisReply::Type::nil);
  auto empty = r.next();
  EXPECT_EQ(empty->type, RedisReply::Type::array);
  EXPECT_TRUE(empty->elements.empty());
  EXPECT_FALSE(r.next());
  EXPECT_FALSE(r.failed());
}

TEST(RespReader, NestedArraysArriveByteByByte) {
  const std::string wire = "*3\r\n$1\r\na\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n$-1\r\n";
  RespReader r;
  std::optional<RedisReply> reply;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    ASSERT_FALSE(reply) << "complete before byte " << i;
    ASSERT_TRUE(r.feed(std::string_view(wire).substr(i, 1)));
    reply = r.next();
  }
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->elements.size(), 3u);
  EXPECT_EQ(reply->elements[0].str, "a");
  ASSERT_EQ(reply->elements[1].elements.size(), 2u);
  EXPECT_EQ(reply->elements[1].elements[0].integer, 1);
  ASSERT_EQ(reply->elements[1].elements[1].elements.size(), 1u);
  EXPECT_EQ(reply->elements[1].elements[1].elements[0].type, RedisReply::Type::string);
  EXPECT_EQ(reply->elements[1].elements[1].elements[0].str, "");
  EXPECT_EQ(reply->elements[2].type, RedisReply::Type::nil);
}

TEST(RespReader, AHugeAnnouncedArrayCostsNothingUntilItsElementsCome) {
  RespReader r;
  ASSERT_TRUE(r.feed("*2147483647\r\n:1\r\n:2\r\n"));
  EXPECT_FALSE(r.next());
  EXPECT_FALSE(r.failed());
}

TEST(RespReader, AProtocolErrorFailsTheReaderUntilReset) {
  RespReader r;
  r.feed("?what\r\n");
  EXPECT_FALSE(r.next());
  ASSERT_TRUE(r.failed());
  EXPECT_NE(r.error().find("Protocol error"), std::string::npos);
  EXPECT_FALSE(r.feed("+OK\r\n"));
  r.reset();
  EXPECT_FALSE(r.failed());
  r.feed("+OK\r\n");
  EXPECT_EQ(r.next()->str, "OK");
}

TEST(RespReader, NestingDeeperThanHiredisAllowsIsAnError) {
  RespReader r;
  std::string deep;
  for (int i = 0; i < 12; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  r.feed(deep);
  EXPECT_FALSE(r.next());
  EXPECT_TRUE(r.failed());
}

TEST(RespReader, AFailureInsideAnArrayFreesWhatWasBuilt) {
  // Under ASan, a leak or double free of the partial reply fails this test.
  RespReader r;
  r.feed("*3\r\n$3\r\nabc\r\n*2\r\n:1\r\n:x\r\n");
  EXPECT_FALSE(r.next());
  EXPECT_TRUE(r.failed());
}

// The reply being built lives in the reader (no allocation per reply): what a half-read reply had put there
// must not leak into the next connection's first reply, nor one reply's elements into the next's.
TEST(RespReader, NothingOfAHalfReadOrEarlierReplyShowsInTheNext) {
  RespReader r;
  r.feed("*3\r\n$3\r\nabc\r\n:7\r\n");  // two of three elements, then the connection is lost
  EXPECT_FALSE(r.next());
  r.reset();
  r.feed("*1\r\n:1\r\n+OK\r\n");
  auto first = r.next();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->type, RedisReply::Type::array);
  ASSERT_EQ(first->elements.size(), 1u);
  EXPECT_EQ(first->elements[0].integer, 1);
  auto second = r.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, RedisReply::Type::status);
  EXPECT_EQ(second->str, "OK");
  EXPECT_TRUE(second->elements.empty());
  EXPECT_FALSE(r.next());
}

}  // namespace
}  // namespace cachelab::cache

#include "api/params.hpp"

#include <gtest/gtest.h>
#include <boost/url/parse.hpp>

namespace cachelab::api {
namespace {

boost::urls::url_view url(std::string_view s) {
  return *boost::urls::parse_origin_form(s);
}

TEST(Params, IdAcceptsOnlyPositiveDecimalIntegersInRange) {
  EXPECT_EQ(*parse_id("1"), 1);
  EXPECT_EQ(*parse_id("9223372036854775807"), max_id);
  for (const char* bad : {"", "0", "-1", "+1", "abc", "1.5", " 1", "1 ", "9223372036854775808",
                          "99999999999999999999", "0x10"}) {
    auto r = parse_id(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::invalid_argument);
    EXPECT_EQ(r.error().code, "invalid_id");
  }
}

TEST(Params, IntParamUsesFallbackAndChecksRange) {
  EXPECT_EQ(*int_param(url("/p"), "limit", 10, 1, 100), 10);
  EXPECT_EQ(*int_param(url("/p?limit=100"), "limit", 10, 1, 100), 100);
  for (const char* bad : {"/p?limit=0", "/p?limit=101", "/p?limit=abc", "/p?limit=", "/p?limit=-5"}) {
    auto r = int_param(url(bad), "limit", 10, 1, 100);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "invalid_limit");
    EXPECT_EQ(r.error().message, "limit must be an integer from 1 to 100");
  }
}

TEST(Params, PageParametersHaveDefaultsAndLimits) {
  auto page = page_params(url("/p"));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->limit, 10);
  EXPECT_EQ(page->offset, 0);
  auto last = page_params(url("/p?limit=100&offset=1000000000"));
  ASSERT_TRUE(last);
  EXPECT_EQ(last->limit, 100);
  EXPECT_EQ(last->offset, max_offset);
  EXPECT_EQ(page_params(url("/p?limit=101")).error().code, "invalid_limit");
  EXPECT_EQ(page_params(url("/p?offset=-1")).error().code, "invalid_offset");
}

TEST(Params, CacheModeIsBypassOrAbsent) {
  EXPECT_EQ(*cache_mode(url("/p")), service::CacheMode::use);
  EXPECT_EQ(*cache_mode(url("/p?cache=bypass")), service::CacheMode::bypass);
  auto bad = cache_mode(url("/p?cache=yes"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, "invalid_cache");
}

// Equivalent spellings normalise to one string, so they share one cache key.
TEST(Params, SearchQueriesAreNormalisedSoEquivalentOnesShareAKey) {
  const std::pair<const char*, const char*> same[] = {
      {"/s?q=coffee", "coffee"},
      {"/s?q=COFFEE", "coffee"},
      {"/s?q=%20%20Coffee%09Mug%20%20", "coffee mug"},  // trimmed, inner whitespace collapsed
      {"/s?q=coffee+++mug", "coffee mug"},              // '+' is a space in a query string
      {"/s?q=%C3%89clair",
       "\xC3\x89"
       "clair"},                // non-ASCII letters are kept as they are
      {"/s?q=100%25", "100%"},  // %, _ and \ are literal: db/ escapes them for ILIKE
      {"/s?q=a_b%5C", "a_b\\"},
  };
  for (const auto& [target, normalised] : same) {
    auto q = search_query(url(target));
    ASSERT_TRUE(q) << target << ": " << q.error().message;
    EXPECT_EQ(*q, normalised) << target;
  }
}

TEST(Params, SearchQueriesOutsideTheLimitsAreRefusedWithTheReason) {
  const std::pair<const char*, const char*> bad[] = {
      {"/s", "required"},        {"/s?q=", "1 to 100"},     {"/s?q=%20%09", "1 to 100"},
      {"/s?q=a%00b", "control"}, {"/s?q=a%07b", "control"}, {"/s?q=%FF", "UTF-8"},
      {"/s?q=%C0%AF", "UTF-8"},  // an overlong '/'
  };
  for (const auto& [target, why] : bad) {
    auto q = search_query(url(target));
    ASSERT_FALSE(q) << target;
    EXPECT_EQ(q.error().code, "invalid_q");
    EXPECT_NE(q.error().message.find(why), std::string::npos) << target << ": " << q.error().message;
  }
  EXPECT_TRUE(search_query(url(("/s?q=" + std::string(100, 'x')).c_str())));
  EXPECT_FALSE(search_query(url(("/s?q=" + std::string(101, 'x')).c_str())));
  // Characters, not bytes: 100 two-byte characters are within the limit.
  std::string hundred_eacute;
  for (int i = 0; i < 100; ++i) hundred_eacute += "%C3%A9";
  EXPECT_TRUE(search_query(url(("/s?q=" + hundred_eacute).c_str())));
}

TEST(Params, Utf8ValidationRejectsSurrogatesAndOutOfRange) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));   // U+1F600
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // U+D800, a surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE2\x82"));          // truncated
}

}  // namespace
}  // namespace cachelab::api

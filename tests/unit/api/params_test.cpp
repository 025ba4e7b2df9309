#include "api/params.hpp"

#include <gtest/gtest.h>
#include <boost/url/parse.hpp>

namespace cachelab::api {
namespace {

boost::urls::url_view url(std::string_view s) {
  return *boost::urls::parse_origin_form(s);
}

TEST(Params, IdAcceptsOnlyPositiveDecimalIntegersInRange) {
  EXPECT_EQ(std::get<std::int64_t>(parse_id("1")), 1);
  EXPECT_EQ(std::get<std::int64_t>(parse_id("9223372036854775807")), max_id);
  for (const char* bad : {"", "0", "-1", "+1", "abc", "1.5", " 1", "1 ", "9223372036854775808",
                          "99999999999999999999", "0x10"}) {
    auto r = parse_id(bad);
    ASSERT_NE(error_of(r), nullptr) << bad;
    EXPECT_EQ(error_of(r)->code, "invalid_id");
  }
}

TEST(Params, IntParamUsesFallbackAndChecksRange) {
  EXPECT_EQ(std::get<std::int64_t>(int_param(url("/p"), "limit", 10, 1, 100)), 10);
  EXPECT_EQ(std::get<std::int64_t>(int_param(url("/p?limit=100"), "limit", 10, 1, 100)), 100);
  for (const char* bad : {"/p?limit=0", "/p?limit=101", "/p?limit=abc", "/p?limit=", "/p?limit=-5"}) {
    auto r = int_param(url(bad), "limit", 10, 1, 100);
    ASSERT_NE(error_of(r), nullptr) << bad;
    EXPECT_EQ(error_of(r)->code, "invalid_limit");
  }
}

TEST(Params, CacheModeIsBypassOrAbsent) {
  EXPECT_FALSE(std::get<bool>(bypass_param(url("/p"))));
  EXPECT_TRUE(std::get<bool>(bypass_param(url("/p?cache=bypass"))));
  EXPECT_NE(error_of(bypass_param(url("/p?cache=yes"))), nullptr);
}

}  // namespace
}  // namespace cachelab::api

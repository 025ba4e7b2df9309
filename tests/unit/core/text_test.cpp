#include "core/text.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace cachelab {
namespace {

// Found by fuzz/http_request: Boost 1.81's beast::iequals read one byte past both strings once two
// characters differed in case. Exact-size heap buffers let AddressSanitizer see any such read.
TEST(Text, IequalsAsciiReadsNothingPastEitherString) {
  auto exact = [](const char* s) {
    auto p = std::make_unique<char[]>(std::strlen(s));
    std::memcpy(p.get(), s, std::strlen(s));
    return p;
  };
  auto target = exact("Http://"), scheme = exact("http://");
  EXPECT_TRUE(iequals_ascii({target.get(), 7}, {scheme.get(), 7}));
  auto other = exact("HTTP:/x");
  EXPECT_FALSE(iequals_ascii({other.get(), 7}, {scheme.get(), 7}));
  EXPECT_FALSE(iequals_ascii("chunked", "chunke"));
  EXPECT_TRUE(iequals_ascii("", ""));
  EXPECT_FALSE(iequals_ascii("\xc3\xa9", "\xc3\x89")) << "ASCII only: no case folding beyond it";
}

TEST(Text, AppendedNumbersReadAsPrintfWouldPrintThem) {
  std::string out = "n=";
  append_int(out, -9223372036854775807LL - 1);
  EXPECT_EQ(out, "n=-9223372036854775808");
  for (double d : {0.0, 0.0125, 0.0135, 1.9995, 12345.6789, -0.0004, 1e15}) {
    std::string got;
    append_fixed(got, d, 3);
    char want[64];
    std::snprintf(want, sizeof want, "%.3f", d);
    EXPECT_EQ(got, want) << d;
  }
}

}  // namespace
}  // namespace cachelab

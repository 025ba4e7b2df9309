// core/text: small text helpers every layer may use. Owns nothing; pure functions, no I/O.
#pragma once

#include <algorithm>
#include <string_view>

namespace cachelab {

// ASCII case-insensitive equality (header names, schemes, tokens). Not boost::beast::iequals: in Boost 1.81,
// once two characters differ in case, it reads one byte past the end of both strings (found by
// fuzz/http_request with a target that ended in "Http://").
inline bool iequals_ascii(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

}  // namespace cachelab

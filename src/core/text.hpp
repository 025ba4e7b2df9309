// core/text: small text helpers every layer may use. Owns nothing; pure functions, no I/O.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
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

// Appends `n` in decimal. What fmt::format_to does, without parsing a format string on the request path.
inline void append_int(std::string& out, std::int64_t n) {
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, n).ptr);
}

// Appends `d` with exactly `decimals` digits after the point ("0.013"), as printf's %.*f would.
inline void append_fixed(std::string& out, double d, int decimals) {
  char digits[64];
  const auto r = std::to_chars(digits, digits + sizeof digits, d, std::chars_format::fixed, decimals);
  out.append(digits, r.ec == std::errc{} ? r.ptr : digits);
}

}  // namespace cachelab

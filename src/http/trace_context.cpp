#include "http/trace_context.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

namespace cachelab::http {
namespace {

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

std::string random_hex(std::size_t digits) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {
    auto bits = random();
    for (int i = 0; i < 16 && out.size() < digits; ++i, bits >>= 4) out.push_back(hex[bits & 0xf]);
  }
  if (all_zero(out)) out.back() = '1';  // an all-zero id is invalid
  return out;
}

}  // namespace

std::optional<TraceParent> parse_traceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters; a later
  // version may append "-" and more.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const auto version = h.substr(0, 2), trace = h.substr(3, 32), parent = h.substr(36, 16),
             flags = h.substr(53, 2);
  if (!is_lower_hex(version) || version == "ff" || !is_lower_hex(trace) || !is_lower_hex(parent) ||
      !is_lower_hex(flags) || all_zero(trace) || all_zero(parent)) {
    return std::nullopt;
  }
  if (h.size() > 55 && (version == "00" || h[55] != '-')) return std::nullopt;
  return TraceParent{std::string(trace), std::string(flags)};
}

Trace trace_for(std::string_view header) {
  Trace t;
  if (auto parent = parse_traceparent(header)) {
    t.trace_id = std::move(parent->trace_id);
    t.flags = std::move(parent->flags);
  } else {
    t.trace_id = random_hex(32);
    t.flags = "00";
  }
  t.span_id = random_hex(16);
  return t;
}

}  // namespace cachelab::http

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

// Fills `out` with random lower-case hex digits, never all zero (an all-zero id is invalid).
template <std::size_t N>
void random_hex(std::array<char, N>& out) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < N; i += 16) {
    auto bits = random();
    for (std::size_t j = i; j < std::min(N, i + 16); ++j, bits >>= 4) out[j] = hex[bits & 0xf];
  }
  if (all_zero({out.data(), N})) out[N - 1] = '1';
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
    std::copy_n(parent->trace_id.data(), t.trace_id.size(), t.trace_id.data());
    std::copy_n(parent->flags.data(), t.flags.size(), t.flags.data());
  } else {
    random_hex(t.trace_id);
  }
  random_hex(t.span_id);
  return t;
}

void Trace::append_traceparent(std::string& out) const {
  out += "00-";
  out.append(trace_id.data(), trace_id.size());
  out += '-';
  out.append(span_id.data(), span_id.size());
  out += '-';
  out.append(flags.data(), flags.size());
}

void Trace::append_headers(std::string& out) const {
  out += "traceparent: ";
  append_traceparent(out);
  out += "\r\nX-Request-Id: ";
  out.append(trace_id.data(), trace_id.size());
  out += "\r\n";
}

std::string Trace::traceparent() const {
  std::string out;
  append_traceparent(out);
  return out;
}

}  // namespace cachelab::http

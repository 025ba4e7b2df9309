// http/trace_context: W3C Trace Context (https://www.w3.org/TR/trace-context/) at the transport: a request's
// trace id is taken from its `traceparent` header when that is well-formed, or made up; this server's own
// span id is new for every request. The trace id is the request id the logs and `X-Request-Id` show. Owns the
// parsing and the random ids (a per-thread generator). Never trusts a malformed header: it is ignored.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace cachelab::http {

struct TraceParent {
  std::string trace_id;  // 32 lower-case hex digits, not all zero
  std::string flags;     // 2 hex digits (01: sampled)
};

// `00-<trace-id>-<parent-id>-<flags>` (other versions: their first four fields); nullopt when malformed.
std::optional<TraceParent> parse_traceparent(std::string_view header);

// The trace this request belongs to and this server's span in it, in fixed buffers (no allocation per
// request).
struct Trace {
  std::array<char, 32> trace_id{};  // lower-case hex
  std::array<char, 16> span_id{};
  std::array<char, 2> flags{'0', '0'};
  std::string_view id() const { return {trace_id.data(), trace_id.size()}; }
  // "traceparent: 00-<trace>-<span>-<flags>\r\nX-Request-Id: <trace>\r\n", as the answer's head carries it.
  void append_headers(std::string& out) const;
  std::string traceparent() const;

 private:
  void append_traceparent(std::string& out) const;
};

// The incoming header's trace, or a new one (flags 00); a new span either way.
Trace trace_for(std::string_view traceparent_header);

}  // namespace cachelab::http

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

// The trace this request belongs to and this server's span in it.
struct Trace {
  std::string trace_id;
  std::string span_id;  // 16 hex digits
  std::string flags;
  std::string traceparent() const { return "00-" + trace_id + "-" + span_id + "-" + flags; }
};

// The incoming header's trace, or a new one (flags 00); a new span either way.
Trace trace_for(std::string_view traceparent_header);

}  // namespace cachelab::http

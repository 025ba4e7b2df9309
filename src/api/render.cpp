#include "api/render.hpp"

#include "core/text.hpp"

namespace cachelab::api {

std::string_view source_name(service::Source source) {
  switch (source) {
    case service::Source::memory:
      return "memory";
    case service::Source::cache:
      return "cache";
    case service::Source::database:
      break;
  }
  return "database";
}

bool is_hit(const service::Answer& a) {
  return a.source == service::Source::cache || a.source == service::Source::memory;
}

// RFC 9211: hit (with ttl, and detail=l1 from the near cache or detail=redis), or fwd=miss|bypass, plus
// `stored` when we cached the answer and `collapsed` when this request waited for another one's load instead
// of querying.
namespace {
void append_cache_status(std::string& s, const service::Answer& a) {
  if (is_hit(a)) {
    s += "cachelab; hit; ttl=";
    append_int(s, a.ttl_ms ? (*a.ttl_ms + 999) / 1000 : 0);
    s += a.source == service::Source::memory ? "; detail=l1" : "; detail=redis";
    if (a.stale) s += "; stale";
  } else if (a.bypassed) {
    s += "cachelab; fwd=bypass";
  } else {
    s += "cachelab; fwd=miss";
    if (a.stored) s += "; stored";
    if (a.cache_unavailable) s += "; detail=unavailable";
  }
  if (a.collapsed) s += "; collapsed";
}
}  // namespace

std::string cache_status(const service::Answer& a) {
  std::string s;
  append_cache_status(s, a);
  return s;
}

namespace {

void set_cache_headers(Response& res, const service::Answer& a, double fetch_time_ms) {
  // The header values are built in one buffer per thread (the fields copy them): no allocation per answer.
  thread_local std::string value;
  res.set("X-Cache", is_hit(a) ? "HIT" : (a.bypassed ? "BYPASS" : "MISS"));
  value.clear();
  append_cache_status(value, a);
  res.set("Cache-Status", value);
  // A near-cache hit touched neither backend: its timing is the total alone.
  value.clear();
  if (a.source == service::Source::memory) {
    value += "l1;dur=";
    append_fixed(value, fetch_time_ms, 3);
  } else {
    value += "redis;dur=";
    append_fixed(value, a.timings.redis_ms, 3);
    value += ", db;dur=";
    append_fixed(value, a.timings.db_ms, 3);
  }
  value += ", total;dur=";
  append_fixed(value, fetch_time_ms, 3);
  res.set("Server-Timing", value);
}

}  // namespace

Response render_answer(service::Answer a, double fetch_time_ms, std::string_view not_found_message) {
  if (a.not_found) {
    auto res = error_response(http::status::not_found, "not_found", not_found_message);
    set_cache_headers(res, a, fetch_time_ms);
    return res;
  }
  // The stored value is a JSON object; splice our fields in before its closing brace instead of parsing it,
  // in the answer's own buffer (the service reserves room for them where it copies a value).
  std::string body = std::move(a.body);
  body.pop_back();
  body += ",\"source\":\"";
  body += source_name(a.source);
  body += '"';
  body += ",\"fetch_time_ms\":";
  append_fixed(body, fetch_time_ms, 3);
  // On a hit what the entry has left; on a miss that stored the answer, the TTL it was stored with.
  if (a.ttl_ms) {
    body += ",\"ttl_remaining_s\":";
    append_int(body, (*a.ttl_ms + 999) / 1000);
  }
  if (a.cache_unavailable) body += R"(,"cache":"unavailable")";
  body += '}';
  auto res = json_response(http::status::ok, std::move(body));
  set_cache_headers(res, a, fetch_time_ms);
  return res;
}

void write_invalidation(JsonWriter& w, const service::Invalidation& c) {
  w.field("cache",
          c.pending ? "invalidation_pending" : (c.written_through ? "written_through" : "invalidated"));
  w.key("invalidated_keys").begin_array();
  if (!c.pending) {
    w.value(c.dropped_key);
    w.value(c.retired_pattern + " (pages, categories, searches, top products)");
  }
  w.end_array();
}

Response rendered(Result<service::Answer>&& answer, const Stopwatch& total) {
  if (!answer) return error_response(answer.error());
  return render_answer(std::move(*answer), total.elapsed_ms());
}

}  // namespace cachelab::api

// api/render: how a read's answer becomes an HTTP response — the stored JSON with `source`, `fetch_time_ms`
// (and `ttl_remaining_s`) spliced in, and the headers that say where it came from: X-Cache, Cache-Status
// (RFC 9211) and Server-Timing. Shared by every cache-aside endpoint. Never re-serialises the stored bytes.
#pragma once

#include "api/errors.hpp"
#include "core/json_writer.hpp"
#include "core/stopwatch.hpp"
#include "service/answer.hpp"

#include <string>
#include <string_view>

namespace cachelab::api {

// The answer with its fields spliced in before the stored object's closing brace (in the answer's own body,
// which becomes the response's), plus the cache headers. A not-found answer (possibly a cached "not found")
// becomes a 404 carrying the same cache headers.
Response render_answer(service::Answer answer, double fetch_time_ms,
                       std::string_view not_found_message = "not found");

// render_answer(), or the error, timed from `total`'s start.
Response rendered(Result<service::Answer>&& answer, const Stopwatch& total);

// "cachelab; hit; ttl=42", "cachelab; fwd=miss; stored", "cachelab; fwd=bypass", … (RFC 9211).
std::string cache_status(const service::Answer& answer);

// What a write did to the cache, as fields of an open JSON object: "cache" ("invalidated",
// "written_through" or "invalidation_pending") and "invalidated_keys".
void write_invalidation(JsonWriter& w, const service::Invalidation& cache);

// "memory" (the near cache), "cache" (Redis) or "database".
std::string_view source_name(service::Source source);
// Served from the near cache or Redis.
bool is_hit(const service::Answer& a);

}  // namespace cachelab::api

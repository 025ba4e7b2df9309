// api/handlers: every endpoint of cachelab, registered into the Router in one table (handlers.cpp).
// Owns request parsing (via params), calling service/, and rendering answers with their cache headers.
// Never caches, queries or retries by itself; failures are mapped by api/errors.
#pragma once

#include "api/router.hpp"
#include "api/writes.hpp"
#include "service/catalog_service.hpp"

#include <memory>

namespace cachelab::api {

// Registers every endpoint on `router`, served by `service`.
void add_routes(Router& router, std::shared_ptr<service::CatalogService> service,
                const ApiOptions& options = {});

// Renders a read's answer: the stored JSON object with source, fetch_time_ms (and ttl_remaining_s on a hit)
// spliced in before its closing brace, plus X-Cache, Cache-Status and Server-Timing.
// A not-found answer (possibly a cached "not found") becomes a 404 carrying the same cache headers.
Response render_answer(const service::Answer& answer, double fetch_time_ms,
                       std::string_view not_found_message = "not found");

}  // namespace cachelab::api

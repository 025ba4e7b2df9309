// api/handlers: every endpoint of cachelab, registered into the Router in one table (handlers.cpp).
// Owns request parsing (via params), calling service/, and rendering answers with their cache headers.
// Never caches, queries or retries by itself; failures are mapped by api/errors.
#pragma once

#include "api/router.hpp"
#include "service/catalog_service.hpp"

#include <memory>

namespace cachelab::api {

// Registers every endpoint on `router`, served by `service`.
void add_routes(Router& router, std::shared_ptr<service::CatalogService> service);

// Renders a read's answer: the stored JSON object with source, fetch_time_ms (and ttl_remaining_s on a hit)
// spliced in before its closing brace, plus X-Cache, Cache-Status and Server-Timing.
Response render_answer(const service::Answer& answer, double fetch_time_ms);

}  // namespace cachelab::api

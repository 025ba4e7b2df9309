// api/writes: the endpoints that change state — product writes, and the demonstrations of the caching policy
// (stampede, stale read) — plus the one check that guards every state-changing endpoint.
// Owns who may write: with ADMIN_TOKEN set, `Authorization: Bearer <token>` (compared in constant time), else
// loopback clients only; and, either way, a browser page may write only from this server's own origin or one
// that CORS allows (a page from any other site in the user's browser is a loopback client too).
// Never lets a write through on a failed check; never touches the cache directly.
#pragma once

#include "api/cors.hpp"
#include "api/router.hpp"
#include "service/catalog_service.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace cachelab::api {

struct ApiOptions {
  std::string admin_token;  // empty: writes only from loopback
  // Set when the process is shutting down: /ready answers 503 so load balancers stop sending traffic.
  std::shared_ptr<const std::atomic<bool>> draining;
  CorsPolicy cors;  // which other origins' pages may read answers (and write, with the other checks)
};

// A 401/403 response when the caller may not change state, nothing when it may. A request with an Origin
// header (a browser page's) that is neither this server's own nor allowed by CORS is refused first
// (403 forbidden_origin), so no site the user visits can flush or edit a local cachelab through the browser.
std::optional<Response> deny_unless_admin(const RequestContext& ctx, const ApiOptions& options);

// Equal length and bytes, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

void add_write_routes(Router& router, std::shared_ptr<service::CatalogService> service,
                      const ApiOptions& options);

}  // namespace cachelab::api

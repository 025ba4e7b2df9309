// api/writes: the endpoints that change state — product writes, and the demonstrations of the caching policy
// (stampede, stale read) — plus the one check that guards every state-changing endpoint.
// Owns who may write: with ADMIN_TOKEN set, `Authorization: Bearer <token>` (compared in constant time), else
// loopback clients only. Never lets a write through on a failed check; never touches the cache directly.
#pragma once

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
};

// A 401/403 response when the caller may not change state, nothing when it may.
std::optional<Response> deny_unless_admin(const RequestContext& ctx, const ApiOptions& options);

// Equal length and bytes, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

void add_write_routes(Router& router, std::shared_ptr<service::CatalogService> service,
                      const ApiOptions& options);

}  // namespace cachelab::api

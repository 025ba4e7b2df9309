// api/access: who may change state — writes, flushes, key deletes and the demos (Access::admin in the table).
// Owns the rule: with ADMIN_TOKEN set, `Authorization: Bearer <token>` (compared in constant time), else
// loopback clients only; and, either way, a browser page may do it only from this server's own origin or one
// that CORS allows (a page from any other site in the user's browser is a loopback client too).
// Never lets a request through on a failed check.
#pragma once

#include "api/api.hpp"

#include <optional>
#include <string_view>

namespace cachelab::api {

// A 401/403 response when the caller may not change state, nothing when it may. A request with an Origin
// header that is neither this server's own nor allowed by CORS is refused first (403 forbidden_origin), so no
// site the user visits can flush or edit a local cachelab through the browser.
std::optional<Response> deny_unless_admin(const RequestContext& ctx, const ApiOptions& options);

// Equal length and bytes, in time that depends only on the lengths.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace cachelab::api

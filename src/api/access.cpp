#include "api/access.hpp"
#include "core/text.hpp"

#include <fmt/format.h>
#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace cachelab::api {

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::optional<Response> deny_unless_admin(const RequestContext& ctx, const ApiOptions& options) {
  const auto origin = ctx.request[http::field::origin];
  if (!origin.empty() && !same_origin(origin, ctx.request[http::field::host]) &&
      !options.cors.allowed(origin)) {
    return error_response(http::status::forbidden, "forbidden_origin",
                          fmt::format("pages from {} may not change state here (see --cors-allow-origins)",
                                      std::string_view(origin)));
  }
  if (!options.admin_token.empty()) {
    // "Bearer <token>": the scheme is case-insensitive (RFC 9110 §11.1), the token is compared in constant
    // time.
    const std::string_view given = ctx.request[http::field::authorization];
    const auto space = given.find(' ');
    const bool bearer = space != std::string_view::npos && iequals_ascii(given.substr(0, space), "Bearer");
    if (bearer && constant_time_equal(given.substr(space + 1), options.admin_token)) return std::nullopt;
    auto res = error_response(http::status::unauthorized, "unauthorized",
                              "this endpoint needs 'Authorization: Bearer <ADMIN_TOKEN>'");
    res.set(http::field::www_authenticate, "Bearer realm=\"cachelab\"");
    return res;
  }
  if (ctx.caller.loopback) return std::nullopt;
  return error_response(http::status::forbidden, "forbidden",
                        "without ADMIN_TOKEN set, this endpoint accepts loopback clients only");
}

}  // namespace cachelab::api

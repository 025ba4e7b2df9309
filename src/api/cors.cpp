#include "api/cors.hpp"
#include "core/text.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace cachelab::api {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// scheme://host[:port], nothing after: what a browser sends as Origin.
bool looks_like_origin(std::string_view o) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!iequals_ascii(o.substr(0, scheme.size()), scheme)) continue;
    auto rest = o.substr(scheme.size());
    return !rest.empty() && rest.find_first_of("/?#@ ") == std::string_view::npos;
  }
  return false;
}

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> origins) {
  for (auto& o : origins) {
    if (o == "*") {
      any_ = true;
    } else {
      origins_.push_back(lower(o));
    }
  }
}

std::string CorsPolicy::problem_with(const std::vector<std::string>& origins) {
  const bool star = std::find(origins.begin(), origins.end(), "*") != origins.end();
  if (star && origins.size() > 1) return "'*' allows every origin and cannot be combined with a list";
  for (const auto& o : origins) {
    if (o != "*" && !looks_like_origin(o)) {
      return "'" + o + "' is not an origin: give scheme://host[:port] (e.g. http://localhost:3000) or '*'";
    }
  }
  return {};
}

std::optional<std::string> CorsPolicy::allowed(std::string_view origin) const {
  if (origin.empty()) return std::nullopt;
  if (any_) return std::string("*");
  const auto o = lower(origin);
  if (std::find(origins_.begin(), origins_.end(), o) == origins_.end()) return std::nullopt;
  return std::string(origin);
}

bool same_origin(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (iequals_ascii(origin.substr(0, scheme.size()), scheme)) {
      return !host.empty() && iequals_ascii(origin.substr(scheme.size()), host);
    }
  }
  return false;
}

}  // namespace cachelab::api

#include "api/params.hpp"

#include <fmt/format.h>

#include <charconv>

namespace cachelab::api {
namespace {

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty() || s.size() > 20) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<std::string> find_param(boost::urls::url_view url, std::string_view name) {
  auto params = url.params();
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return std::string((*it).value);
}

}  // namespace

Parsed<std::int64_t> parse_id(std::string_view text) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  auto v = digits ? to_int(text) : std::nullopt;
  if (!v || *v < 1) {
    return ParamError{"invalid_id", fmt::format("id must be an integer from 1 to {}", max_id)};
  }
  return *v;
}

Parsed<std::int64_t> int_param(boost::urls::url_view url, std::string_view name, std::int64_t fallback,
                               std::int64_t min, std::int64_t max) {
  auto raw = find_param(url, name);
  if (!raw) return fallback;
  auto v = to_int(*raw);
  if (!v || *v < min || *v > max) {
    return ParamError{fmt::format("invalid_{}", name),
                      fmt::format("{} must be an integer from {} to {}", name, min, max)};
  }
  return *v;
}

Parsed<bool> bypass_param(boost::urls::url_view url) {
  auto raw = find_param(url, "cache");
  if (!raw) return false;
  if (*raw == "bypass") return true;
  return ParamError{"invalid_cache", "cache must be 'bypass' when given"};
}

}  // namespace cachelab::api

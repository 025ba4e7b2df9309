// api/params: parsing and range-checking of path and query parameters, with the limits written down.
// Owns what counts as a valid id, limit, offset and cache mode. Pure functions; never does I/O.
// Fails with an ApiError naming the parameter, which handlers turn into a 400.
#pragma once

#include <boost/url/url_view.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace cachelab::api {

struct ParamError {
  std::string code;  // e.g. "invalid_id"
  std::string message;
};

template <class T>
using Parsed = std::variant<T, ParamError>;

inline constexpr std::int64_t max_id = 9'223'372'036'854'775'807;  // bigserial's range
inline constexpr int max_page_limit = 100;
inline constexpr std::int64_t max_offset = 1'000'000'000;

// The (percent-decoded) value of the query parameter `name`, or nothing when absent.
std::optional<std::string> query_param(boost::urls::url_view url, std::string_view name);

// A positive decimal integer within bigserial's range: "1".."9223372036854775807", no sign, no spaces.
Parsed<std::int64_t> parse_id(std::string_view text);

// The query parameter `name` as an integer in [min, max], or `fallback` when absent.
Parsed<std::int64_t> int_param(boost::urls::url_view url, std::string_view name, std::int64_t fallback,
                               std::int64_t min, std::int64_t max);

// ?cache=bypass → true; absent → false; any other value → error.
Parsed<bool> bypass_param(boost::urls::url_view url);

inline constexpr std::size_t max_query_chars = 100;

// The search query `q`: valid UTF-8 without control characters, trimmed, inner whitespace collapsed to one
// space, ASCII letters lower-cased, 1..100 characters. Equivalent spellings give the same string, so they
// share one cache key. Missing, empty, too long, invalid UTF-8 or a NUL → error.
Parsed<std::string> search_query(boost::urls::url_view url);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s);

template <class T>
const ParamError* error_of(const Parsed<T>& p) {
  return std::get_if<ParamError>(&p);
}

}  // namespace cachelab::api

// api/params: parsing and range-checking of path and query parameters, with the limits written down.
// Owns what counts as a valid id, limit, offset, cache mode and search query. Pure functions; never does I/O.
// Fails with an invalid_argument Error whose code names the parameter ("invalid_limit"), which
// api/errors turns into a 400.
#pragma once

#include "core/error.hpp"
#include "service/answer.hpp"

#include <boost/url/url_view.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachelab::api {

inline constexpr std::int64_t max_id = 9'223'372'036'854'775'807;  // bigserial's range
inline constexpr int max_page_limit = 100;
inline constexpr std::int64_t max_offset = 1'000'000'000;
inline constexpr std::int64_t max_top_products = 50;
inline constexpr std::size_t max_query_chars = 100;

// The (percent-decoded) value of the query parameter `name`, or nothing when absent.
std::optional<std::string> query_param(boost::urls::url_view url, std::string_view name);

// A positive decimal integer within bigserial's range: "1".."9223372036854775807", no sign, no spaces.
Result<std::int64_t> parse_id(std::string_view text);

// The query parameter `name` as an integer in [min, max], or `fallback` when absent (code "invalid_<name>").
Result<std::int64_t> int_param(boost::urls::url_view url, std::string_view name, std::int64_t fallback,
                               std::int64_t min, std::int64_t max);

// ?limit=1..100 (default 10) &offset=0..10⁹ (default 0), for every paginated endpoint.
struct Page {
  int limit = 10;
  std::int64_t offset = 0;
};
Result<Page> page_params(boost::urls::url_view url);

// ?cache=bypass → bypass; absent → use; any other value → invalid_cache.
Result<service::CacheMode> cache_mode(boost::urls::url_view url);

// The search query `q`: valid UTF-8 without control characters, trimmed, inner whitespace collapsed to one
// space, ASCII letters lower-cased, 1..100 characters. Equivalent spellings give the same string, so they
// share one cache key. Missing, empty, too long, invalid UTF-8 or a NUL → invalid_q.
Result<std::string> search_query(boost::urls::url_view url);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool valid_utf8(std::string_view s);

}  // namespace cachelab::api

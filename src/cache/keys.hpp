// cache/keys: the one place that builds Redis key names. Every key cachelab writes starts with
// `cachelab:v1:`, so clearing, counting and browsing touch our namespace only, and bumping the version
// retires every old entry at once when a value's shape changes.
// Owns the names only; never talks to Redis.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cachelab::cache::keys {

inline constexpr std::string_view prefix = "cachelab:v1:";

// cachelab:v1:product:{id}
std::string product(std::int64_t id);
// cachelab:v1:products:limit={limit}:offset={offset}
std::string products_page(int limit, std::int64_t offset);
// cachelab:v1:categories
std::string categories();
// cachelab:v1:search:limit={limit}:offset={offset}:q={normalised query} (the query last: it may hold ':')
std::string search(std::string_view normalised_query, int limit, std::int64_t offset);
// cachelab:v1:top-products:limit={limit}:min_reviews={n}
std::string top_products(int limit, int min_reviews);
// The SCAN MATCH pattern that covers every key of ours: cachelab:v1:*
std::string namespace_pattern();

}  // namespace cachelab::cache::keys

#include "cache/keys.hpp"
#include "core/text.hpp"

#include <fmt/format.h>

namespace cachelab::cache::keys {

std::string lease(std::string_view resolved_key) {
  if (resolved_key.substr(0, prefix.size()) == prefix) resolved_key.remove_prefix(prefix.size());
  return fmt::format("{}lease:{}", prefix, resolved_key);
}

std::string unresolve(std::string_view k) {
  if (!k.starts_with(prefix) || k.size() <= prefix.size() || k[prefix.size()] != 'g') return std::string(k);
  const auto digits = k.substr(prefix.size() + 1);
  const auto end = digits.find_first_not_of("0123456789");
  if (end == 0 || end == std::string_view::npos || digits[end] != ':') return std::string(k);
  return fmt::format("{}g{}{}", prefix, generation_placeholder, digits.substr(end));
}

std::string product(std::int64_t id) {  // on every product read: no format string to parse
  std::string key(prefix);
  key += "product:";
  append_int(key, id);
  return key;
}

std::string products_page(int limit, std::int64_t offset) {
  return fmt::format("{}g{{gen}}:products:limit={}:offset={}", prefix, limit, offset);
}

std::string categories() {
  return fmt::format("{}g{{gen}}:categories", prefix);
}

std::string search(std::string_view normalised_query, int limit, std::int64_t offset) {
  return fmt::format("{}g{{gen}}:search:limit={}:offset={}:q={}", prefix, limit, offset, normalised_query);
}

std::string top_products(int limit, int min_reviews) {
  return fmt::format("{}g{{gen}}:top-products:limit={}:min_reviews={}", prefix, limit, min_reviews);
}

std::string derived_pattern(std::int64_t generation) {
  return fmt::format("{}g{}:*", prefix, generation);
}

std::string namespace_pattern() {
  return fmt::format("{}*", prefix);
}

}  // namespace cachelab::cache::keys

#include "cache/keys.hpp"

#include <fmt/format.h>

namespace cachelab::cache::keys {

std::string product(std::int64_t id) {
  return fmt::format("{}product:{}", prefix, id);
}

std::string products_page(int limit, std::int64_t offset) {
  return fmt::format("{}products:limit={}:offset={}", prefix, limit, offset);
}

std::string namespace_pattern() {
  return fmt::format("{}*", prefix);
}

}  // namespace cachelab::cache::keys

#include "app/policy.hpp"

namespace cachelab::app {

service::Policy policy_from(const config::ServeConfig& c) {
  using std::chrono::seconds;
  const auto ttl = [&c](int own) { return seconds(config::ttl_or_default(own, c)); };
  return service::Policy{
      .product_ttl = seconds(c.cache_ttl_seconds),
      .products_ttl = ttl(c.products_ttl_seconds),
      .categories_ttl = ttl(c.categories_ttl_seconds),
      .search_ttl = ttl(c.search_ttl_seconds),
      .top_products_ttl = ttl(c.top_products_ttl_seconds),
      .negative_ttl = seconds(c.negative_ttl_seconds),
      .ttl_jitter = c.ttl_jitter,
      .write_policy = c.write_policy == "write-through" ? service::WritePolicy::write_through
                                                        : service::WritePolicy::invalidate,
      .swr = seconds(c.swr_seconds),
      .swr_endpoints = {c.swr_endpoints.begin(), c.swr_endpoints.end()},
  };
}

}  // namespace cachelab::app

// service/catalog_service: the catalog's reads and writes through the cache. Owns, for each endpoint, which
// key its answer is cached under (cache/keys), for how long (service/policy), and which query loads it
// (db::Catalog), and for each write, which keys it invalidates. The pattern itself is service/cache_aside.
// Never speaks a wire protocol. Fails as CacheAside does: Redis trouble is absorbed, a PostgreSQL failure is
// returned (Backend::database) for api/ to map to 503; bad input is invalid_argument, a missing row
// not_found. One instance per I/O thread.
#pragma once

#include "core/error.hpp"
#include "model/product.hpp"
#include "service/answer.hpp"
#include "service/cache_aside.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace cachelab::db {
class Catalog;
}  // namespace cachelab::db

namespace cachelab::service {

class CatalogService {
 public:
  CatalogService(boost::asio::any_io_executor ex, std::shared_ptr<cache::Store> cache,
                 std::shared_ptr<db::Catalog> db, std::shared_ptr<Counters> counters, const Policy& policy,
                 std::shared_ptr<const Overrides> overrides = nullptr, CacheAside::Near near = {});

  boost::asio::awaitable<Result<Answer>> product(std::int64_t id, CacheMode mode);
  boost::asio::awaitable<Result<Answer>> products(int limit, std::int64_t offset, CacheMode mode);
  boost::asio::awaitable<Result<Answer>> categories(CacheMode mode);
  // `query` must already be normalised (api/params): equivalent searches then share one key.
  boost::asio::awaitable<Result<Answer>> search(std::string query, int limit, std::int64_t offset,
                                                CacheMode mode);
  boost::asio::awaitable<Result<Answer>> top_products(int limit, CacheMode mode);

  // PostgreSQL first (the statement is the transaction), then the cache (CacheAside::invalidate_after_write).
  boost::asio::awaitable<Result<WriteOutcome>> create_product(model::ProductDraft draft);
  boost::asio::awaitable<Result<WriteOutcome>> update_product(std::int64_t id, model::ProductPatch patch);
  boost::asio::awaitable<Result<WriteOutcome>> remove_product(std::int64_t id);

  const Policy& policy() const { return cache_aside_.policy(); }
  const std::shared_ptr<Counters>& counters() const { return counters_; }

 private:
  boost::asio::awaitable<WriteOutcome> after_write(std::int64_t id, std::optional<model::Product> product);

  std::shared_ptr<db::Catalog> db_;
  std::shared_ptr<Counters> counters_;
  CacheAside cache_aside_;
};

}  // namespace cachelab::service

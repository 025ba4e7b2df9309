// db/catalog: the narrow interface service/ uses to read the catalog, and the PostgreSQL implementation's
// factory. Owns every SQL statement of the request path (in catalog_db.cpp). Never caches anything.
// Fails with `unavailable`/`timeout` when PostgreSQL is down or slow; "no such row" is an empty optional.
#pragma once

#include "core/error.hpp"
#include "model/product.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace cachelab::db {

class Catalog {
 public:
  virtual ~Catalog() = default;
  virtual boost::asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id) = 0;
  // One round trip: the page and the total count go out together in a libpq pipeline.
  virtual boost::asio::awaitable<Result<model::ProductPage>> products_page(int limit,
                                                                           std::int64_t offset) = 0;
  // SELECT 1 through the pool: is PostgreSQL answering?
  virtual boost::asio::awaitable<Result<void>> ping() = 0;
};

struct CatalogOptions {
  std::string conninfo;
  int pool_size = 2;      // connections for this I/O thread
  int timeout_ms = 5000;  // per call, including the wait for a free connection
};

// One per I/O thread; the returned object must only be used from `ex`.
std::shared_ptr<Catalog> make_pg_catalog(boost::asio::any_io_executor ex, CatalogOptions options);

}  // namespace cachelab::db

// db/catalog: the narrow interface service/ uses to read the catalog, and the PostgreSQL implementation's
// factory. Owns every SQL statement of the request path (in catalog_db.cpp). Never caches anything.
// Fails with `unavailable`/`timeout` when PostgreSQL is down or slow; "no such row" is an empty optional.
#pragma once

#include "core/error.hpp"
#include "model/catalog.hpp"
#include "model/product.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::db {

class Catalog {
 public:
  virtual ~Catalog() = default;
  virtual boost::asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id) = 0;
  // One round trip: the page and the total count go out together in a libpq pipeline.
  virtual boost::asio::awaitable<Result<model::ProductPage>> products_page(int limit,
                                                                           std::int64_t offset) = 0;
  // One row per category: product and review counts, average rating, COUNT/AVG/MIN/MAX of price.
  virtual boost::asio::awaitable<Result<std::vector<model::CategoryStats>>> category_stats() = 0;
  // Case-insensitive substring search over name + description; every character of `query` is literal.
  // The page and the total go out in one pipeline.
  virtual boost::asio::awaitable<Result<model::SearchPage>> search(std::string_view query, int limit,
                                                                   std::int64_t offset) = 0;
  // Products with at least `min_reviews` reviews, ranked by average rating (window functions).
  virtual boost::asio::awaitable<Result<model::TopProducts>> top_products(int limit, int min_reviews) = 0;
  // Writes. Each is one statement (atomic on its own); updated_at is set by the statement itself.
  // create/update return the row as it is after the commit; an unknown category is invalid_argument;
  // update/remove of a missing id is not_found.
  virtual boost::asio::awaitable<Result<model::Product>> create_product(const model::ProductDraft& draft) = 0;
  virtual boost::asio::awaitable<Result<model::Product>> update_product(std::int64_t id,
                                                                        const model::ProductPatch& patch) = 0;
  virtual boost::asio::awaitable<Result<void>> remove_product(std::int64_t id) = 0;
  // EXPLAIN (ANALYZE, BUFFERS) of the fixed statements behind `endpoint` (see explainable_queries()), run
  // with their sample parameters on a pooled connection. Never arbitrary SQL. invalid_argument for an unknown
  // endpoint.
  struct QueryPlan {
    std::string sql;
    std::vector<std::string> params;
    std::string plan;
  };
  virtual boost::asio::awaitable<Result<std::vector<QueryPlan>>> explain(std::string_view endpoint) = 0;
  // SELECT 1 through the pool: is PostgreSQL answering?
  virtual boost::asio::awaitable<Result<void>> ping() = 0;
};

struct CatalogOptions {
  std::string conninfo;
  int pool_size = 2;      // connections for this I/O thread
  int timeout_ms = 5000;  // per call, including the wait for a free connection
  int delay_ms = 0;       // simulated latency added before each read (holds no connection while it waits)
};

// The statements behind each endpoint, with sample parameters, for EXPLAIN (`cachelab explain`).
struct ExplainableQuery {
  const char* endpoint;  // "product", "products", "categories", "search", "top-products"
  const char* sql;
  std::vector<std::string> sample_params;
};
const std::vector<ExplainableQuery>& explainable_queries();

// Runs EXPLAIN (ANALYZE, BUFFERS) on `endpoint`'s statements with a blocking connection (command-line only).
Result<std::string> explain(const std::string& conninfo, const std::string& endpoint);

// '%' + query with \, % and _ escaped + '%': an ILIKE pattern that matches `query` literally.
std::string literal_ilike_pattern(std::string_view query);

// The minimum number of reviews a product needs to be ranked in top products.
inline constexpr int top_products_min_reviews = 5;

// One per I/O thread; the returned object must only be used from `ex`.
std::shared_ptr<Catalog> make_pg_catalog(boost::asio::any_io_executor ex, CatalogOptions options);

}  // namespace cachelab::db

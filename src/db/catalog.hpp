// db/catalog: the narrow interface the service uses to read and write the catalog on the request path. Eight
// calls, each one round trip (a pipeline when a read needs two statements; a write is followed by a second
// one, for its WAL position, when a read replica is configured); the SQL is in db/statements.cpp.
// Never caches anything. Fails with `unavailable`/`timeout` (Backend::database) when PostgreSQL is down or
// slow; "no such row" is an empty optional on reads and `not_found` on writes.
//
// Read replicas: every read takes a WAL fence, a position in the primary's WAL. With a replica configured, a
// read goes to it only if it has replayed at least that far (and past this process's own last write), checked
// in the same round trip; otherwise, or if the replica fails, the primary answers. So a reader handed the
// fence of the last write (service/ carries it through Redis) never sees a row older than that write.
#pragma once

#include "core/error.hpp"
#include "model/catalog.hpp"
#include "model/product.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace cachelab::db {

// A position in the primary's WAL (pg_lsn as a byte offset); 0: no constraint.
using WalFence = std::uint64_t;

class Catalog {
 public:
  virtual ~Catalog() = default;
  virtual boost::asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id,
                                                                                      WalFence after) = 0;
  // The page and the total count go out together in one pipeline.
  virtual boost::asio::awaitable<Result<model::ProductPage>> products_page(int limit, std::int64_t offset,
                                                                           WalFence after) = 0;
  // One row per category: product and review counts, average rating, COUNT/AVG/MIN/MAX of price.
  virtual boost::asio::awaitable<Result<std::vector<model::CategoryStats>>> category_stats(
      WalFence after) = 0;
  // Case-insensitive substring search over name + description; every character of `query` is literal.
  // The page and the total go out in one pipeline.
  virtual boost::asio::awaitable<Result<model::SearchPage>> search(std::string_view query, int limit,
                                                                   std::int64_t offset, WalFence after) = 0;
  // Products with at least `min_reviews` reviews, ranked by average rating (window functions).
  virtual boost::asio::awaitable<Result<model::TopProducts>> top_products(int limit, int min_reviews,
                                                                          WalFence after) = 0;
  // Writes. Each is one statement (atomic on its own); updated_at is set by the statement itself.
  // create/update return the row as it is after the commit; an unknown category is invalid_argument;
  // update/remove of a missing id is not_found.
  virtual boost::asio::awaitable<Result<model::Product>> create_product(const model::ProductDraft& draft) = 0;
  virtual boost::asio::awaitable<Result<model::Product>> update_product(std::int64_t id,
                                                                        const model::ProductPatch& patch) = 0;
  virtual boost::asio::awaitable<Result<void>> remove_product(std::int64_t id) = 0;
  // The WAL fence of this process's writes: a position at or past the commit of every write that has
  // returned (0 without a read replica: nothing to fence).
  virtual WalFence written() const = 0;
};

}  // namespace cachelab::db

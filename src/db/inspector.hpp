// db/inspector: the narrow interface for looking at PostgreSQL off the request path: is it answering, and how
// does it run the statements behind an endpoint. Never runs SQL that is not in db/statements.cpp.
// Fails with `unavailable`/`timeout` (Backend::database); an unknown endpoint is invalid_argument.
#pragma once

#include "core/error.hpp"
#include "model/inspection.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>
#include <vector>

namespace cachelab::db {

class Inspector {
 public:
  virtual ~Inspector() = default;
  // SELECT 1 through the pool: is PostgreSQL answering?
  virtual boost::asio::awaitable<Result<void>> ping() = 0;
  // EXPLAIN (ANALYZE, BUFFERS) of each statement behind `endpoint`, on a pooled connection, with the
  // sample parameters that db/statements gives it.
  virtual boost::asio::awaitable<Result<std::vector<model::QueryPlan>>> explain(
      std::string_view endpoint) = 0;
};

}  // namespace cachelab::db

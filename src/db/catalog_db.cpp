// The PostgreSQL side of the catalog: every statement the request path runs, prepared once per connection.
#include "db/catalog.hpp"
#include "db/pg_pool.hpp"

#include <charconv>

namespace cachelab::db {
namespace {

// Timestamps leave PostgreSQL already in ISO 8601 UTC, so no layer re-formats them.
#define CACHELAB_PRODUCT_COLUMNS                                                    \
  "p.id, p.name, p.description, p.price::text, c.name, "                            \
  "to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " \
  "to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

const std::vector<Statement>& statements() {
  static const std::vector<Statement> all = {
      {"product_by_id", "SELECT " CACHELAB_PRODUCT_COLUMNS
                        " FROM products p JOIN categories c ON c.id = p.category_id WHERE p.id = $1"},
      {"products_page",
       "SELECT " CACHELAB_PRODUCT_COLUMNS " FROM products p JOIN categories c ON c.id = p.category_id"
       " ORDER BY p.id LIMIT $1 OFFSET $2"},
      {"products_count", "SELECT count(*) FROM products"},
      {"ping", "SELECT 1"},
  };
  return all;
}

model::Product product_from_row(const PgResult& r, int row) {
  model::Product p;
  auto id = r.get(row, 0);
  std::from_chars(id.data(), id.data() + id.size(), p.id);
  p.name = r.get(row, 1);
  p.description = r.get(row, 2);
  p.price = r.get(row, 3);
  p.category = r.get(row, 4);
  p.created_at = r.get(row, 5);
  p.updated_at = r.get(row, 6);
  return p;
}

class PgCatalog final : public Catalog {
 public:
  PgCatalog(asio::any_io_executor ex, CatalogOptions options)
      : timeout_(std::chrono::milliseconds(options.timeout_ms)),
        pool_(PgPool::create(
            ex, PoolOptions{options.conninfo, options.pool_size, options.timeout_ms, statements()})) {}

  asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id) override {
    Query q{"product_by_id", {std::to_string(id)}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    const auto& r = (*results)[0];
    if (r.rows() == 0) co_return std::optional<model::Product>{};
    co_return std::optional<model::Product>{product_from_row(r, 0)};
  }

  asio::awaitable<Result<model::ProductPage>> products_page(int limit, std::int64_t offset) override {
    Query qs[] = {{"products_page", {std::to_string(limit), std::to_string(offset)}}, {"products_count", {}}};
    auto results = co_await run(qs);
    if (!results) co_return results.error();
    model::ProductPage page;
    page.limit = limit;
    page.offset = offset;
    const auto& rows = (*results)[0];
    page.items.reserve(rows.rows());
    for (int i = 0; i < rows.rows(); ++i) page.items.push_back(product_from_row(rows, i));
    auto total = (*results)[1].get(0, 0);
    std::from_chars(total.data(), total.data() + total.size(), page.total);
    co_return page;
  }

  asio::awaitable<Result<void>> ping() override {
    Query q{"ping", {}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    co_return Result<void>{};
  }

 private:
  asio::awaitable<Result<std::vector<PgResult>>> run(std::span<const Query> queries) {
    const auto deadline = Clock::now() + timeout_;
    auto lease = co_await pool_->acquire(deadline);
    if (!lease) co_return lease.error();
    co_return co_await (*lease)->run(queries, deadline);
  }

  std::chrono::milliseconds timeout_;
  std::shared_ptr<PgPool> pool_;
};

}  // namespace

std::shared_ptr<Catalog> make_pg_catalog(asio::any_io_executor ex, CatalogOptions options) {
  return std::make_shared<PgCatalog>(ex, std::move(options));
}

}  // namespace cachelab::db

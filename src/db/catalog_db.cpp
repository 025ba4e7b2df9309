// The PostgreSQL side of the catalog: every statement the request path runs, prepared once per connection.
#include "db/catalog.hpp"
#include "db/pg_pool.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace cachelab::db {
namespace {

// Timestamps leave PostgreSQL already in ISO 8601 UTC, so no layer re-formats them.
#define CACHELAB_PRODUCT_COLUMNS                                                    \
  "p.id, p.name, p.description, p.price::text, c.name, "                            \
  "to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), " \
  "to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

// Reviews are aggregated per product first, so joining them cannot multiply the price aggregates.
constexpr const char* category_stats_sql = R"sql(
WITH per_product AS (
  SELECT product_id, count(*) AS reviews, sum(rating) AS rating_sum
  FROM reviews GROUP BY product_id
)
SELECT c.id, c.name,
       count(p.id) AS product_count,
       coalesce(sum(pp.reviews), 0) AS review_count,
       round(sum(pp.rating_sum)::numeric / nullif(sum(pp.reviews), 0), 2)::text AS avg_rating,
       round(avg(p.price), 2)::text AS price_avg,
       min(p.price)::text AS price_min,
       max(p.price)::text AS price_max
FROM categories c
LEFT JOIN products p ON p.category_id = c.id
LEFT JOIN per_product pp ON pp.product_id = p.id
GROUP BY c.id, c.name
ORDER BY c.name)sql";

// $1 the query (for ranking), $2 its literal ILIKE pattern. Name matches rank first, then trigram similarity.
constexpr const char* search_page_sql = R"sql(
SELECT p.id, p.name, p.description, p.price::text, c.name,
       round(similarity(p.name, $1)::numeric, 3)::text AS score
FROM products p JOIN categories c ON c.id = p.category_id
WHERE (p.name || ' ' || p.description) ILIKE $2
ORDER BY (p.name ILIKE $2) DESC, similarity(p.name, $1) DESC, p.id
LIMIT $3 OFFSET $4)sql";

constexpr const char* search_count_sql = R"sql(
SELECT count(*) FROM products p WHERE (p.name || ' ' || p.description) ILIKE $1)sql";

// rank() over everything and within each category; ties in rating are broken by review count.
constexpr const char* top_products_sql = R"sql(
WITH rated AS (
  SELECT product_id, count(*) AS review_count, avg(rating) AS avg_rating
  FROM reviews GROUP BY product_id HAVING count(*) >= $2
), ranked AS (
  SELECT p.id, p.name, p.price, c.name AS category, r.review_count, r.avg_rating,
         rank() OVER (ORDER BY r.avg_rating DESC, r.review_count DESC) AS rank,
         rank() OVER (PARTITION BY p.category_id ORDER BY r.avg_rating DESC, r.review_count DESC) AS category_rank
  FROM rated r JOIN products p ON p.id = r.product_id JOIN categories c ON c.id = p.category_id
)
SELECT id, name, price::text, category, review_count, round(avg_rating, 2)::text, rank, category_rank
FROM ranked ORDER BY rank, id LIMIT $1)sql";

std::int64_t to_i64(std::string_view s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// NULL (e.g. the average price of a category with no products) becomes JSON null.
std::string number_or_null(const PgResult& r, int row, int col) {
  return r.is_null(row, col) ? std::string("null") : std::string(r.get(row, col));
}

const std::vector<Statement>& statements() {
  static const std::vector<Statement> all = {
      {"product_by_id", "SELECT " CACHELAB_PRODUCT_COLUMNS
                        " FROM products p JOIN categories c ON c.id = p.category_id WHERE p.id = $1"},
      {"products_page",
       "SELECT " CACHELAB_PRODUCT_COLUMNS " FROM products p JOIN categories c ON c.id = p.category_id"
       " ORDER BY p.id LIMIT $1 OFFSET $2"},
      {"products_count", "SELECT count(*) FROM products"},
      {"category_stats", category_stats_sql},
      {"search_page", search_page_sql},
      {"search_count", search_count_sql},
      {"top_products", top_products_sql},
      {"category_id", "SELECT id FROM categories WHERE name = $1"},
      {"product_insert",
       "WITH p AS (INSERT INTO products (name, description, price, category_id)"
       " VALUES ($1::text, $2::text, $3::numeric, $4::int) RETURNING *)"
       " SELECT " CACHELAB_PRODUCT_COLUMNS " FROM p JOIN categories c ON c.id = p.category_id"},
      {"product_update",
       "WITH p AS (UPDATE products SET name = coalesce($2::text, name),"
       " description = coalesce($3::text, description), price = coalesce($4::numeric, price),"
       " category_id = coalesce($5::int, category_id), updated_at = now()"
       " WHERE id = $1::bigint RETURNING *)"
       " SELECT " CACHELAB_PRODUCT_COLUMNS " FROM p JOIN categories c ON c.id = p.category_id"},
      {"product_delete", "DELETE FROM products WHERE id = $1::bigint RETURNING id"},
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
      : ex_(ex),
        timeout_(std::chrono::milliseconds(options.timeout_ms)),
        delay_(std::chrono::milliseconds(options.delay_ms)),
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

  asio::awaitable<Result<std::vector<model::CategoryStats>>> category_stats() override {
    Query q{"category_stats", {}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    const auto& r = (*results)[0];
    std::vector<model::CategoryStats> out;
    out.reserve(r.rows());
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back(model::CategoryStats{to_i64(r.get(i, 0)), std::string(r.get(i, 1)), to_i64(r.get(i, 2)),
                                         to_i64(r.get(i, 3)), number_or_null(r, i, 4),
                                         number_or_null(r, i, 5), number_or_null(r, i, 6),
                                         number_or_null(r, i, 7)});
    }
    co_return out;
  }

  asio::awaitable<Result<model::SearchPage>> search(std::string_view query, int limit,
                                                    std::int64_t offset) override {
    auto pattern = literal_ilike_pattern(query);
    Query qs[] = {
        {"search_page", {std::string(query), pattern, std::to_string(limit), std::to_string(offset)}},
        {"search_count", {pattern}}};
    auto results = co_await run(qs);
    if (!results) co_return results.error();
    model::SearchPage page;
    page.query = std::string(query);
    page.limit = limit;
    page.offset = offset;
    const auto& r = (*results)[0];
    for (int i = 0; i < r.rows(); ++i) {
      page.items.push_back(model::SearchHit{to_i64(r.get(i, 0)), std::string(r.get(i, 1)),
                                            std::string(r.get(i, 2)), std::string(r.get(i, 3)),
                                            std::string(r.get(i, 4)), std::string(r.get(i, 5))});
    }
    page.total = to_i64((*results)[1].get(0, 0));
    co_return page;
  }

  asio::awaitable<Result<model::TopProducts>> top_products(int limit, int min_reviews) override {
    Query q{"top_products", {std::to_string(limit), std::to_string(min_reviews)}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    const auto& r = (*results)[0];
    model::TopProducts top;
    top.limit = limit;
    top.min_reviews = min_reviews;
    for (int i = 0; i < r.rows(); ++i) {
      top.items.push_back(model::TopProduct{
          to_i64(r.get(i, 0)), std::string(r.get(i, 1)), std::string(r.get(i, 2)), std::string(r.get(i, 3)),
          to_i64(r.get(i, 4)), std::string(r.get(i, 5)), to_i64(r.get(i, 6)), to_i64(r.get(i, 7))});
    }
    co_return top;
  }

  asio::awaitable<Result<model::Product>> create_product(const model::ProductDraft& d) override {
    auto category = co_await category_id(d.category);
    if (!category) co_return category.error();
    Query q{"product_insert", {d.name, d.description, d.price, *category}};
    auto results = co_await run({&q, 1}, false);
    if (!results) co_return results.error();
    co_return product_from_row((*results)[0], 0);
  }

  asio::awaitable<Result<model::Product>> update_product(std::int64_t id,
                                                         const model::ProductPatch& patch) override {
    std::optional<std::string> category;
    if (patch.category) {
      auto found = co_await category_id(*patch.category);
      if (!found) co_return found.error();
      category = *found;
    }
    Query q{"product_update", {std::to_string(id), patch.name, patch.description, patch.price, category}};
    auto results = co_await run({&q, 1}, false);
    if (!results) co_return results.error();
    if ((*results)[0].rows() == 0) {
      co_return make_error(ErrorKind::not_found, "product " + std::to_string(id) + " does not exist");
    }
    co_return product_from_row((*results)[0], 0);
  }

  asio::awaitable<Result<void>> remove_product(std::int64_t id) override {
    Query q{"product_delete", {std::to_string(id)}};
    auto results = co_await run({&q, 1}, false);
    if (!results) co_return results.error();
    if ((*results)[0].rows() == 0) {
      co_return make_error(ErrorKind::not_found, "product " + std::to_string(id) + " does not exist");
    }
    co_return Result<void>{};
  }

  asio::awaitable<Result<std::vector<QueryPlan>>> explain(std::string_view endpoint) override {
    std::vector<QueryPlan> plans;
    for (const auto& q : explainable_queries()) {
      if (endpoint != q.endpoint) continue;
      const std::string sql = std::string("EXPLAIN (ANALYZE, BUFFERS) ") + q.sql;
      Query query{nullptr, {q.sample_params.begin(), q.sample_params.end()}, sql.c_str()};
      auto results = co_await run({&query, 1}, false);
      if (!results) co_return results.error();
      QueryPlan plan{q.sql, q.sample_params, {}};
      const auto& r = (*results)[0];
      for (int i = 0; i < r.rows(); ++i) {
        plan.plan += r.get(i, 0);
        plan.plan += '\n';
      }
      plans.push_back(std::move(plan));
    }
    if (plans.empty()) co_return make_error(ErrorKind::invalid_argument, "unknown endpoint");
    co_return plans;
  }

  asio::awaitable<Result<void>> ping() override {
    Query q{"ping", {}};
    auto results = co_await run({&q, 1});
    if (!results) co_return results.error();
    co_return Result<void>{};
  }

 private:
  // A category's id by name; invalid_argument when there is no such category.
  asio::awaitable<Result<std::string>> category_id(const std::string& name) {
    Query q{"category_id", {name}};
    auto results = co_await run({&q, 1}, false);
    if (!results) co_return results.error();
    if ((*results)[0].rows() == 0) {
      co_return make_error(ErrorKind::invalid_argument, "unknown category '" + name + "'");
    }
    co_return std::string((*results)[0].get(0, 0));
  }

  // `simulate` applies --db-delay-ms: reads only; writes are never slowed artificially.
  asio::awaitable<Result<std::vector<PgResult>>> run(std::span<const Query> queries, bool simulate = true) {
    if (simulate && delay_.count() > 0) {
      // Simulated remote/loaded database: wait on a timer before taking a connection, so the wait
      // holds neither an I/O thread nor a pooled connection.
      asio::steady_timer delay(ex_, delay_);
      co_await delay.async_wait(asio::use_awaitable);
    }
    const auto deadline = Clock::now() + timeout_;
    auto lease = co_await pool_->acquire(deadline);
    if (!lease) co_return lease.error();
    co_return co_await (*lease)->run(queries, deadline);
  }

  asio::any_io_executor ex_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds delay_;
  std::shared_ptr<PgPool> pool_;
};

}  // namespace

std::string literal_ilike_pattern(std::string_view query) {
  std::string out = "%";
  for (char c : query) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('%');
  return out;
}

const std::vector<ExplainableQuery>& explainable_queries() {
  static const std::vector<ExplainableQuery> all = {
      {"product",
       "SELECT " CACHELAB_PRODUCT_COLUMNS
       " FROM products p JOIN categories c ON c.id = p.category_id WHERE p.id = $1",
       {"1"}},
      {"products",
       "SELECT " CACHELAB_PRODUCT_COLUMNS
       " FROM products p JOIN categories c ON c.id = p.category_id ORDER BY p.id LIMIT $1 OFFSET $2",
       {"10", "0"}},
      {"categories", category_stats_sql, {}},
      {"search", search_page_sql, {"coffee", literal_ilike_pattern("coffee"), "10", "0"}},
      {"search", search_count_sql, {literal_ilike_pattern("coffee")}},
      {"top-products", top_products_sql, {"10", std::to_string(top_products_min_reviews)}},
  };
  return all;
}

std::shared_ptr<Catalog> make_pg_catalog(asio::any_io_executor ex, CatalogOptions options) {
  return std::make_shared<PgCatalog>(ex, std::move(options));
}

}  // namespace cachelab::db

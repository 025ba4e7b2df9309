#include "db/statements.hpp"

#include <algorithm>

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

const std::vector<Statement>& statements() {
  static const std::vector<Statement> all = {
      {"product_by_id",
       "SELECT " CACHELAB_PRODUCT_COLUMNS
       " FROM products p JOIN categories c ON c.id = p.category_id WHERE p.id = $1",
       "product",
       {"1"}},
      {"products_page",
       "SELECT " CACHELAB_PRODUCT_COLUMNS " FROM products p JOIN categories c ON c.id = p.category_id"
       " ORDER BY p.id LIMIT $1 OFFSET $2",
       "products",
       {"10", "0"}},
      {"products_count", "SELECT count(*) FROM products", "products", {}},
      {"category_stats", category_stats_sql, "categories", {}},
      {"search_page", search_page_sql, "search", {"coffee", literal_ilike_pattern("coffee"), "10", "0"}},
      {"search_count", search_count_sql, "search", {literal_ilike_pattern("coffee")}},
      {"top_products", top_products_sql, "top-products", {"10", std::to_string(top_products_min_reviews)}},
      {"category_id", "SELECT id FROM categories WHERE name = $1", nullptr, {}},
      {"product_insert",
       "WITH p AS (INSERT INTO products (name, description, price, category_id)"
       " VALUES ($1::text, $2::text, $3::numeric, $4::int) RETURNING *)"
       " SELECT " CACHELAB_PRODUCT_COLUMNS " FROM p JOIN categories c ON c.id = p.category_id",
       nullptr,
       {}},
      {"product_update",
       "WITH p AS (UPDATE products SET name = coalesce($2::text, name),"
       " description = coalesce($3::text, description), price = coalesce($4::numeric, price),"
       " category_id = coalesce($5::int, category_id), updated_at = now()"
       " WHERE id = $1::bigint RETURNING *)"
       " SELECT " CACHELAB_PRODUCT_COLUMNS " FROM p JOIN categories c ON c.id = p.category_id",
       nullptr,
       {}},
      {"product_delete", "DELETE FROM products WHERE id = $1::bigint RETURNING id", nullptr, {}},
      {"ping", "SELECT 1", nullptr, {}},
      // Read replicas (db/catalog's WAL fence): on the primary after a write, a position at or past its
      // commit (the insert position: past every record written so far, the commit's included); on the
      // replica, how far it has replayed (NULL on a server that is not in recovery: it is the primary, and
      // never behind).
      {"wal_position", "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint", nullptr, {}},
      {"replayed_position",
       "SELECT coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, 9223372036854775807)",
       nullptr,
       {}},
  };
  return all;
}

std::vector<const Statement*> statements_for(std::string_view endpoint) {
  std::vector<const Statement*> out;
  for (const auto& s : statements()) {
    if (s.endpoint != nullptr && endpoint == s.endpoint) out.push_back(&s);
  }
  return out;
}

std::vector<std::string_view> explainable_endpoints() {
  std::vector<std::string_view> out;
  for (const auto& s : statements()) {
    if (s.endpoint != nullptr && std::find(out.begin(), out.end(), s.endpoint) == out.end()) {
      out.push_back(s.endpoint);
    }
  }
  return out;
}

}  // namespace cachelab::db

#include "db/rows.hpp"

#include <charconv>

namespace cachelab::db {
namespace {

std::int64_t to_i64(std::string_view s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// NULL (e.g. the average price of a category with no products) becomes JSON null.
std::string number_or_null(const PgResult& r, int row, int col) {
  return r.is_null(row, col) ? std::string("null") : std::string(r.get(row, col));
}

}  // namespace

model::Product product_from_row(const PgResult& r, int row) {
  return model::Product{to_i64(r.get(row, 0)),      std::string(r.get(row, 1)), std::string(r.get(row, 2)),
                        std::string(r.get(row, 3)), std::string(r.get(row, 4)), std::string(r.get(row, 5)),
                        std::string(r.get(row, 6))};
}

model::CategoryStats category_from_row(const PgResult& r, int i) {
  return model::CategoryStats{to_i64(r.get(i, 0)),     std::string(r.get(i, 1)), to_i64(r.get(i, 2)),
                              to_i64(r.get(i, 3)),     number_or_null(r, i, 4),  number_or_null(r, i, 5),
                              number_or_null(r, i, 6), number_or_null(r, i, 7)};
}

model::SearchHit search_hit_from_row(const PgResult& r, int i) {
  return model::SearchHit{to_i64(r.get(i, 0)),      std::string(r.get(i, 1)), std::string(r.get(i, 2)),
                          std::string(r.get(i, 3)), std::string(r.get(i, 4)), std::string(r.get(i, 5))};
}

model::TopProduct top_product_from_row(const PgResult& r, int i) {
  return model::TopProduct{to_i64(r.get(i, 0)),      std::string(r.get(i, 1)), std::string(r.get(i, 2)),
                           std::string(r.get(i, 3)), to_i64(r.get(i, 4)),      std::string(r.get(i, 5)),
                           to_i64(r.get(i, 6)),      to_i64(r.get(i, 7))};
}

std::int64_t count_of(const PgResult& r) {
  return r.rows() > 0 ? to_i64(r.get(0, 0)) : 0;
}

}  // namespace cachelab::db

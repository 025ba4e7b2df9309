#include "db/rows.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <optional>
#include <string>
#include <vector>

namespace cachelab::db {
namespace {

// A query result built in memory, as PostgreSQL would send it in text format; nullopt is SQL NULL.
PgResult result(const std::vector<std::vector<std::optional<std::string>>>& rows) {
  PGresult* r = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  const int columns = rows.empty() ? 0 : static_cast<int>(rows[0].size());
  std::vector<PGresAttDesc> attrs(columns);
  std::vector<std::string> names(columns);
  for (int c = 0; c < columns; ++c) {
    names[c] = "c" + std::to_string(c);
    attrs[c] = PGresAttDesc{names[c].data(), 0, 0, 0, 25 /* text */, -1, 0};
  }
  PQsetResultAttrs(r, columns, attrs.data());
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    for (int c = 0; c < columns; ++c) {
      const auto& v = rows[i][c];
      PQsetvalue(r, i, c, v ? const_cast<char*>(v->data()) : nullptr, v ? static_cast<int>(v->size()) : -1);
    }
  }
  return PgResult(r);
}

TEST(Rows, AProductRowKeepsPriceAndTimestampsAsPostgresWroteThem) {
  auto r = result({{"7", "Kettle", "Boils \"water\"", "19.90", "Home", "2024-01-02T03:04:05.000006Z",
                    "2024-02-03T04:05:06.000007Z"}});
  auto p = product_from_row(r, 0);
  EXPECT_EQ(p.id, 7);
  EXPECT_EQ(p.name, "Kettle");
  EXPECT_EQ(p.description, "Boils \"water\"");
  EXPECT_EQ(p.price, "19.90");  // numeric text, never through a double
  EXPECT_EQ(p.category, "Home");
  EXPECT_EQ(p.updated_at, "2024-02-03T04:05:06.000007Z");
}

TEST(Rows, ACategoryWithoutProductsHasNullAggregates) {
  auto r = result({{"3", "Garden", "0", "0", std::nullopt, std::nullopt, std::nullopt, std::nullopt},
                   {"1", "Books", "12", "40", "4.25", "19.99", "5.00", "42.50"}});
  auto empty = category_from_row(r, 0);
  EXPECT_EQ(empty.product_count, 0);
  EXPECT_EQ(empty.avg_rating, "null");  // written into the JSON as null
  EXPECT_EQ(empty.price_max, "null");
  auto books = category_from_row(r, 1);
  EXPECT_EQ(books.review_count, 40);
  EXPECT_EQ(books.price_avg, "19.99");
}

TEST(Rows, SearchHitsTopProductsAndCounts) {
  auto hit = search_hit_from_row(result({{"5", "Coffee Mug", "Ceramic", "9.50", "Home", "0.412"}}), 0);
  EXPECT_EQ(hit.id, 5);
  EXPECT_EQ(hit.score, "0.412");
  auto top = top_product_from_row(result({{"9", "Tent", "199.00", "Outdoors", "17", "4.88", "1", "1"}}), 0);
  EXPECT_EQ(top.review_count, 17);
  EXPECT_EQ(top.avg_rating, "4.88");
  EXPECT_EQ(top.category_rank, 1);
  EXPECT_EQ(count_of(result({{"50000"}})), 50000);
  EXPECT_EQ(count_of(result({})), 0);
}

}  // namespace
}  // namespace cachelab::db

// db/rows: turns the rows PostgreSQL returns (text format) into model structs. Pure functions over a
// PgResult, so they are unit-tested with results built in memory, without a server. The column order is the
// one the statements in db/statements.cpp select.
#pragma once

#include "db/pg_connection.hpp"
#include "model/catalog.hpp"
#include "model/product.hpp"

namespace cachelab::db {

model::Product product_from_row(const PgResult& r, int row);
model::CategoryStats category_from_row(const PgResult& r, int row);
model::SearchHit search_hit_from_row(const PgResult& r, int row);
model::TopProduct top_product_from_row(const PgResult& r, int row);
// A count(*) result's single value.
std::int64_t count_of(const PgResult& r);

}  // namespace cachelab::db

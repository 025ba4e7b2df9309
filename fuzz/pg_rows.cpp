// Fuzz target: the rows PostgreSQL returns for the catalog's queries (text format, built in memory with libpq
// as a server would send them), through db/rows into the model's JSON, which is what clients and the cache
// get. Values are any UTF-8 text PostgreSQL could hold (no NUL) or NULL, in any column, including numeric
// text that is not a JSON number ('NaN', 'Infinity', which numeric and float columns can hold). Properties:
// no sanitizer report; every rendering is valid JSON.
#include "check.hpp"
#include "db/rows.hpp"

#include <libpq-fe.h>
#include <boost/json/parse.hpp>
#include <boost/json/src.hpp>  // the checker, compiled in

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

namespace {

using cachelab::fuzz::check;
using namespace cachelab;

constexpr int columns = 8;  // the widest of the catalog's row shapes

// The input as rows of 8 values: '\0' ends a value, a value that is exactly "\x01" is NULL.
db::PgResult result_from(std::string_view in) {
  PGresult* r = PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK);
  std::vector<PGresAttDesc> attrs(columns);
  char name[] = "c";
  for (auto& a : attrs) a = PGresAttDesc{name, 0, 0, 0, 25 /* text */, -1, 0};
  PQsetResultAttrs(r, columns, attrs.data());
  int cell = 0;
  while (!in.empty() && cell < 16 * columns) {
    auto end = std::min(in.find('\0'), in.size());
    std::string v(in.substr(0, end));
    in.remove_prefix(std::min(end + 1, in.size()));
    const bool null = v == "\x01";
    PQsetvalue(r, cell / columns, cell % columns, null ? nullptr : v.data(),
               null ? -1 : static_cast<int>(v.size()));
    ++cell;
  }
  // Complete the last row with empty text, as every row has every column.
  for (; cell % columns != 0; ++cell) PQsetvalue(r, cell / columns, cell % columns, const_cast<char*>(""), 0);
  return db::PgResult(r);
}

void check_json(const std::string& text) {
  boost::json::parse_options opt;
  opt.allow_invalid_utf8 = true;  // the input is not always UTF-8; that is PostgreSQL's promise, not ours
  boost::system::error_code ec;
  boost::json::parse(text, ec, {}, opt);
  if (ec) std::fprintf(stderr, "%s\n", text.c_str());
  check(!ec, "a rendering is not valid JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = result_from(std::string_view(reinterpret_cast<const char*>(data), size));
  model::ProductPage products;
  std::vector<model::CategoryStats> categories;
  model::SearchPage search;
  model::TopProducts top;
  for (int i = 0; i < r.rows(); ++i) {
    products.items.push_back(db::product_from_row(r, i));
    categories.push_back(db::category_from_row(r, i));
    search.items.push_back(db::search_hit_from_row(r, i));
    top.items.push_back(db::top_product_from_row(r, i));
  }
  products.total = db::count_of(r);
  for (const auto& p : products.items) check_json(model::to_json(p));
  check_json(model::to_json(products));
  check_json(model::to_json(categories));
  check_json(model::to_json(search));
  check_json(model::to_json(top));
  return 0;
}

// model/product: the Product as the API shows it, one definition for rows, cache values and responses.
// Owns the field list and its JSON form. Never talks to a database or a cache.
// price is kept as PostgreSQL's numeric text ("19.99") so no value is ever rounded through a double.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cachelab::model {

struct Product {
  std::int64_t id = 0;
  std::string name;
  std::string description;
  std::string price;       // numeric(10,2) as text; rendered as null if it is no JSON number (NaN)
  std::string category;    // the category's name
  std::string created_at;  // ISO 8601, UTC
  std::string updated_at;  // ISO 8601, UTC
};

// A new product as a client sends it (validated by api/). price is numeric text, e.g. "19.90".
struct ProductDraft {
  std::string name;
  std::string description;
  std::string price;
  std::string category;  // a category's name
};

// A partial update: only the fields present change.
struct ProductPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> price;
  std::optional<std::string> category;
};

struct ProductPage {
  std::vector<Product> items;
  std::int64_t total = 0;
  int limit = 0;
  std::int64_t offset = 0;
};

// {"id":..,"name":..,...} — the cached value and the body's data part.
std::string to_json(const Product& p);
// {"items":[...],"total":..,"limit":..,"offset":..}
std::string to_json(const ProductPage& page);

}  // namespace cachelab::model

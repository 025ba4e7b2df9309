// api/product_body: validation of the JSON bodies of product writes (POST, PUT, PATCH /products).
// Owns the rules clients see: which fields exist, their types, lengths and ranges. Pure; never does I/O.
// Fails with an invalid_argument Error naming the field ("invalid_price"); the handler answers 400 and
// nothing reaches PostgreSQL.
#pragma once

#include "core/error.hpp"
#include "model/product.hpp"

#include <string_view>

namespace cachelab::api {

inline constexpr std::size_t max_name_chars = 200;
inline constexpr std::size_t max_description_chars = 5000;
inline constexpr std::size_t max_category_chars = 100;
inline constexpr double max_price = 99'999'999.99;  // numeric(10,2)

enum class BodyKind {
  full,     // POST and PUT: name, price and category required; description defaults to ""
  partial,  // PATCH: any non-empty subset
};

// Parses and validates; the price comes back as numeric text with two decimals ("19.90").
Result<model::ProductPatch> parse_product_body(std::string_view body, BodyKind kind);

}  // namespace cachelab::api

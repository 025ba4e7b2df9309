#include "api/product_body.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <cmath>

namespace cachelab::api {
namespace {

Error bad(std::string code, std::string message) {
  return invalid(std::move(code), std::move(message));
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// A text field: a JSON string of at most `max` characters, without NUL (PostgreSQL text cannot hold it) and,
// unless `multiline`, without any control character.
Result<std::string> text_field(const boost::json::value& v, std::string_view field, std::size_t min,
                               std::size_t max, bool multiline) {
  if (!v.is_string()) return bad("invalid_" + std::string(field), fmt::format("{} must be a string", field));
  std::string s(v.as_string());
  for (unsigned char c : s) {
    if (c == 0 || (c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t'))) || c == 0x7f) {
      return bad("invalid_" + std::string(field),
                 fmt::format("{} must not contain control characters", field));
    }
  }
  const bool blank = s.find_first_not_of(" \t\r\n") == std::string::npos;
  const auto n = code_points(s);
  if ((min > 0 && blank) || n < min || n > max) {
    return bad("invalid_" + std::string(field),
               fmt::format("{} must be {} to {} characters", field, min, max));
  }
  return s;
}

Result<std::string> price_field(const boost::json::value& v) {
  if (!v.is_number()) return bad("invalid_price", "price must be a number");
  double x = v.to_number<double>();
  if (x == 0) x = 0;  // -0 is 0 ("-0.00" would reach PostgreSQL and the client otherwise)
  if (!std::isfinite(x) || x < 0 || x > max_price) {
    return bad("invalid_price", fmt::format("price must be from 0 to {:.2f}", max_price));
  }
  const double cents = x * 100.0;
  if (std::abs(cents - std::round(cents)) > 1e-6 * std::max(1.0, cents)) {
    return bad("invalid_price", "price must have at most two decimals");
  }
  return fmt::format("{:.2f}", std::round(cents) / 100.0);
}

}  // namespace

Result<model::ProductPatch> parse_product_body(std::string_view body, BodyKind kind) {
  if (body.empty()) return bad("invalid_body", "a JSON object is required");
  boost::system::error_code ec;
  boost::json::parse_options opt;
  opt.max_depth = 8;
  auto doc = boost::json::parse(body, ec, {}, opt);
  if (ec) return bad("invalid_json", "the body is not valid JSON: " + ec.message());
  if (!doc.is_object()) return bad("invalid_body", "the body must be a JSON object");

  model::ProductPatch patch;
  for (const auto& [key, value] : doc.as_object()) {
    if (key == "name") {
      auto r = text_field(value, "name", 1, max_name_chars, false);
      if (!r) return r.error();
      patch.name = std::move(*r);
    } else if (key == "description") {
      auto r = text_field(value, "description", 0, max_description_chars, true);
      if (!r) return r.error();
      patch.description = std::move(*r);
    } else if (key == "price") {
      auto r = price_field(value);
      if (!r) return r.error();
      patch.price = std::move(*r);
    } else if (key == "category") {
      auto r = text_field(value, "category", 1, max_category_chars, false);
      if (!r) return r.error();
      patch.category = std::move(*r);
    } else {
      return bad("unknown_field",
                 fmt::format("unknown field '{}': allowed are name, description, price, category",
                             std::string_view(key)));
    }
  }
  if (kind == BodyKind::full) {
    for (auto [present, field] :
         {std::pair{patch.name.has_value(), "name"}, std::pair{patch.price.has_value(), "price"},
          std::pair{patch.category.has_value(), "category"}}) {
      if (!present) return bad("missing_field", fmt::format("{} is required", field));
    }
    if (!patch.description) patch.description = std::string();
  } else if (!patch.name && !patch.description && !patch.price && !patch.category) {
    return bad("invalid_body", "give at least one of name, description, price, category");
  }
  return patch;
}

}  // namespace cachelab::api

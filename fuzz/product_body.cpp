// Fuzz target: a product write body (POST/PUT take the full form, PATCH a subset) through api/product_body.
// Properties: no sanitizer report; an accepted body obeys every documented limit (lengths in characters,
// price as "digits.dd" within numeric(10,2)); and the accepted patch, written back as JSON, is accepted
// again as the same patch (what reaches PostgreSQL is exactly what the client meant).
#include "api/product_body.hpp"
#include "check.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/src.hpp>  // compiled in, so that libFuzzer sees its branches
#include <boost/json/value.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using cachelab::fuzz::check;
using cachelab::fuzz::code_points;
using namespace cachelab::api;

void check_price(const std::string& p) {
  const auto dot = p.find('.');
  check(dot != std::string::npos && dot >= 1 && p.size() == dot + 3, "price is not digits.dd");
  for (std::size_t i = 0; i < p.size(); ++i) check(i == dot || (p[i] >= '0' && p[i] <= '9'), "price digit");
  check(std::stod(p) <= max_price, "price above numeric(10,2)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto kind = (data[0] & 1) ? BodyKind::partial : BodyKind::full;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  auto patch = parse_product_body(body, kind);
  if (!patch) {
    check(!patch.error().message.empty(), "an error without a message");
    return 0;
  }
  const auto& p = *patch;
  if (kind == BodyKind::full)
    check(p.name && p.price && p.category && p.description, "a full body lacks a field");
  check(p.name || p.price || p.category || p.description, "an empty patch was accepted");
  if (p.name) check(!p.name->empty() && code_points(*p.name) <= max_name_chars, "name length");
  if (p.description) check(code_points(*p.description) <= max_description_chars, "description length");
  if (p.category)
    check(!p.category->empty() && code_points(*p.category) <= max_category_chars, "category length");
  if (p.price) check_price(*p.price);

  boost::json::object again;
  if (p.name) again["name"] = *p.name;
  if (p.description) again["description"] = *p.description;
  if (p.category) again["category"] = *p.category;
  if (p.price) again["price"] = std::stod(*p.price);
  auto round = parse_product_body(boost::json::serialize(again), kind);
  check(round.has_value(), "the accepted patch, written back, is refused");
  check(round->name == p.name && round->description == p.description && round->category == p.category &&
            round->price == p.price,
        "the accepted patch, written back, reads differently");
  return 0;
}

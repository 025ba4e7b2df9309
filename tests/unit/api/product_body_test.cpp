#include "api/product_body.hpp"

#include <gtest/gtest.h>

namespace cachelab::api {
namespace {

TEST(ProductBody, AcceptsAFullBodyAndNormalisesThePrice) {
  auto r = parse_product_body(R"({"name":"Mug","price":12.5,"category":"Home & Kitchen"})", BodyKind::full);
  ASSERT_TRUE(r) << r.error().message;
  const auto& p = *r;
  EXPECT_EQ(*p.price, "12.50");
  EXPECT_EQ(*p.description, "");  // PUT/POST default
  EXPECT_EQ(*p.category, "Home & Kitchen");
}

// Found by fuzz/product_body: -0 was accepted as the price "-0.00".
TEST(ProductBody, NegativeZeroIsThePriceZero) {
  for (const char* body : {R"({"price":-0})", R"({"price":-0.0})", R"({"price":-0e5})"}) {
    auto r = parse_product_body(body, BodyKind::partial);
    ASSERT_TRUE(r) << body;
    EXPECT_EQ(*r->price, "0.00") << body;
  }
}

TEST(ProductBody, RejectsWhatTheApiPromisesToReject) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "invalid_body"},
      {"nope", "invalid_json"},
      {"[[[[[[[[[[[[]]]]]]]]]]]]", "invalid_json"},  // deeper than the limit
      {R"({"price": 0.001})", "invalid_price"},
      {R"({"price": 100000000})", "invalid_price"},
      {R"({"price": true})", "invalid_price"},
      {R"({"name": "   "})", "invalid_name"},
      {R"({"name": "a\nb"})", "invalid_name"},
      {R"({"description": "a\u0000"})", "invalid_description"},
      {R"({"extra": 1})", "unknown_field"},
  };
  for (const auto& [body, code] : cases) {
    auto r = parse_product_body(body, BodyKind::partial);
    ASSERT_FALSE(r) << body;
    EXPECT_EQ(r.error().code, code) << body;
  }
  EXPECT_TRUE(parse_product_body(R"({"description": "two\nlines"})", BodyKind::partial));
  auto missing = parse_product_body(R"({"name": "x", "price": 1})", BodyKind::full);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, "missing_field");
}

}  // namespace
}  // namespace cachelab::api

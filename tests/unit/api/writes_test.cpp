#include "api/writes.hpp"

#include "api/product_body.hpp"

#include <gtest/gtest.h>
#include <boost/url/parse.hpp>

namespace cachelab::api {
namespace {

http::status status_for(const Caller& caller, const ApiOptions& options, std::string auth = "") {
  Request req{http::verb::patch, "/products/1", 11};
  if (!auth.empty()) req.set(http::field::authorization, auth);
  RequestContext ctx{req, caller, *boost::urls::parse_origin_form("/products/1"), {}};
  auto denied = deny_unless_admin(ctx, options);
  return denied ? denied->result() : http::status::ok;
}

TEST(Admin, WithoutATokenOnlyLoopbackMayWrite) {
  EXPECT_EQ(status_for({"127.0.0.1", true}, {}), http::status::ok);
  EXPECT_EQ(status_for({"10.1.2.3", false}, {}), http::status::forbidden);
}

TEST(Admin, WithATokenEveryoneNeedsIt) {
  const ApiOptions opts{"s3cret"};
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts), http::status::unauthorized);
  EXPECT_EQ(status_for({"10.1.2.3", false}, opts, "Bearer s3cret"), http::status::ok);
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts, "Bearer s3cre"), http::status::unauthorized);
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts, "Bearer s3cretx"), http::status::unauthorized);
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts, "s3cret"), http::status::unauthorized);
}

TEST(Admin, ConstantTimeEqualComparesEveryByte) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(ProductBody, AcceptsAFullBodyAndNormalisesThePrice) {
  auto r = parse_product_body(R"({"name":"Mug","price":12.5,"category":"Home & Kitchen"})", BodyKind::full);
  ASSERT_EQ(error_of(r), nullptr);
  const auto& p = std::get<model::ProductPatch>(r);
  EXPECT_EQ(*p.price, "12.50");
  EXPECT_EQ(*p.description, "");  // PUT/POST default
  EXPECT_EQ(*p.category, "Home & Kitchen");
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
    ASSERT_NE(error_of(r), nullptr) << body;
    EXPECT_EQ(error_of(r)->code, code) << body;
  }
  EXPECT_EQ(error_of(parse_product_body(R"({"description": "two\nlines"})", BodyKind::partial)), nullptr);
  auto missing = parse_product_body(R"({"name": "x", "price": 1})", BodyKind::full);
  ASSERT_NE(error_of(missing), nullptr);
  EXPECT_EQ(error_of(missing)->code, "missing_field");
}

}  // namespace
}  // namespace cachelab::api

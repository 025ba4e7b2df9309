#include "model/product.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace cachelab::model {
namespace {

TEST(Product, JsonHasTheApiFieldsWithPriceAsANumber) {
  Product p{5,
            "Tea \"Earl\" Grey",
            "Line1\nLine2",
            "1234.50",
            "Grocery",
            "2024-01-01T00:00:00.000000Z",
            "2024-01-02T00:00:00.000000Z"};
  auto j = boost::json::parse(to_json(p)).as_object();
  EXPECT_EQ(j.at("id"), 5);
  EXPECT_EQ(j.at("name"), "Tea \"Earl\" Grey");
  EXPECT_EQ(j.at("description"), "Line1\nLine2");
  EXPECT_DOUBLE_EQ(j.at("price").as_double(), 1234.5);
  EXPECT_EQ(j.at("category"), "Grocery");
  EXPECT_EQ(j.at("created_at"), "2024-01-01T00:00:00.000000Z");
  EXPECT_EQ(j.size(), 7u);
  EXPECT_NE(to_json(p).find("\"price\":1234.50"), std::string::npos);  // digits as PostgreSQL gave them
}

TEST(ProductPage, JsonHasItemsAndPaging) {
  ProductPage page{{Product{1, "a", "", "1.00", "c", "t", "t"}}, 500, 10, 20};
  auto j = boost::json::parse(to_json(page)).as_object();
  EXPECT_EQ(j.at("items").as_array().size(), 1u);
  EXPECT_EQ(j.at("total"), 500);
  EXPECT_EQ(j.at("limit"), 10);
  EXPECT_EQ(j.at("offset"), 20);
}

}  // namespace
}  // namespace cachelab::model

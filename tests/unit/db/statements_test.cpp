#include "db/statements.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace cachelab::db {
namespace {

TEST(Statements, NamesAreUniqueAndEveryReadEndpointHasItsStatements) {
  std::set<std::string> names;
  for (const auto& s : statements()) EXPECT_TRUE(names.insert(s.name).second) << s.name;
  const std::vector<std::string_view> expected = {"product", "products", "categories", "search",
                                                  "top-products"};
  EXPECT_EQ(explainable_endpoints(), expected);
  EXPECT_EQ(statements_for("search").size(), 2u);  // the page and the count, sent in one pipeline
  EXPECT_STREQ(statements_for("product")[0]->name, "product_by_id");
  EXPECT_TRUE(statements_for("nope").empty());
}

// EXPLAIN runs each statement with its sample parameters: they must fill exactly the $n the SQL uses.
TEST(Statements, SampleParametersMatchThePlaceholders) {
  for (const auto& s : statements()) {
    if (s.endpoint == nullptr) continue;
    const std::string sql = s.sql;
    int highest = 0;
    const std::regex placeholder(R"(\$(\d+))");
    for (auto it = std::sregex_iterator(sql.begin(), sql.end(), placeholder); it != std::sregex_iterator();
         ++it) {
      highest = std::max(highest, std::stoi((*it)[1]));
    }
    EXPECT_EQ(static_cast<int>(s.sample_params.size()), highest) << s.name;
  }
}

TEST(Statements, SearchPatternsMatchTheQueryLiterally) {
  EXPECT_EQ(literal_ilike_pattern("coffee"), "%coffee%");
  EXPECT_EQ(literal_ilike_pattern("100%"), "%100\\%%");
  EXPECT_EQ(literal_ilike_pattern("a_b"), "%a\\_b%");
  EXPECT_EQ(literal_ilike_pattern("C:\\x"), "%C:\\\\x%");
}

}  // namespace
}  // namespace cachelab::db

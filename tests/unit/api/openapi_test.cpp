#include "api/openapi.hpp"
#include "api/api.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace cachelab::api {
namespace {

namespace json = boost::json;

// A route added to the table without its documentation (or documentation left for a route that is gone)
// fails here, so the document cannot drift from what the server serves.
TEST(OpenApi, EveryServedRouteIsDocumentedAndNothingElse) {
  EXPECT_EQ(openapi_problems(), std::vector<std::string>{});
}

TEST(OpenApi, EachOperationHasItsTableSummaryADescriptionAndAnswers) {
  const auto doc = json::parse(openapi_document()).as_object();
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  const auto& paths = doc.at("paths").as_object();
  for (const auto& e : endpoints()) {
    std::string method(http::to_string(e.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto* item = paths.if_contains(e.path);
    ASSERT_TRUE(item) << e.path;
    const auto* op = item->as_object().if_contains(method);
    ASSERT_TRUE(op) << method << " " << e.path;
    const auto& o = op->as_object();
    EXPECT_EQ(std::string_view(o.at("summary").as_string()), e.summary);
    EXPECT_FALSE(o.at("description").as_string().empty()) << e.path;
    EXPECT_FALSE(o.at("responses").as_object().empty()) << e.path;
    EXPECT_EQ(o.contains("security"), e.access == Access::admin) << e.path;
  }
}

}  // namespace
}  // namespace cachelab::api

#include "api/router.hpp"

#include "api/api.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

namespace cachelab::api {
namespace {

Response run(const Router& router, http::verb method, std::string target) {
  boost::asio::io_context ctx;
  Request req{method, target, 11};
  auto fut = boost::asio::co_spawn(ctx, router.dispatch(req), boost::asio::use_future);
  ctx.run();
  return fut.get();
}

Router make_router() {
  Router r;
  auto echo = [](RequestContext& ctx) -> boost::asio::awaitable<Response> {
    co_return json_response(http::status::ok, "\"" + std::string(ctx.path_param("id")) + "\"");
  };
  r.add(http::verb::get, "/items/{id}", "get", echo);
  r.add(http::verb::delete_, "/items/{id}", "delete", echo);
  r.add(http::verb::get, "/", "index", echo);
  return r;
}

TEST(Router, MatchesPatternsAndPassesPathParameters) {
  auto r = make_router();
  auto res = run(r, http::verb::get, "/items/42?x=1");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "\"42\"");
  EXPECT_EQ(run(r, http::verb::get, "/").result(), http::status::ok);
}

TEST(Router, Tells404From405AndListsAllowedMethods) {
  auto r = make_router();
  auto not_found = run(r, http::verb::get, "/items");
  EXPECT_EQ(not_found.result(), http::status::not_found);
  EXPECT_EQ(boost::json::parse(not_found.body()).at("error").at("code"), "not_found");
  auto wrong = run(r, http::verb::put, "/items/1");
  EXPECT_EQ(wrong.result(), http::status::method_not_allowed);
  EXPECT_EQ(wrong[http::field::allow], "GET, HEAD, DELETE, OPTIONS");
  EXPECT_EQ(run(r, http::verb::get, "/items/1/2").result(), http::status::not_found);
  EXPECT_EQ(run(r, http::verb::get, "/items/").result(), http::status::not_found);  // empty segment
}

TEST(Router, SegmentsArePercentDecodedBeforeTheyAreMatched) {
  auto r = make_router();
  auto res = run(r, http::verb::get, "/it%65ms/4%32");  // "/items/42"
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "\"42\"");
  auto slash = run(r, http::verb::get, "/items/a%2Fb");  // an encoded slash stays inside the segment
  EXPECT_EQ(slash.body(), "\"a/b\"");
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "/items";
  EXPECT_EQ(run(r, http::verb::get, deep).result(), http::status::not_found);
}

TEST(Router, HeadIsAnsweredByTheGetRoute) {
  auto r = make_router();
  auto res = run(r, http::verb::head, "/items/7");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "\"7\"");  // the transport drops the body; the head is the GET's
}

TEST(Router, RejectsMalformedTargets) {
  auto r = make_router();
  auto res = run(r, http::verb::get, "/items/%zz");
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(boost::json::parse(res.body()).at("error").at("code"), "invalid_target");
}

TEST(Ready, IsUnavailableWhileDraining) {
  auto draining = std::make_shared<std::atomic<bool>>(true);
  Router r;
  add_routes(r, {}, ApiOptions{.draining = draining});  // /ready answers before touching the service
  auto res = run(r, http::verb::get, "/ready");
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(boost::json::parse(res.body()).at("status"), "draining");
}

}  // namespace
}  // namespace cachelab::api

#include "api/cors.hpp"

#include "api/access.hpp"
#include "api/router.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

namespace cachelab::api {
namespace {

constexpr std::string_view page = "http://localhost:3000";

Response answer(std::string_view body = "{}") {
  return json_response(http::status::ok, std::string(body));
}

TEST(Cors, OffByDefaultAddsNothing) {
  CorsPolicy off;
  auto res = answer();
  off.decorate(res, page);
  EXPECT_EQ(res.count(http::field::access_control_allow_origin), 0u);
  EXPECT_EQ(res.count(http::field::vary), 0u);
}

TEST(Cors, AListedOriginMayReadAndSeesTheCacheHeaders) {
  CorsPolicy cors({"http://LOCALHOST:3000", "https://shop.example"});
  auto res = answer();
  cors.decorate(res, page);
  EXPECT_EQ(res[http::field::access_control_allow_origin], page);  // the request's own spelling
  EXPECT_EQ(res[http::field::vary], "Origin");
  EXPECT_EQ(res[http::field::access_control_expose_headers], "X-Cache, Cache-Status, Server-Timing");
  EXPECT_EQ(res.count(http::field::access_control_allow_credentials), 0u);
}

TEST(Cors, AnOriginNotInTheListGetsNoCorsHeadersButTheAnswerStillVaries) {
  CorsPolicy cors({"https://shop.example"});
  auto res = answer(R"({"id":1})");
  cors.decorate(res, "http://evil.example");
  EXPECT_EQ(res.count(http::field::access_control_allow_origin), 0u);
  EXPECT_EQ(res.count(http::field::access_control_expose_headers), 0u);
  EXPECT_EQ(res[http::field::vary], "Origin");  // a shared cache must not hand this answer to the shop
  EXPECT_EQ(res.body(), R"({"id":1})");
}

TEST(Cors, StarAllowsEveryOriginWithoutVaryAndNeverWithCredentials) {
  CorsPolicy cors({"*"});
  auto res = answer();
  cors.decorate(res, "http://anything.example:8080");
  EXPECT_EQ(res[http::field::access_control_allow_origin], "*");
  EXPECT_EQ(res.count(http::field::vary), 0u);
  EXPECT_EQ(res.count(http::field::access_control_allow_credentials), 0u);
  auto no_origin = answer();
  cors.decorate(no_origin, "");  // not a cross-origin request
  EXPECT_EQ(no_origin.count(http::field::access_control_allow_origin), 0u);
}

TEST(Cors, ConfigurationProblemsAreNamed) {
  EXPECT_EQ(CorsPolicy::problem_with({}), "");
  EXPECT_EQ(CorsPolicy::problem_with({"*"}), "");
  EXPECT_EQ(CorsPolicy::problem_with({"http://localhost:3000", "https://a.example"}), "");
  EXPECT_NE(CorsPolicy::problem_with({"*", "http://localhost:3000"}), "");
  EXPECT_NE(CorsPolicy::problem_with({"localhost:3000"}).find("scheme://host"), std::string::npos);
  EXPECT_NE(CorsPolicy::problem_with({"http://localhost:3000/"}), "");
  EXPECT_NE(CorsPolicy::problem_with({"ftp://x"}), "");
}

TEST(Cors, SameOriginComparesWithTheHostTheRequestWasSentTo) {
  EXPECT_TRUE(same_origin("http://127.0.0.1:8000", "127.0.0.1:8000"));
  EXPECT_TRUE(same_origin("HTTP://Example.com", "example.com"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:3000", "127.0.0.1:8000"));
  EXPECT_FALSE(same_origin("null", "127.0.0.1:8000"));
  EXPECT_FALSE(same_origin("http://127.0.0.1:8000", ""));
}

// The router with a read route and write routes on one path, as /products/{id} has.
Router router_with(CorsPolicy cors) {
  Router r;
  auto ok = [](RequestContext&) -> boost::asio::awaitable<Response> { co_return answer(); };
  r.add(http::verb::get, "/products/{id}", "read", ok);
  r.add(http::verb::patch, "/products/{id}", "write", ok);
  r.add(http::verb::delete_, "/products/{id}", "delete", ok);
  r.set_cors(std::move(cors));
  return r;
}

Response dispatch(const Router& r, Request req) {
  boost::asio::io_context ctx;
  auto fut = boost::asio::co_spawn(ctx, r.dispatch(req), boost::asio::use_future);
  ctx.run();
  return fut.get();
}

Request request(http::verb method, std::string_view target, std::string_view origin = {}) {
  Request req{method, target, 11};
  req.set(http::field::host, "127.0.0.1:8000");
  if (!origin.empty()) req.set(http::field::origin, origin);
  return req;
}

TEST(Cors, PreflightOfAWriteRouteListsTheMethodsFromTheEndpointTable) {
  auto r = router_with(CorsPolicy({std::string(page)}));
  auto req = request(http::verb::options, "/products/1", page);
  req.set(http::field::access_control_request_method, "PATCH");
  req.set(http::field::access_control_request_headers, "content-type, authorization");
  auto res = dispatch(r, req);
  EXPECT_EQ(res.result(), http::status::no_content);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(res[http::field::access_control_allow_origin], page);
  EXPECT_EQ(res[http::field::access_control_allow_methods], "GET, HEAD, PATCH, DELETE");
  EXPECT_EQ(res[http::field::access_control_allow_headers], "Content-Type, Authorization");
  EXPECT_EQ(res[http::field::access_control_max_age], "600");
  EXPECT_EQ(res[http::field::vary], "Access-Control-Request-Method, Access-Control-Request-Headers, Origin");
  EXPECT_EQ(res.count(http::field::access_control_expose_headers), 0u);
}

TEST(Cors, PreflightFromAnOriginNotAllowedCarriesNoPermission) {
  auto r = router_with(CorsPolicy({std::string(page)}));
  auto req = request(http::verb::options, "/products/1", "http://evil.example");
  req.set(http::field::access_control_request_method, "DELETE");
  auto res = dispatch(r, req);
  EXPECT_EQ(res.result(), http::status::no_content);  // plain OPTIONS semantics stay
  EXPECT_EQ(res.count(http::field::access_control_allow_origin), 0u);
  EXPECT_EQ(res.count(http::field::access_control_allow_methods), 0u);
}

TEST(Cors, OptionsIsAnsweredForEveryPathEvenWithCorsOff) {
  auto r = router_with(CorsPolicy());
  auto res = dispatch(r, request(http::verb::options, "/products/7"));
  EXPECT_EQ(res.result(), http::status::no_content);
  EXPECT_EQ(res[http::field::allow], "GET, HEAD, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(dispatch(r, request(http::verb::options, "/nowhere")).result(), http::status::not_found);
}

TEST(Cors, ActualAnswersAndErrorsCarryTheHeadersForAnAllowedOrigin) {
  auto r = router_with(CorsPolicy({std::string(page)}));
  auto ok = dispatch(r, request(http::verb::get, "/products/1", page));
  EXPECT_EQ(ok[http::field::access_control_allow_origin], page);
  auto missing = dispatch(r, request(http::verb::get, "/nowhere", page));
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(missing[http::field::access_control_allow_origin], page);  // the page can read the error too
  auto doc = boost::json::parse(missing.body());
  EXPECT_EQ(doc.at("detail"), doc.at("error").at("message"));  // FastAPI's field for the seeds' pages
}

http::status write_status(const ApiOptions& options, std::string_view origin,
                          const Caller& caller = {"127.0.0.1", true}) {
  auto req = request(http::verb::patch, "/products/1", origin);
  RequestContext ctx{req, caller, *boost::urls::parse_origin_form("/products/1"), {}};
  auto denied = deny_unless_admin(ctx, options);
  return denied ? denied->result() : http::status::ok;
}

TEST(Cors, ABrowserPageMayWriteOnlyFromThisOriginOrAnAllowedOne) {
  ApiOptions options;
  options.cors = CorsPolicy({std::string(page)});
  EXPECT_EQ(write_status(options, ""), http::status::ok);                       // curl, scripts
  EXPECT_EQ(write_status(options, "http://127.0.0.1:8000"), http::status::ok);  // the dashboard itself
  EXPECT_EQ(write_status(options, page), http::status::ok);                     // an allowed frontend
  EXPECT_EQ(write_status(options, "http://evil.example"), http::status::forbidden);
  ApiOptions closed;  // CORS off: only this server's own pages
  EXPECT_EQ(write_status(closed, page), http::status::forbidden);
}

}  // namespace
}  // namespace cachelab::api

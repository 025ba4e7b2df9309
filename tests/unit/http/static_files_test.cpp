#include "http/static_files.hpp"

#include <gtest/gtest.h>

namespace cachelab::http {
namespace {

constexpr StaticFile files[] = {
    {"/", "text/html; charset=utf-8", "<!doctype html>", "GZ-HTML", "\"h1\"", false},
    {"/assets/app-1.js", "text/javascript; charset=utf-8", "js()", "", "\"j1\"", true},
};

Request get(std::string_view target, beast_http::verb method = beast_http::verb::get) {
  Request r{method, target, 11};
  return r;
}

StaticFiles make() {
  StaticFilesOptions o;
  o.on_error = [](beast_http::status s, std::string_view code, std::string_view) {
    Response r{s, 11};
    r.body() = std::string(code);
    return r;
  };
  return StaticFiles(files, o);
}

TEST(StaticFiles, PathsNotInTheTableAreLeftToTheCaller) {
  auto sf = make();
  EXPECT_FALSE(sf.serve(get("/api")));
  EXPECT_FALSE(sf.serve(get("/assets/other.js")));
  EXPECT_FALSE(sf.serve(get("/assets/app-1.js/")));
}

TEST(StaticFiles, ServesTheFileWithValidatorAndCachingPolicy) {
  auto sf = make();
  auto html = sf.serve(get("/?utm=x"));  // the query does not change the file
  ASSERT_TRUE(html);
  EXPECT_EQ(html->result(), beast_http::status::ok);
  EXPECT_EQ(html->body(), "<!doctype html>");
  EXPECT_EQ((*html)[beast_http::field::etag], "\"h1\"");
  EXPECT_EQ((*html)[beast_http::field::cache_control], "no-cache");
  EXPECT_EQ((*html)[beast_http::field::content_type], "text/html; charset=utf-8");
  EXPECT_NE((*html)["Content-Security-Policy"].find("script-src 'self'"), std::string_view::npos);
  EXPECT_EQ((*html)["X-Content-Type-Options"], "nosniff");

  auto js = sf.serve(get("/assets/app-1.js"));
  ASSERT_TRUE(js);
  EXPECT_EQ((*js)[beast_http::field::cache_control], "public, max-age=31536000, immutable");
  EXPECT_TRUE((*js)["Content-Security-Policy"].empty());  // only documents carry the policy
}

TEST(StaticFiles, GzipOnlyWhenAcceptedAndAvailable) {
  auto sf = make();
  auto req = get("/");
  req.set(beast_http::field::accept_encoding, "br, gzip;q=0.8");
  auto gz = sf.serve(req);
  EXPECT_EQ(gz->body(), "GZ-HTML");
  EXPECT_EQ((*gz)[beast_http::field::content_encoding], "gzip");
  EXPECT_EQ((*gz)[beast_http::field::vary], "Accept-Encoding");

  req.set(beast_http::field::accept_encoding, "gzip;q=0");
  EXPECT_EQ(sf.serve(req)->body(), "<!doctype html>");

  auto js = get("/assets/app-1.js");
  js.set(beast_http::field::accept_encoding, "gzip");
  auto plain = sf.serve(js);  // no gzip variant for this one
  EXPECT_EQ(plain->body(), "js()");
  EXPECT_TRUE((*plain)[beast_http::field::content_encoding].empty());
}

TEST(StaticFiles, AMatchingIfNoneMatchIsA304WithoutBody) {
  auto sf = make();
  auto req = get("/");
  req.set(beast_http::field::if_none_match, "\"old\", W/\"h1\"");
  auto res = sf.serve(req);
  EXPECT_EQ(res->result(), beast_http::status::not_modified);
  EXPECT_TRUE(res->body().empty());
  EXPECT_EQ((*res)[beast_http::field::etag], "\"h1\"");
  req.set(beast_http::field::if_none_match, "\"other\"");
  EXPECT_EQ(sf.serve(req)->result(), beast_http::status::ok);
}

TEST(StaticFiles, OtherMethodsAre405WithAllow) {
  auto sf = make();
  auto res = sf.serve(get("/", beast_http::verb::post));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result(), beast_http::status::method_not_allowed);
  EXPECT_EQ((*res)[beast_http::field::allow], "GET, HEAD");
  EXPECT_EQ(res->body(), "method_not_allowed");
  EXPECT_EQ(sf.serve(get("/", beast_http::verb::head))->result(), beast_http::status::ok);
}

TEST(StaticFiles, HeaderParsing) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("deflate, GZIP"));
  EXPECT_TRUE(accepts_gzip("gzip;q=0.5"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("identity, xgzip"));
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_TRUE(etag_matches("*", "\"a\""));
  EXPECT_TRUE(etag_matches("\"b\" , \"a\"", "\"a\""));
  EXPECT_FALSE(etag_matches("\"ab\"", "\"a\""));
  EXPECT_FALSE(etag_matches("", "\"a\""));
}

}  // namespace
}  // namespace cachelab::http

#include "api/access.hpp"

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

TEST(Access, WithoutATokenOnlyLoopbackMayWrite) {
  EXPECT_EQ(status_for({"127.0.0.1", true}, {}), http::status::ok);
  EXPECT_EQ(status_for({"10.1.2.3", false}, {}), http::status::forbidden);
}

TEST(Access, WithATokenEveryoneNeedsIt) {
  const ApiOptions opts{.admin_token = "s3cret"};
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts), http::status::unauthorized);
  EXPECT_EQ(status_for({"10.1.2.3", false}, opts, "Bearer s3cret"), http::status::ok);
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts, "Bearer s3cre"), http::status::unauthorized);
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts, "Bearer s3cretx"), http::status::unauthorized);
  EXPECT_EQ(status_for({"127.0.0.1", true}, opts, "s3cret"), http::status::unauthorized);
  // The scheme is case-insensitive; the token is not.
  EXPECT_EQ(status_for({"10.1.2.3", false}, opts, "bearer s3cret"), http::status::ok);
  EXPECT_EQ(status_for({"10.1.2.3", false}, opts, "BEARER s3cret"), http::status::ok);
  EXPECT_EQ(status_for({"10.1.2.3", false}, opts, "Bearer S3CRET"), http::status::unauthorized);
  EXPECT_EQ(status_for({"10.1.2.3", false}, opts, "Basic s3cret"), http::status::unauthorized);
}

TEST(Access, ConstantTimeEqualComparesEveryByte) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

}  // namespace
}  // namespace cachelab::api

#include "api/render.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace cachelab::api {
namespace {

TEST(RenderAnswer, SplicesSourceTimingAndTtlIntoTheStoredObject) {
  service::Answer a;
  a.body = R"({"id":1,"price":19.90})";
  a.source = service::Source::cache;
  a.ttl_ms = 41200;
  auto res = render_answer(a, 0.25);
  auto j = boost::json::parse(res.body());
  EXPECT_EQ(j.at("source"), "cache");
  EXPECT_DOUBLE_EQ(j.at("fetch_time_ms").as_double(), 0.25);
  EXPECT_EQ(j.at("ttl_remaining_s"), 42);
  EXPECT_EQ(res["X-Cache"], "HIT");
  EXPECT_EQ(res["Cache-Status"], "cachelab; hit; ttl=42; detail=redis");

  service::Answer down;
  down.body = R"({"id":1})";
  down.cache_unavailable = true;
  auto res2 = render_answer(down, 1.0);
  auto j2 = boost::json::parse(res2.body());
  EXPECT_EQ(j2.at("source"), "database");
  EXPECT_EQ(j2.at("cache"), "unavailable");
  EXPECT_FALSE(j2.as_object().contains("ttl_remaining_s"));
  EXPECT_EQ(res2["X-Cache"], "MISS");

  service::Answer stored;
  stored.body = R"({"id":1})";
  stored.stored = true;
  stored.ttl_ms = 57300;
  auto res3 = render_answer(stored, 2.0);
  EXPECT_EQ(boost::json::parse(res3.body()).at("ttl_remaining_s"), 58);
  EXPECT_EQ(res3["X-Cache"], "MISS");
  EXPECT_EQ(res3["Cache-Status"], "cachelab; fwd=miss; stored");
}

TEST(RenderAnswer, AWriteSaysWhatItInvalidated) {
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  write_invalidation(w, service::Invalidation{"cachelab:{v1}:product:7", "cachelab:{v1}:g3:*"});
  w.end_object();
  auto j = boost::json::parse(body);
  EXPECT_EQ(j.at("cache"), "invalidated");
  EXPECT_EQ(j.at("invalidated_keys").at(0), "cachelab:{v1}:product:7");
  EXPECT_EQ(j.at("invalidated_keys").at(1), "cachelab:{v1}:g3:* (pages, categories, searches, top products)");
  std::string pending;
  JsonWriter p(pending);
  p.begin_object();
  write_invalidation(p, service::Invalidation{.dropped_key = "cachelab:{v1}:product:7", .pending = true});
  p.end_object();
  EXPECT_EQ(boost::json::parse(pending).at("cache"), "invalidation_pending");
  EXPECT_TRUE(boost::json::parse(pending).at("invalidated_keys").as_array().empty());
}

}  // namespace
}  // namespace cachelab::api

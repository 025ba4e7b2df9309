#include "core/json_writer.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace cachelab {
namespace {

TEST(JsonWriter, EscapesWhatRfc8259Requires) {
  std::string out;
  append_json_string(out, std::string("a\"b\\c\n\t\x01 é", 11));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001 \xc3\xa9\"");
  EXPECT_EQ(boost::json::parse(out).as_string(), std::string("a\"b\\c\n\t\x01 é", 11));
}

TEST(JsonWriter, WritesNestedDocumentsThatParse) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("n", std::int64_t{-3})
      .key("xs")
      .begin_array()
      .value(1)
      .value("two")
      .null()
      .end_array();
  w.key("price").raw("19.99").key("ms").number(0.2146, 3).field("ok", true).end_object();
  EXPECT_EQ(out, R"({"n":-3,"xs":[1,"two",null],"price":19.99,"ms":0.215,"ok":true})");
  EXPECT_NO_THROW(boost::json::parse(out));
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  std::string out;
  JsonWriter w(out);
  w.begin_array().number(std::numeric_limits<double>::infinity(), 2).end_array();
  EXPECT_EQ(out, "[null]");
}

}  // namespace
}  // namespace cachelab

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

// Found by fuzz/pg_rows: a numeric column holding 'NaN' (numeric(10,2) accepts it) was written into the JSON.
TEST(JsonWriter, NumericTextThatIsNoJsonNumberBecomesNull) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  for (const char* text : {"19.90", "0", "-0.5", "1e3", "2.5E-7", "NaN", "Infinity", "-Infinity", "", "null",
                           "01", "1.", ".5", "+1", "1e", "0x10", "1 ", "1e1234"}) {
    w.numeric_text(text);
  }
  w.end_array();
  EXPECT_EQ(out,
            "[19.90,0,-0.5,1e3,2.5E-7,null,null,null,null,null,null,null,null,null,null,null,null,null]");
  EXPECT_NO_THROW(boost::json::parse(out));
}

}  // namespace
}  // namespace cachelab

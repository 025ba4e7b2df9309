// core/json_writer: appends compact JSON to a std::string, for the response paths that must be fast.
// Owns only the output string and a comma flag per nesting level. Never validates the document's shape;
// callers pair begin/end. Why not Boost.JSON's serializer here: it prints doubles as 1.999E1, while prices
// and timings must read as 19.99 and 0.214, and numeric(10,2) text from PostgreSQL must reach clients digit
// for digit. Boost.JSON still parses every request body and every test answer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab {

// Appends s as a JSON string literal (quotes included), escaping what RFC 8259 requires.
void append_json_string(std::string& out, std::string_view s);

// True when s is a number as RFC 8259 writes one, -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, with an
// exponent of at most three digits (a longer one overflows parsers; PostgreSQL never writes one).
bool is_json_number(std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(std::int64_t n);
  JsonWriter& value(int n) { return value(static_cast<std::int64_t>(n)); }
  JsonWriter& value(bool b);
  // A fixed-point number with `decimals` digits after the point (e.g. 0.214); NaN and infinities become null.
  JsonWriter& number(double d, int decimals);
  // Numeric text from PostgreSQL ("19.90", "0.412") as the number it says; text that is no JSON number
  // ("NaN" and "Infinity", which numeric and float columns can hold, "" or "null" for NULL) becomes null.
  JsonWriter& numeric_text(std::string_view text);
  // Text that is already a valid JSON document: a cached body, a report rendered before.
  JsonWriter& raw(std::string_view json);
  JsonWriter& null();

  template <class V>
  JsonWriter& field(std::string_view k, V&& v) {
    key(k);
    return value(std::forward<V>(v));
  }

 private:
  void separate();
  std::string& out_;
  std::vector<bool> first_{};  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace cachelab

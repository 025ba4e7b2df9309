// Fuzz target: a request target as the router receives it, through api/params' parsers.
// Properties: no sanitizer report; every accepted value is within its documented range; a search query comes
// back normalised (valid UTF-8, no control characters, trimmed, single spaces, ASCII lower case, 1..100
// characters) and normalising it again changes nothing, so equivalent spellings share one cache key.
#include "api/params.hpp"
#include "check.hpp"

#include <boost/url/encode.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/url/src.hpp>  // compiled in, so that libFuzzer sees its branches

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

using cachelab::fuzz::check;
using cachelab::fuzz::code_points;
using namespace cachelab::api;

void check_search(const std::string& q) {
  check(valid_utf8(q), "q is not UTF-8");
  check(!q.empty() && code_points(q) <= max_query_chars, "q length out of range");
  check(q.front() != ' ' && q.back() != ' ' && q.find("  ") == std::string::npos, "q not trimmed/collapsed");
  for (unsigned char c : q) {
    check(c >= 0x20 && c != 0x7F, "control character in q");
    check(!(c >= 'A' && c <= 'Z'), "upper case in q");
  }
  // Idempotent: the normalised query, sent again, is itself.
  std::string again = "/search?q=" + boost::urls::encode(q, boost::urls::unreserved_chars);
  auto url = boost::urls::parse_origin_form(again);
  check(url.has_value(), "the encoded query is not a target");
  auto q2 = search_query(*url);
  check(q2.has_value() && *q2 == q, "normalising twice changed q");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto id = parse_id(text)) {
    check(*id >= 1, "id below 1");
    auto digits = text.substr(std::min(text.find_first_not_of('0'), text.size()));
    check(std::to_string(*id) == digits, "id is not the number written");
  }
  (void)valid_utf8(text);

  auto url = boost::urls::parse_origin_form(text);
  if (!url) return 0;
  if (auto page = page_params(*url)) {
    check(page->limit >= 1 && page->limit <= max_page_limit, "limit out of range");
    check(page->offset >= 0 && page->offset <= max_offset, "offset out of range");
  }
  if (auto n = int_param(*url, "n", 5, 1, max_top_products)) {
    check(*n >= 1 && *n <= max_top_products, "int_param out of range");
  }
  (void)cache_mode(*url);
  if (auto q = search_query(*url)) check_search(*q);
  return 0;
}

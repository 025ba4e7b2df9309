#include "loadgen/server.hpp"

#include "http/probe.hpp"

#include <boost/json/parse.hpp>

namespace cachelab::loadgen {

std::optional<std::int64_t> json_number(const Target& t, std::string_view path,
                                        std::initializer_list<std::string_view> keys) {
  auto answer = http::probe(t.host, t.port, path, std::chrono::seconds(3));
  if (!answer || answer->status != 200) return std::nullopt;
  boost::system::error_code ec;
  auto doc = boost::json::parse(answer->body, ec);
  const boost::json::value* v = ec ? nullptr : &doc;
  for (auto key : keys) {
    if (v == nullptr || !v->is_object()) return std::nullopt;
    v = v->as_object().if_contains(key);
  }
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  return v->as_int64();
}

std::optional<std::int64_t> catalog_size(const Target& t) {
  return json_number(t, "/products?limit=1", {"total"});
}

}  // namespace cachelab::loadgen

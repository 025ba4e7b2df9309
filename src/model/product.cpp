#include "model/product.hpp"

#include "core/json_writer.hpp"

namespace cachelab::model {
namespace {

void write_product(JsonWriter& w, const Product& p) {
  w.begin_object()
      .field("id", p.id)
      .field("name", p.name)
      .field("description", p.description)
      .key("price")
      .numeric_text(p.price)
      .field("category", p.category)
      .field("created_at", p.created_at)
      .field("updated_at", p.updated_at)
      .end_object();
}

}  // namespace

std::string to_json(const Product& p) {
  std::string out;
  out.reserve(256 + p.description.size());
  JsonWriter w(out);
  write_product(w, p);
  return out;
}

std::string to_json(const ProductPage& page) {
  std::string out;
  out.reserve(64 + page.items.size() * 320);
  JsonWriter w(out);
  w.begin_object().key("items").begin_array();
  for (const auto& p : page.items) write_product(w, p);
  w.end_array()
      .field("total", page.total)
      .field("limit", page.limit)
      .field("offset", page.offset)
      .end_object();
  return out;
}

}  // namespace cachelab::model

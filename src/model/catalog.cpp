#include "model/catalog.hpp"

#include "core/json_writer.hpp"

namespace cachelab::model {

std::string to_json(const std::vector<CategoryStats>& categories) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("categories").begin_array();
  for (const auto& c : categories) {
    w.begin_object()
        .field("id", c.id)
        .field("name", c.name)
        .field("product_count", c.product_count)
        .field("review_count", c.review_count)
        .key("avg_rating")
        .numeric_text(c.avg_rating)
        .key("price")
        .begin_object()
        .field("count", c.product_count)
        .key("avg")
        .numeric_text(c.price_avg)
        .key("min")
        .numeric_text(c.price_min)
        .key("max")
        .numeric_text(c.price_max)
        .end_object()
        .end_object();
  }
  w.end_array().field("count", static_cast<std::int64_t>(categories.size())).end_object();
  return out;
}

std::string to_json(const SearchPage& page) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("query", page.query).key("items").begin_array();
  for (const auto& h : page.items) {
    w.begin_object()
        .field("id", h.id)
        .field("name", h.name)
        .field("description", h.description)
        .key("price")
        .numeric_text(h.price)
        .field("category", h.category)
        .key("score")
        .numeric_text(h.score)
        .end_object();
  }
  w.end_array()
      .field("total", page.total)
      .field("limit", page.limit)
      .field("offset", page.offset)
      .end_object();
  return out;
}

std::string to_json(const TopProducts& top) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("items").begin_array();
  for (const auto& t : top.items) {
    w.begin_object()
        .field("rank", t.rank)
        .field("category_rank", t.category_rank)
        .field("id", t.id)
        .field("name", t.name)
        .key("price")
        .numeric_text(t.price)
        .field("category", t.category)
        .field("review_count", t.review_count)
        .key("avg_rating")
        .numeric_text(t.avg_rating)
        .end_object();
  }
  w.end_array().field("min_reviews", top.min_reviews).field("limit", top.limit).end_object();
  return out;
}

}  // namespace cachelab::model

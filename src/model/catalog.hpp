// model/catalog: the analytics views of the catalog (category statistics, search results, top products) and
// their JSON. Owns the field lists. Never talks to a database or a cache. Numeric fields computed by
// PostgreSQL arrive as text and are written as JSON numbers unchanged ("null" when SQL said NULL).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cachelab::model {

struct CategoryStats {
  std::int64_t id = 0;
  std::string name;
  std::int64_t product_count = 0;
  std::int64_t review_count = 0;
  std::string avg_rating;  // numeric text, or "null" (rendered as null, as is NaN)
  std::string price_avg, price_min, price_max;
};

struct SearchHit {
  std::int64_t id = 0;
  std::string name;
  std::string description;
  std::string price;
  std::string category;
  std::string score;  // pg_trgm similarity of the name to the query, 0..1
};

struct SearchPage {
  std::string query;  // the normalised query
  std::vector<SearchHit> items;
  std::int64_t total = 0;
  int limit = 0;
  std::int64_t offset = 0;
};

struct TopProduct {
  std::int64_t id = 0;
  std::string name;
  std::string price;
  std::string category;
  std::int64_t review_count = 0;
  std::string avg_rating;
  std::int64_t rank = 0;           // over all products
  std::int64_t category_rank = 0;  // within its category
};

struct TopProducts {
  std::vector<TopProduct> items;
  int min_reviews = 0;
  int limit = 0;
};

std::string to_json(const std::vector<CategoryStats>& categories);
std::string to_json(const SearchPage& page);
std::string to_json(const TopProducts& top);

}  // namespace cachelab::model

// End-to-end tests of the catalog analytics API: every number is checked against an independent SQL
// computation written differently from the server's, cached and bypassed answers are compared, and the
// search endpoint is fed hostile input.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace cachelab::test {
namespace {

namespace json = boost::json;

class CatalogTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(start_backends_and_seed());
    server_ = new ServerProcess();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    redis({"FLUSHALL"});
    http(port(), "DELETE", "/cache/clear");
  }
  static unsigned short port() { return server_->port(); }
  static HttpResponse get(const std::string& target) { return http(port(), "GET", target); }
  static ServerProcess* server_;
};
ServerProcess* CatalogTest::server_ = nullptr;

// The response's data without the per-response fields.
json::object data_of(const HttpResponse& r) {
  auto o = r.json().as_object();
  for (const char* k : {"source", "fetch_time_ms", "ttl_remaining_s", "cache"}) o.erase(k);
  return o;
}

double num(const json::value& v) {
  return v.is_null() ? -1 : v.to_number<double>();
}
double num(const std::string& s) {
  return s.empty() ? -1 : std::stod(s);
}

TEST_F(CatalogTest, CategoryStatisticsEqualAnIndependentComputation) {
  auto r = get("/api/categories");
  ASSERT_EQ(r.status, 200) << r.body;
  // Per category, with correlated subqueries instead of the server's CTE and joins.
  auto rows = sql(R"(
    SELECT c.name,
      (SELECT count(*) FROM products p WHERE p.category_id = c.id),
      (SELECT count(*) FROM reviews r JOIN products p ON p.id = r.product_id WHERE p.category_id = c.id),
      (SELECT round(avg(r.rating), 2) FROM reviews r JOIN products p ON p.id = r.product_id
        WHERE p.category_id = c.id),
      (SELECT round(avg(price), 2) FROM products p WHERE p.category_id = c.id),
      (SELECT min(price) FROM products p WHERE p.category_id = c.id),
      (SELECT max(price) FROM products p WHERE p.category_id = c.id)
    FROM categories c ORDER BY c.name)");
  const auto doc = r.json();
  const auto& cats = doc.at("categories").as_array();
  ASSERT_EQ(cats.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& c = cats[i];
    SCOPED_TRACE(rows[i][0]);
    EXPECT_EQ(c.at("name").as_string(), rows[i][0].c_str());
    EXPECT_EQ(c.at("product_count").to_number<std::int64_t>(), std::stoll(rows[i][1]));
    EXPECT_EQ(c.at("price").at("count").to_number<std::int64_t>(), std::stoll(rows[i][1]));
    EXPECT_EQ(c.at("review_count").to_number<std::int64_t>(), std::stoll(rows[i][2]));
    EXPECT_DOUBLE_EQ(num(c.at("avg_rating")), num(rows[i][3]));
    EXPECT_DOUBLE_EQ(num(c.at("price").at("avg")), num(rows[i][4]));
    EXPECT_DOUBLE_EQ(num(c.at("price").at("min")), num(rows[i][5]));
    EXPECT_DOUBLE_EQ(num(c.at("price").at("max")), num(rows[i][6]));
  }
}

TEST_F(CatalogTest, SearchMatchesAnIndependentSubstringCount) {
  for (const std::string q : {"coffee", "Pro", "made for small spaces", "zzzz-nothing"}) {
    SCOPED_TRACE(q);
    std::string target = "/api/products?limit=100&q=";
    for (char c : q) target += c == ' ' ? std::string("%20") : std::string(1, c);
    auto r = get(target);
    ASSERT_EQ(r.status, 200) << r.body;
    // strpos: no pattern language at all, so this is the literal-substring truth.
    auto expected =
        sql("SELECT count(*) FROM products WHERE strpos(lower(name || ' ' || description), lower('" + q +
            "')) > 0");
    auto j = r.json();
    EXPECT_EQ(j.at("total").to_number<std::int64_t>(), std::stoll(expected[0][0]));
    std::string lower_q = q;
    for (auto& c : lower_q) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& item : j.at("items").as_array()) {
      std::string text =
          std::string(item.at("name").as_string()) + " " + std::string(item.at("description").as_string());
      for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_NE(text.find(lower_q), std::string::npos) << text;
    }
  }
}

TEST_F(CatalogTest, SearchTreatsWildcardsAndHostileInputAsPlainText) {
  // None of these characters appear in the data set, so a literal search must find nothing —
  // a wildcard interpretation of % or _ would match every row.
  for (const char* q : {"%25", "_", "%5C", "%25%25", "a_c", "%27%20OR%201%3D1%20--", "%F0%9F%98%80"}) {
    auto r = get(std::string("/api/products?q=") + q);
    ASSERT_EQ(r.status, 200) << q << ": " << r.body;
    EXPECT_EQ(r.json().at("total"), 0) << q;
  }
  const std::pair<const char*, const char*> bad[] = {
      {"/api/products", "invalid_q"},
      {"/api/products?q=", "invalid_q"},
      {"/api/products?q=%20%20%20", "invalid_q"},
      {"/api/products?q=a%00b", "invalid_q"},
      {"/api/products?q=%FF%FE", "invalid_q"},
      {"/api/products?q=%C0%AF", "invalid_q"},  // overlong encoding of '/'
      {"/api/products?q=coffee&limit=0", "invalid_limit"},
      {"/api/products?q=coffee&limit=1000", "invalid_limit"},
      {"/api/products?q=coffee&limit=abc", "invalid_limit"},
      {"/api/products?q=coffee&offset=-1", "invalid_offset"},
      {"/api/top-products?limit=0", "invalid_limit"},
      {"/api/top-products?limit=51", "invalid_limit"},
      {"/api/compare?endpoint=nope", "invalid_endpoint"},
      {"/api/compare", "invalid_endpoint"},
      {"/api/compare?endpoint=search", "invalid_q"},
      {"/api/compare?endpoint=product&id=abc", "invalid_id"},
  };
  for (const auto& [target, code] : bad) {
    auto r = get(target);
    EXPECT_EQ(r.status, 400) << target << ": " << r.body;
    EXPECT_EQ(r.json().at("error").at("code"), code) << target;
  }
  EXPECT_EQ(get("/api/products?q=" + std::string(100, 'x')).status, 200);
  EXPECT_EQ(get("/api/products?q=" + std::string(101, 'x')).status, 400);
  EXPECT_EQ(get("/api/products?q=%20%20" + std::string(100, 'x') + "%20").status, 200);  // trimmed first
}

TEST_F(CatalogTest, EquivalentSearchesShareOneKey) {
  auto first = get("/api/products?q=Coffee%20Beans");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.header("x-cache"), "MISS");
  auto second = get("/api/products?q=%20%20coffee%20%20%20BEANS%20");
  EXPECT_EQ(second.header("x-cache"), "HIT");
  EXPECT_EQ(data_of(first), data_of(second));
  const auto gen = redis({"GET", "cachelab:meta:{v1}:generation"}).value_or("0");
  EXPECT_EQ(redis({"EXISTS", "cachelab:{v1}:g" + gen + ":search:limit=10:offset=0:q=coffee beans"}), "1");
  // A different page is a different key.
  EXPECT_EQ(get("/api/products?q=coffee%20beans&offset=1").header("x-cache"), "MISS");
}

TEST_F(CatalogTest, TopProductsEqualAnIndependentRanking) {
  auto r = get("/api/top-products?limit=10");
  ASSERT_EQ(r.status, 200) << r.body;
  auto rows =
      sql("SELECT product_id, count(*), round(avg(rating), 2) FROM reviews GROUP BY product_id "
          "HAVING count(*) >= 5 ORDER BY avg(rating) DESC, count(*) DESC, product_id LIMIT 10");
  const auto doc = r.json();
  const auto& items = doc.at("items").as_array();
  ASSERT_EQ(items.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(items[i].at("id").to_number<std::int64_t>(), std::stoll(rows[i][0])) << i;
    EXPECT_EQ(items[i].at("review_count").to_number<std::int64_t>(), std::stoll(rows[i][1])) << i;
    EXPECT_DOUBLE_EQ(num(items[i].at("avg_rating")), std::stod(rows[i][2])) << i;
    EXPECT_GE(items[i].at("review_count").to_number<int>(), 5);
    EXPECT_GE(items[i].at("category_rank").to_number<int>(), 1);
  }
  EXPECT_EQ(r.json().at("min_reviews"), 5);
}

TEST_F(CatalogTest, CachedAndBypassedAnswersCarryTheSameData) {
  for (const std::string target :
       {"/api/categories", "/api/products?q=kettle", "/api/top-products?limit=5"}) {
    SCOPED_TRACE(target);
    const std::string sep = target.find('?') == std::string::npos ? "?" : "&";
    auto miss = get(target);
    auto hit = get(target);
    auto bypass = get(target + sep + "cache=bypass");
    EXPECT_EQ(miss.header("x-cache"), "MISS");
    EXPECT_EQ(hit.header("x-cache"), "HIT");
    EXPECT_EQ(bypass.header("x-cache"), "BYPASS");
    EXPECT_EQ(hit.json().at("source"), "cache");
    EXPECT_GE(hit.json().at("ttl_remaining_s").to_number<int>(), 1);
    EXPECT_EQ(data_of(miss), data_of(hit));
    EXPECT_EQ(data_of(bypass), data_of(hit));
  }
}

TEST_F(CatalogTest, CompareRunsBothPathsAndTheyAgree) {
  for (const std::string q : {"endpoint=categories", "endpoint=search&q=tent",
                              "endpoint=top-products&limit=3", "endpoint=product&id=42"}) {
    SCOPED_TRACE(q);
    get("/api/compare?" + q);  // the first call fills the cache
    auto r = get("/api/compare?" + q);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    EXPECT_EQ(j.at("database").at("source"), "database");
    EXPECT_EQ(j.at("cache").at("source"), "cache");
    EXPECT_TRUE(j.at("same_data").as_bool());
    EXPECT_GT(j.at("database").at("fetch_time_ms").to_number<double>(), 0);
    EXPECT_GT(j.at("speedup").to_number<double>(), 0);
    EXPECT_TRUE(j.at("data").is_object());
  }
}

TEST_F(CatalogTest, FlushResetsKeysAndStatistics) {
  get("/api/categories");
  get("/api/categories");
  get("/api/products?q=tent");
  // Not ours, though in our Redis Cluster slot (the `{v1}` tag): a flush must leave it.
  redis({"SET", "not-ours:{v1}", "1"});
  auto before = get("/api/stats").json();
  EXPECT_EQ(before.at("redis").at("keys"), 2);
  EXPECT_EQ(before.at("app").at("hits"), 1);
  EXPECT_EQ(before.at("ttl_seconds").at("categories"), 60);
  EXPECT_EQ(before.at("db_delay_ms"), 0);
  EXPECT_EQ(before.at("redis").at("maxmemory_policy"), "allkeys-lru");

  const auto gen_before = std::stoll(redis({"GET", "cachelab:meta:{v1}:generation"}).value_or("0"));
  auto flushed = http(port(), "POST", "/api/flush-cache");
  ASSERT_EQ(flushed.status, 200);
  // The flush retires loads in flight by bumping the generation (it never resets it).
  EXPECT_EQ(std::stoll(redis({"GET", "cachelab:meta:{v1}:generation"}).value()), gen_before + 1);
  EXPECT_EQ(flushed.json().at("cleared_keys"), 2);
  auto after = get("/api/stats").json();
  EXPECT_EQ(after.at("redis").at("keys"), 0);
  EXPECT_EQ(after.at("app").at("hits"), 0);
  EXPECT_EQ(after.at("app").at("misses"), 0);
  EXPECT_EQ(redis({"GET", "not-ours:{v1}"}), "1");

  auto with_body = http(port(), "POST", "/api/flush-cache", R"({"all":true})");
  EXPECT_EQ(with_body.status, 400);
  EXPECT_EQ(with_body.json().at("error").at("code"), "unexpected_body");
  EXPECT_EQ(http(port(), "GET", "/api/flush-cache").status, 405);
}

TEST_F(CatalogTest, TheCacheBrowserListsReadsAndDeletesOnlyOurKeys) {
  get("/products/1");
  get("/api/categories");
  redis({"SET", "foreign:{v1}:key", "x"});
  std::set<std::string> listed;
  std::string cursor = "0";
  for (int page = 0; page < 100; ++page) {
    auto r = get("/api/cache/keys?count=200&cursor=" + cursor);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = r.json();
    for (const auto& k : j.at("keys").as_array()) {
      listed.insert(std::string(k.at("key").as_string()));
      EXPECT_EQ(k.at("type"), "string");
      EXPECT_GT(k.at("size_bytes").to_number<std::int64_t>(), 0);
      EXPECT_GT(k.at("ttl_ms").to_number<std::int64_t>(), 0);
    }
    cursor = std::string(j.at("cursor").as_string());
    if (j.at("done").as_bool()) break;
  }
  EXPECT_TRUE(listed.contains("cachelab:{v1}:product:1"));
  const auto gen = redis({"GET", "cachelab:meta:{v1}:generation"}).value_or("0");
  EXPECT_TRUE(listed.contains("cachelab:{v1}:g" + gen + ":categories"));
  EXPECT_FALSE(listed.contains("cachelab:meta:{v1}:generation"));  // bookkeeping, not a cached answer
  EXPECT_FALSE(listed.contains("foreign:{v1}:key"));

  auto one = get("/api/cache/key?name=cachelab:%7Bv1%7D:product:1");
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(json::parse(one.json().at("value").as_string()).at("id"), 1);
  EXPECT_EQ(get("/api/cache/key?name=foreign:%7Bv1%7D:key").status, 400);
  EXPECT_EQ(get("/api/cache/key?name=cachelab:%7Bv1%7D:nothing").status, 404);
  EXPECT_EQ(get("/api/cache/keys?match=a%20b;c").status, 400);
  EXPECT_EQ(get("/api/cache/keys?cursor=abc").status, 400);

  EXPECT_EQ(http(port(), "DELETE", "/api/cache/key?name=cachelab:%7Bv1%7D:product:1").status, 200);
  EXPECT_EQ(redis({"EXISTS", "cachelab:{v1}:product:1"}), "0");
  EXPECT_EQ(http(port(), "DELETE", "/api/cache/key?name=cachelab:%7Bv1%7D:product:1").status, 404);
  EXPECT_EQ(http(port(), "DELETE", "/api/cache/key?name=foreign:%7Bv1%7D:key").status, 400);
  EXPECT_EQ(redis({"GET", "foreign:{v1}:key"}), "x");
}

TEST_F(CatalogTest, TheQueryInspectorShowsTheServersOwnPlans) {
  auto r = get("/api/explain?endpoint=search");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto doc = r.json();
  const auto& queries = doc.at("queries").as_array();
  ASSERT_EQ(queries.size(), 2u);  // the page and the count
  for (const auto& q : queries) {
    EXPECT_NE(std::string(q.at("plan").as_string()).find("Execution Time"), std::string::npos);
    EXPECT_NE(std::string(q.at("sql").as_string()).find("ILIKE"), std::string::npos);
  }
  EXPECT_EQ(get("/api/explain?endpoint=categories").status, 200);
  EXPECT_EQ(get("/api/explain?endpoint=DROP%20TABLE").status, 400);
  auto list = get("/api/explain");  // no endpoint: the choices
  ASSERT_EQ(list.status, 200) << list.body;
  const auto endpoints = list.json().at("endpoints").as_array();
  EXPECT_NE(std::find(endpoints.begin(), endpoints.end(), boost::json::value("search")), endpoints.end());
  EXPECT_EQ(get("/api/explain?endpoint=").status, 400);
}

TEST_F(CatalogTest, UnderMemoryPressureRedisEvictsAndAnswersStayCorrect) {
  auto info = get("/api/stats").json();
  const auto evicted_before = info.at("redis").at("evicted_keys").to_number<std::int64_t>();
  // The node that holds our keys (on a cluster, /api/stats sums the memory of every master).
  const auto memory = redis({"INFO", "memory"}).value_or("");
  const auto at = memory.find("used_memory:");
  ASSERT_NE(at, std::string::npos) << memory;
  const std::int64_t used_memory = std::stoll(memory.substr(at + 12));
  // Room for roughly a hundred products' worth of answers above what Redis uses now.
  ASSERT_EQ(redis({"CONFIG", "SET", "maxmemory", std::to_string(used_memory + 64 * 1024)}), "OK");
  auto names = sql("SELECT id, name FROM products WHERE id <= 500 ORDER BY id");
  bool all_correct = true;
  for (const auto& row : names) {
    auto r = get("/products/" + row[0]);
    all_correct = all_correct && r.status == 200 && r.json().at("name").as_string() == row[1].c_str();
  }
  for (const char* q : {"a", "e", "o", "pro", "made"})
    EXPECT_EQ(get(std::string("/api/products?q=") + q).status, 200);
  auto after = get("/api/stats").json();
  redis({"CONFIG", "SET", "maxmemory", "64mb"});
  EXPECT_TRUE(all_correct);
  EXPECT_GT(after.at("redis").at("evicted_keys").to_number<std::int64_t>(), evicted_before);
  EXPECT_LT(after.at("redis").at("keys").to_number<std::int64_t>(), 505);
  // Evicted entries are just misses: a re-read is correct again.
  auto again = get("/products/1");
  EXPECT_EQ(again.json().at("name").as_string(), names[0][1].c_str());
}

}  // namespace
}  // namespace cachelab::test

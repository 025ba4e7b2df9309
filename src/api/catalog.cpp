// The catalog analytics, each cache-aside: per-category statistics, search, top products; and /api/compare,
// which runs one of them straight against PostgreSQL and then through the cache and reports both timings.
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/render.hpp"
#include "service/catalog_service.hpp"

#include <algorithm>

namespace cachelab::api {

using boost::asio::awaitable;
using service::CacheMode;

awaitable<Response> categories(const Api& api, RequestContext& ctx) {
  Stopwatch total;
  auto mode = cache_mode(ctx.url);
  if (!mode) co_return error_response(mode.error());
  auto answer = co_await api.services.catalog->categories(*mode);
  co_return rendered(std::move(answer), total);
}

awaitable<Response> search(const Api& api, RequestContext& ctx) {
  Stopwatch total;
  auto q = search_query(ctx.url);
  if (!q) co_return error_response(q.error());
  auto page = page_params(ctx.url);
  if (!page) co_return error_response(page.error());
  auto mode = cache_mode(ctx.url);
  if (!mode) co_return error_response(mode.error());
  auto answer = co_await api.services.catalog->search(std::move(*q), page->limit, page->offset, *mode);
  co_return rendered(std::move(answer), total);
}

awaitable<Response> top_products(const Api& api, RequestContext& ctx) {
  Stopwatch total;
  auto limit = int_param(ctx.url, "limit", 10, 1, max_top_products);
  if (!limit) co_return error_response(limit.error());
  auto mode = cache_mode(ctx.url);
  if (!mode) co_return error_response(mode.error());
  auto answer = co_await api.services.catalog->top_products(static_cast<int>(*limit), *mode);
  co_return rendered(std::move(answer), total);
}

namespace {

// One read for /api/compare, resolved from the query string before anything runs.
struct CompareTarget {
  std::string endpoint;
  std::int64_t id = 1;
  std::string q;
  std::int64_t limit = 10;
};

Result<CompareTarget> compare_target(boost::urls::url_view url) {
  CompareTarget t;
  auto endpoint = query_param(url, "endpoint");
  if (!endpoint)
    return invalid("invalid_endpoint", "endpoint is required: categories, search, top-products or product");
  t.endpoint = std::move(*endpoint);
  if (t.endpoint == "product") {
    auto id = parse_id(query_param(url, "id").value_or("1"));
    if (!id) return id.error();
    t.id = *id;
  } else if (t.endpoint == "search") {
    auto q = search_query(url);
    if (!q) return q.error();
    t.q = std::move(*q);
  } else if (t.endpoint == "top-products") {
    auto limit = int_param(url, "limit", 10, 1, max_top_products);
    if (!limit) return limit.error();
    t.limit = *limit;
  } else if (t.endpoint != "categories") {
    return invalid("invalid_endpoint", "endpoint must be one of: categories, search, top-products, product");
  }
  return t;
}

awaitable<Result<service::Answer>> read_target(service::CatalogService& svc, const CompareTarget& t,
                                               CacheMode mode) {
  if (t.endpoint == "product") {
    auto answer = co_await svc.product(t.id, mode);
    co_return answer;
  }
  if (t.endpoint == "search") {
    std::string q = t.q;
    auto answer = co_await svc.search(std::move(q), 10, 0, mode);
    co_return answer;
  }
  if (t.endpoint == "top-products") {
    auto answer = co_await svc.top_products(static_cast<int>(t.limit), mode);
    co_return answer;
  }
  auto answer = co_await svc.categories(mode);
  co_return answer;
}

}  // namespace

// Runs the read straight against PostgreSQL, then through the cache, and reports both timings.
awaitable<Response> compare(const Api& api, RequestContext& ctx) {
  auto target = compare_target(ctx.url);
  if (!target) co_return error_response(target.error());
  auto& svc = *api.services.catalog;

  Stopwatch db_time;
  auto direct = co_await read_target(svc, *target, CacheMode::bypass);
  const double db_ms = db_time.elapsed_ms();
  if (!direct) co_return error_response(direct.error());
  if (direct->not_found) co_return error_response(http::status::not_found, "not_found", "no such product");
  Stopwatch cache_time;
  auto cached = co_await read_target(svc, *target, CacheMode::use);
  const double cache_ms = cache_time.elapsed_ms();
  if (!cached) co_return error_response(cached.error());

  std::string body;
  JsonWriter w(body);
  w.begin_object().field("endpoint", target->endpoint);
  w.key("database")
      .begin_object()
      .key("fetch_time_ms")
      .number(db_ms, 3)
      .field("source", "database")
      .end_object();
  w.key("cache").begin_object().key("fetch_time_ms").number(cache_ms, 3);
  w.field("source", source_name(cached->source));
  if (cached->ttl_ms) w.field("ttl_remaining_s", (*cached->ttl_ms + 999) / 1000);
  if (cached->cache_unavailable) w.field("cache", "unavailable");
  w.end_object();
  w.key("speedup").number(db_ms / std::max(cache_ms, 0.001), 2);
  w.field("same_data", direct->body == cached->body);
  w.key("data").raw(cached->body);
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

}  // namespace cachelab::api

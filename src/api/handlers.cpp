// The endpoint table. Find an endpoint here by its path; each handler parses, calls service/, renders.
#include "api/handlers.hpp"

#include "api/params.hpp"
#include "core/json_writer.hpp"
#include "core/stopwatch.hpp"

#include <fmt/format.h>

namespace cachelab::api {
namespace {

using boost::asio::awaitable;
using service::CacheMode;

Response param_error(const ParamError& e) {
  return error_response(http::status::bad_request, e.code, e.message);
}

std::string cache_status(const service::Answer& a) {
  if (a.source == service::Source::cache) {
    return fmt::format("cachelab; hit; ttl={}", a.ttl_ms ? (*a.ttl_ms + 999) / 1000 : 0);
  }
  if (a.bypassed) return "cachelab; fwd=bypass";
  if (a.cache_unavailable) return "cachelab; fwd=miss; detail=unavailable";
  return "cachelab; fwd=miss; stored";
}

awaitable<Response> get_product(service::CatalogService& svc, RequestContext& ctx) {
  Stopwatch total;
  auto id = parse_id(ctx.path_param("id"));
  if (auto e = error_of(id)) co_return param_error(*e);
  auto bypass = bypass_param(ctx.url);
  if (auto e = error_of(bypass)) co_return param_error(*e);
  auto answer = co_await svc.product(std::get<std::int64_t>(id),
                                     std::get<bool>(bypass) ? CacheMode::bypass : CacheMode::use);
  if (!answer) co_return error_response(answer.error());
  co_return render_answer(*answer, total.elapsed_ms());
}

awaitable<Response> list_products(service::CatalogService& svc, RequestContext& ctx) {
  Stopwatch total;
  auto limit = int_param(ctx.url, "limit", 10, 1, max_page_limit);
  if (auto e = error_of(limit)) co_return param_error(*e);
  auto offset = int_param(ctx.url, "offset", 0, 0, max_offset);
  if (auto e = error_of(offset)) co_return param_error(*e);
  auto bypass = bypass_param(ctx.url);
  if (auto e = error_of(bypass)) co_return param_error(*e);
  auto answer =
      co_await svc.products(static_cast<int>(std::get<std::int64_t>(limit)), std::get<std::int64_t>(offset),
                            std::get<bool>(bypass) ? CacheMode::bypass : CacheMode::use);
  if (!answer) co_return error_response(answer.error());
  co_return render_answer(*answer, total.elapsed_ms());
}

awaitable<Response> cache_stats(service::CatalogService& svc, RequestContext&) {
  auto stats = co_await svc.cache_stats();
  if (!stats) co_return error_response(stats.error(), "cache");
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("cache_stats");
  if (const auto& r = stats->redis) {
    w.begin_object()
        .field("keyspace_hits", r->keyspace_hits)
        .field("keyspace_misses", r->keyspace_misses)
        .key("hit_rate")
        .number(r->hit_rate(), 4)
        .field("used_memory", r->used_memory)
        .field("used_memory_human", r->used_memory_human)
        .field("maxmemory", r->maxmemory)
        .field("maxmemory_policy", r->maxmemory_policy)
        .field("evicted_keys", r->evicted_keys)
        .field("expired_keys", r->expired_keys)
        .field("connected_clients", r->connected_clients)
        .field("total_commands_processed", r->total_commands_processed)
        .field("keys", r->keys)
        .end_object();
  } else {
    w.null();
  }
  const auto& a = stats->app;
  w.key("app")
      .begin_object()
      .field("hits", a.hits)
      .field("misses", a.misses)
      .key("hit_rate")
      .number(a.hit_rate(), 4)
      .field("db_queries", a.db_queries)
      .field("redis_errors", a.redis_errors)
      .end_object();
  w.field("cache", stats->redis ? "ok" : "unavailable");
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

awaitable<Response> clear_cache(service::CatalogService& svc, RequestContext&) {
  auto cleared = co_await svc.clear_cache();
  if (!cleared) co_return error_response(cleared.error(), "cache");
  co_return json_response(http::status::ok, fmt::format("{{\"cleared_keys\":{}}}", *cleared));
}

awaitable<Response> health(RequestContext&) {
  co_return json_response(http::status::ok, R"({"status":"ok"})");
}

awaitable<Response> ready(service::CatalogService& svc, RequestContext&) {
  auto r = co_await svc.readiness();
  std::string body;
  JsonWriter w(body);
  w.begin_object()
      .field("status", r.database ? "ready" : "not_ready")
      .field("database", r.database ? "ok" : "unavailable")
      .field("cache", r.cache ? "ok" : "degraded");
  if (!r.database) {
    w.key("error")
        .begin_object()
        .field("code", "database_unavailable")
        .field("message", "PostgreSQL is not answering")
        .end_object();
  }
  w.end_object();
  co_return json_response(r.database ? http::status::ok : http::status::service_unavailable, std::move(body));
}

awaitable<Response> index(const Router& router, RequestContext&) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("name", "cachelab").key("endpoints").begin_array();
  for (const auto& r : router.routes()) {
    w.begin_object()
        .field("method", std::string_view(http::to_string(r.method)))
        .field("path", r.pattern)
        .field("summary", r.summary)
        .end_object();
  }
  w.end_array().end_object();
  co_return json_response(http::status::ok, std::move(body));
}

}  // namespace

Response render_answer(const service::Answer& a, double fetch_time_ms) {
  const bool hit = a.source == service::Source::cache;
  std::string body;
  body.reserve(a.body.size() + 96);
  // The stored value is a JSON object; splice our fields in before its closing brace instead of parsing it.
  body.append(a.body, 0, a.body.size() - 1);
  body += hit ? R"(,"source":"cache")" : R"(,"source":"database")";
  body += ",\"fetch_time_ms\":";
  fmt::format_to(std::back_inserter(body), "{:.3f}", fetch_time_ms);
  if (hit && a.ttl_ms)
    fmt::format_to(std::back_inserter(body), ",\"ttl_remaining_s\":{}", (*a.ttl_ms + 999) / 1000);
  if (a.cache_unavailable) body += R"(,"cache":"unavailable")";
  body += '}';

  auto res = json_response(http::status::ok, std::move(body));
  res.set("X-Cache", hit ? "HIT" : (a.bypassed ? "BYPASS" : "MISS"));
  res.set("Cache-Status", cache_status(a));
  res.set("Server-Timing", fmt::format("redis;dur={:.3f}, db;dur={:.3f}, total;dur={:.3f}",
                                       a.timings.redis_ms, a.timings.db_ms, fetch_time_ms));
  return res;
}

void add_routes(Router& router, std::shared_ptr<service::CatalogService> svc) {
  using http::verb;
  auto with = [svc](auto fn) { return [svc, fn](RequestContext& ctx) { return fn(*svc, ctx); }; };
  router.add(verb::get, "/", "This list of endpoints",
             [&router](RequestContext& ctx) { return index(router, ctx); });
  router.add(verb::get, "/health", "Liveness: answers without touching any backend", health);
  router.add(verb::get, "/ready", "Readiness: 503 when PostgreSQL is unreachable; Redis down is 'degraded'",
             with(ready));
  router.add(verb::get, "/products", "A page of products: ?limit=1..100 (10) &offset=0.. &cache=bypass",
             with(list_products));
  router.add(verb::get, "/products/{id}", "One product, cache-aside; ?cache=bypass reads PostgreSQL only",
             with(get_product));
  router.add(verb::get, "/cache/stats", "Redis's counters and the app's own hit/miss counters",
             with(cache_stats));
  router.add(verb::delete_, "/cache/clear", "Delete our keys (SCAN + UNLINK) and reset the app's counters",
             with(clear_cache));
}

}  // namespace cachelab::api

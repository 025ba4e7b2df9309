// The endpoint table. Find an endpoint here by its path; each handler parses, calls service/, renders.
#include "api/handlers.hpp"

#include "api/params.hpp"
#include "core/json_writer.hpp"
#include "core/stopwatch.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace cachelab::api {
namespace {

using boost::asio::awaitable;
using service::CacheMode;

// RFC 9211: hit (with ttl), or fwd=miss|bypass, plus `stored` when we cached the answer and `collapsed` when
// this request waited for another one's load instead of querying.
std::string cache_status(const service::Answer& a) {
  std::string s;
  if (a.source == service::Source::cache) {
    s = fmt::format("cachelab; hit; ttl={}", a.ttl_ms ? (*a.ttl_ms + 999) / 1000 : 0);
    if (a.stale) s += "; stale";
  } else if (a.bypassed) {
    s = "cachelab; fwd=bypass";
  } else {
    s = "cachelab; fwd=miss";
    if (a.stored) s += "; stored";
    if (a.cache_unavailable) s += "; detail=unavailable";
  }
  if (a.collapsed) s += "; collapsed";
  return s;
}

CacheMode mode_of(const Parsed<bool>& bypass) {
  return std::get<bool>(bypass) ? CacheMode::bypass : CacheMode::use;
}

Response rendered(const Result<service::Answer>& answer, const Stopwatch& total) {
  if (!answer) return error_response(answer.error());
  return render_answer(*answer, total.elapsed_ms());
}

awaitable<Response> get_product(service::CatalogService& svc, RequestContext& ctx) {
  Stopwatch total;
  auto id = parse_id(ctx.path_param("id"));
  if (auto e = error_of(id)) co_return error_response(*e);
  auto bypass = bypass_param(ctx.url);
  if (auto e = error_of(bypass)) co_return error_response(*e);
  const auto product_id = std::get<std::int64_t>(id);
  auto answer = co_await svc.product(product_id, mode_of(bypass));
  if (!answer) co_return error_response(answer.error());
  co_return render_answer(*answer, total.elapsed_ms(), fmt::format("product {} does not exist", product_id));
}

awaitable<Response> list_products(service::CatalogService& svc, RequestContext& ctx) {
  Stopwatch total;
  auto limit = int_param(ctx.url, "limit", 10, 1, max_page_limit);
  if (auto e = error_of(limit)) co_return error_response(*e);
  auto offset = int_param(ctx.url, "offset", 0, 0, max_offset);
  if (auto e = error_of(offset)) co_return error_response(*e);
  auto bypass = bypass_param(ctx.url);
  if (auto e = error_of(bypass)) co_return error_response(*e);
  auto answer = co_await svc.products(static_cast<int>(std::get<std::int64_t>(limit)),
                                      std::get<std::int64_t>(offset), mode_of(bypass));
  co_return rendered(answer, total);
}

inline constexpr std::int64_t max_top_products = 50;

awaitable<Response> api_categories(service::CatalogService& svc, RequestContext& ctx) {
  Stopwatch total;
  auto bypass = bypass_param(ctx.url);
  if (auto e = error_of(bypass)) co_return error_response(*e);
  auto answer = co_await svc.categories(mode_of(bypass));
  co_return rendered(answer, total);
}

awaitable<Response> api_search(service::CatalogService& svc, RequestContext& ctx) {
  Stopwatch total;
  auto q = search_query(ctx.url);
  if (auto e = error_of(q)) co_return error_response(*e);
  auto limit = int_param(ctx.url, "limit", 10, 1, max_page_limit);
  if (auto e = error_of(limit)) co_return error_response(*e);
  auto offset = int_param(ctx.url, "offset", 0, 0, max_offset);
  if (auto e = error_of(offset)) co_return error_response(*e);
  auto bypass = bypass_param(ctx.url);
  if (auto e = error_of(bypass)) co_return error_response(*e);
  auto answer = co_await svc.search(std::move(std::get<std::string>(q)),
                                    static_cast<int>(std::get<std::int64_t>(limit)),
                                    std::get<std::int64_t>(offset), mode_of(bypass));
  co_return rendered(answer, total);
}

awaitable<Response> api_top_products(service::CatalogService& svc, RequestContext& ctx) {
  Stopwatch total;
  auto limit = int_param(ctx.url, "limit", 10, 1, max_top_products);
  if (auto e = error_of(limit)) co_return error_response(*e);
  auto bypass = bypass_param(ctx.url);
  if (auto e = error_of(bypass)) co_return error_response(*e);
  auto answer = co_await svc.top_products(static_cast<int>(std::get<std::int64_t>(limit)), mode_of(bypass));
  co_return rendered(answer, total);
}

// One read for /api/compare, resolved from the query string before anything runs.
struct CompareTarget {
  std::string endpoint;
  std::int64_t id = 1;
  std::string q;
  std::int64_t limit = 10;
};

Parsed<CompareTarget> compare_target(boost::urls::url_view url) {
  CompareTarget t;
  auto endpoint = query_param(url, "endpoint");
  if (!endpoint) {
    return ParamError{"invalid_endpoint",
                      "endpoint is required: categories, search, top-products or product"};
  }
  t.endpoint = std::move(*endpoint);
  if (t.endpoint == "product") {
    auto id = parse_id(query_param(url, "id").value_or("1"));
    if (auto e = error_of(id)) return *e;
    t.id = std::get<std::int64_t>(id);
  } else if (t.endpoint == "search") {
    auto q = search_query(url);
    if (auto e = error_of(q)) return *e;
    t.q = std::get<std::string>(q);
  } else if (t.endpoint == "top-products") {
    auto limit = int_param(url, "limit", 10, 1, max_top_products);
    if (auto e = error_of(limit)) return *e;
    t.limit = std::get<std::int64_t>(limit);
  } else if (t.endpoint != "categories") {
    return ParamError{"invalid_endpoint",
                      "endpoint must be one of: categories, search, top-products, product"};
  }
  return t;
}

awaitable<Result<service::Answer>> read_target(service::CatalogService& svc, const CompareTarget& t,
                                               CacheMode mode) {
  Result<service::Answer> answer = make_error(ErrorKind::internal, "no endpoint");
  if (t.endpoint == "product") {
    answer = co_await svc.product(t.id, mode);
  } else if (t.endpoint == "search") {
    std::string q = t.q;
    answer = co_await svc.search(std::move(q), 10, 0, mode);
  } else if (t.endpoint == "top-products") {
    answer = co_await svc.top_products(static_cast<int>(t.limit), mode);
  } else {
    answer = co_await svc.categories(mode);
  }
  co_return answer;
}

// Runs the read straight against PostgreSQL, then through the cache, and reports both timings.
awaitable<Response> api_compare(service::CatalogService& svc, RequestContext& ctx) {
  auto target = compare_target(ctx.url);
  if (auto e = error_of(target)) co_return error_response(*e);
  const auto& t = std::get<CompareTarget>(target);

  Stopwatch db_time;
  auto direct = co_await read_target(svc, t, CacheMode::bypass);
  const double db_ms = db_time.elapsed_ms();
  if (!direct) co_return error_response(direct.error());
  if (direct->not_found) co_return error_response(http::status::not_found, "not_found", "no such product");
  Stopwatch cache_time;
  auto cached = co_await read_target(svc, t, CacheMode::use);
  const double cache_ms = cache_time.elapsed_ms();
  if (!cached) co_return error_response(cached.error());

  std::string body;
  JsonWriter w(body);
  w.begin_object().field("endpoint", t.endpoint);
  w.key("database")
      .begin_object()
      .key("fetch_time_ms")
      .number(db_ms, 3)
      .field("source", "database")
      .end_object();
  w.key("cache").begin_object().key("fetch_time_ms").number(cache_ms, 3);
  w.field("source", cached->source == service::Source::cache ? "cache" : "database");
  if (cached->ttl_ms) w.field("ttl_remaining_s", (*cached->ttl_ms + 999) / 1000);
  if (cached->cache_unavailable) w.field("cache", "unavailable");
  w.end_object();
  w.key("speedup").number(db_ms / std::max(cache_ms, 0.001), 2);
  w.field("same_data", direct->body == cached->body);
  w.key("data").raw(cached->body);
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// The app's counters and Redis's figures, written the same way by /cache/stats and /api/stats.
void write_app_counters(JsonWriter& w, const service::CounterSnapshot& a) {
  w.begin_object()
      .field("hits", a.hits)
      .field("misses", a.misses)
      .key("hit_rate")
      .number(a.hit_rate(), 4)
      .field("db_queries", a.db_queries)
      .field("redis_errors", a.redis_errors)
      .field("stampede_suppressed", a.stampede_suppressed)
      .field("lease_waits", a.lease_waits)
      .field("invalidations", a.invalidations)
      .field("invalidations_pending", a.invalidations_pending)
      .end_object();
}

void write_redis_stats(JsonWriter& w, const std::optional<service::RedisStats>& redis) {
  if (!redis) {
    w.null();
    return;
  }
  const auto& r = *redis;
  w.begin_object()
      .field("keyspace_hits", r.keyspace_hits)
      .field("keyspace_misses", r.keyspace_misses)
      .key("hit_rate")
      .number(r.hit_rate(), 4)
      .field("used_memory", r.used_memory)
      .field("used_memory_human", r.used_memory_human)
      .field("maxmemory", r.maxmemory)
      .field("maxmemory_policy", r.maxmemory_policy)
      .field("evicted_keys", r.evicted_keys)
      .field("expired_keys", r.expired_keys)
      .field("connected_clients", r.connected_clients)
      .field("total_commands_processed", r.total_commands_processed)
      .field("keys", r.keys)
      .end_object();
}

awaitable<Response> api_stats(service::CatalogService& svc, RequestContext&) {
  auto stats = co_await svc.cache_stats();
  if (!stats) co_return error_response(stats.error(), "cache");
  const auto& p = svc.policy();
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.key("app");
  write_app_counters(w, stats->app);
  w.key("redis");
  write_redis_stats(w, stats->redis);
  auto secs = [](std::chrono::milliseconds ms) { return static_cast<std::int64_t>(ms.count() / 1000); };
  w.field("cache", stats->redis ? "ok" : "unavailable");
  w.key("ttl_seconds")
      .begin_object()
      .field("product", secs(p.ttl))
      .field("products", secs(p.products_ttl))
      .field("categories", secs(p.categories_ttl))
      .field("search", secs(p.search_ttl))
      .field("top_products", secs(p.top_products_ttl))
      .end_object();
  w.key("policy")
      .begin_object()
      .field("write_policy",
             p.write_policy == service::WritePolicy::write_through ? "write-through" : "invalidate")
      .key("ttl_jitter")
      .number(p.ttl_jitter, 2)
      .field("negative_ttl_seconds", secs(p.negative_ttl))
      .field("lease_ms", static_cast<std::int64_t>(p.lease_ttl.count()))
      .end_object();
  w.key("ttl_distribution");
  if (auto h = co_await svc.ttl_histogram()) {
    w.begin_array();
    std::int64_t lower = 0;
    for (std::size_t i = 0; i < h->counts.size(); ++i) {
      w.begin_object().field("from_s", lower / 1000);
      if (i < h->upper_edges_ms.size()) {
        w.field("to_s", h->upper_edges_ms[i] / 1000);
        lower = h->upper_edges_ms[i];
      } else {
        w.key("to_s").null();
      }
      w.field("keys", h->counts[i]).end_object();
    }
    w.end_array();
  } else {
    w.null();
  }
  w.field("db_delay_ms", p.db_delay_ms);
  if (p.db_delay_ms > 0) {
    w.field("db_delay_note", "simulated: every database read waits this long first (--db-delay-ms)");
  }
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

awaitable<Response> cache_stats(service::CatalogService& svc, RequestContext&) {
  auto stats = co_await svc.cache_stats();
  if (!stats) co_return error_response(stats.error(), "cache");
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("cache_stats");
  write_redis_stats(w, stats->redis);
  w.key("app");
  write_app_counters(w, stats->app);
  w.field("cache", stats->redis ? "ok" : "unavailable");
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// GET /api/cache/keys?match=product:*&cursor=0&count=50 — one SCAN step over our namespace, with type, size,
// TTL.
awaitable<Response> api_cache_keys(service::CatalogService& svc, RequestContext& ctx) {
  const auto match = query_param(ctx.url, "match").value_or("*");
  if (match.empty() || match.size() > 100 ||
      match.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:*?=_.-{} ") !=
          std::string::npos) {
    co_return error_response(
        http::status::bad_request, "invalid_match",
        "match is a pattern of letters, digits and : * ? = _ . - { } (1 to 100 characters)");
  }
  const auto cursor = query_param(ctx.url, "cursor").value_or("0");
  if (cursor.empty() || cursor.size() > 20 || cursor.find_first_not_of("0123456789") != std::string::npos) {
    co_return error_response(http::status::bad_request, "invalid_cursor",
                             "cursor is the number the last page returned");
  }
  auto count = int_param(ctx.url, "count", 50, 1, 200);
  if (auto e = error_of(count)) co_return error_response(*e);
  auto page = co_await svc.browse_keys(match, cursor, static_cast<int>(std::get<std::int64_t>(count)));
  if (!page) co_return error_response(page.error(), "cache");
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("cursor", page->cursor).field("done", page->cursor == "0").key("keys").begin_array();
  for (const auto& k : page->keys) {
    w.begin_object()
        .field("key", k.key)
        .field("type", k.type)
        .field("size_bytes", k.size_bytes)
        .field("ttl_ms", k.ttl_ms)
        .end_object();
  }
  w.end_array().end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// GET /api/cache/key?name=… — one key's value (as a JSON string), type and TTL.
awaitable<Response> api_cache_key(service::CatalogService& svc, RequestContext& ctx) {
  const auto name = query_param(ctx.url, "name");
  if (!name) co_return error_response(http::status::bad_request, "invalid_name", "name is required");
  auto value = co_await svc.read_key(*name);
  if (!value) co_return error_response(value.error(), "cache");
  if (!*value) co_return error_response(http::status::not_found, "not_found", "no such key");
  std::string body;
  JsonWriter w(body);
  w.begin_object()
      .field("key", *name)
      .field("type", (*value)->type)
      .field("ttl_ms", (*value)->ttl_ms)
      .field("value", (*value)->value)
      .end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// DELETE /api/cache/key?name=… (admin)
awaitable<Response> api_delete_cache_key(service::CatalogService& svc, RequestContext& ctx,
                                         const ApiOptions& options) {
  if (auto denied = deny_unless_admin(ctx, options)) co_return std::move(*denied);
  const auto name = query_param(ctx.url, "name");
  if (!name) co_return error_response(http::status::bad_request, "invalid_name", "name is required");
  auto erased = co_await svc.delete_key(*name);
  if (!erased) co_return error_response(erased.error(), "cache");
  if (!*erased) co_return error_response(http::status::not_found, "not_found", "no such key");
  co_return json_response(http::status::ok, fmt::format("{{\"deleted\":{}}}", [&] {
                            std::string q;
                            append_json_string(q, *name);
                            return q;
                          }()));
}

// GET /api/explain?endpoint=categories — EXPLAIN (ANALYZE, BUFFERS) of the server's own statements for it.
awaitable<Response> api_explain(service::CatalogService& svc, RequestContext& ctx) {
  const auto endpoint = query_param(ctx.url, "endpoint");
  // The endpoints that can be explained are exactly those of the fixed query set in db/.
  std::vector<std::string_view> known;
  for (const auto& q : db::explainable_queries()) {
    if (std::find(known.begin(), known.end(), q.endpoint) == known.end()) known.push_back(q.endpoint);
  }
  if (!endpoint) {  // no endpoint: the list, so a client can offer the choice
    std::string body;
    JsonWriter w(body);
    w.begin_object().key("endpoints").begin_array();
    for (auto e : known) w.value(e);
    w.end_array().end_object();
    co_return json_response(http::status::ok, std::move(body));
  }
  if (std::find(known.begin(), known.end(), *endpoint) == known.end()) {
    co_return error_response(http::status::bad_request, "invalid_endpoint",
                             fmt::format("endpoint must be one of: {}", fmt::join(known, ", ")));
  }
  auto plans = co_await svc.explain(*endpoint);
  if (!plans) co_return error_response(plans.error());
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("endpoint", *endpoint).key("queries").begin_array();
  for (const auto& p : *plans) {
    w.begin_object().field("sql", p.sql).key("parameters").begin_array();
    for (const auto& v : p.params) w.value(v);
    w.end_array().field("plan", p.plan).end_object();
  }
  w.end_array().end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// DELETE /cache/clear and POST /api/flush-cache: one implementation. Neither takes a body.
awaitable<Response> clear_cache(service::CatalogService& svc, RequestContext& ctx,
                                const ApiOptions& options) {
  if (auto denied = deny_unless_admin(ctx, options)) co_return std::move(*denied);
  if (!ctx.request.body().empty()) {
    co_return error_response(http::status::bad_request, "unexpected_body",
                             "this endpoint takes no request body");
  }
  auto cleared = co_await svc.clear_cache();
  if (!cleared) co_return error_response(cleared.error(), "cache");
  // `message` is what the seeds' pages show after a flush.
  co_return json_response(http::status::ok,
                          fmt::format(R"({{"cleared_keys":{},"message":"cleared {} key{}"}})", *cleared,
                                      *cleared, *cleared == 1 ? "" : "s"));
}

awaitable<Response> health(RequestContext&) {
  co_return json_response(http::status::ok, R"({"status":"ok"})");
}

awaitable<Response> ready(std::shared_ptr<service::CatalogService> svc, RequestContext&,
                          const ApiOptions& options) {
  if (options.draining && options.draining->load()) {
    co_return json_response(http::status::service_unavailable,
                            R"({"status":"draining","error":{"code":"draining","message":"shutting down"},)"
                            R"("detail":"shutting down"})");
  }
  auto r = co_await svc->readiness();
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
        .end_object()
        .field("detail", "PostgreSQL is not answering");
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

Response render_answer(const service::Answer& a, double fetch_time_ms, std::string_view not_found_message) {
  const bool hit = a.source == service::Source::cache;
  auto set_cache_headers = [&](Response& res) {
    res.set("X-Cache", hit ? "HIT" : (a.bypassed ? "BYPASS" : "MISS"));
    res.set("Cache-Status", cache_status(a));
    res.set("Server-Timing", fmt::format("redis;dur={:.3f}, db;dur={:.3f}, total;dur={:.3f}",
                                         a.timings.redis_ms, a.timings.db_ms, fetch_time_ms));
  };
  if (a.not_found) {
    auto res = error_response(http::status::not_found, "not_found", not_found_message);
    set_cache_headers(res);
    return res;
  }
  std::string body;
  body.reserve(a.body.size() + 96);
  // The stored value is a JSON object; splice our fields in before its closing brace instead of parsing it.
  body.append(a.body, 0, a.body.size() - 1);
  body += hit ? R"(,"source":"cache")" : R"(,"source":"database")";
  body += ",\"fetch_time_ms\":";
  fmt::format_to(std::back_inserter(body), "{:.3f}", fetch_time_ms);
  // On a hit what the entry has left; on a miss that stored the answer, the TTL it was stored with.
  if (a.ttl_ms) fmt::format_to(std::back_inserter(body), ",\"ttl_remaining_s\":{}", (*a.ttl_ms + 999) / 1000);
  if (a.cache_unavailable) body += R"(,"cache":"unavailable")";
  body += '}';

  auto res = json_response(http::status::ok, std::move(body));
  res.set("X-Cache", hit ? "HIT" : (a.bypassed ? "BYPASS" : "MISS"));
  res.set("Cache-Status", cache_status(a));
  res.set("Server-Timing", fmt::format("redis;dur={:.3f}, db;dur={:.3f}, total;dur={:.3f}",
                                       a.timings.redis_ms, a.timings.db_ms, fetch_time_ms));
  return res;
}

void add_routes(Router& router, std::shared_ptr<service::CatalogService> svc, const ApiOptions& options) {
  using http::verb;
  router.set_cors(options.cors);
  auto with = [svc](auto fn) { return [svc, fn](RequestContext& ctx) { return fn(*svc, ctx); }; };
  auto clear = [svc, options](RequestContext& ctx) { return clear_cache(*svc, ctx, options); };
  router.add(verb::get, "/api", "This list of endpoints (the dashboard is at /)",
             [&router](RequestContext& ctx) { return index(router, ctx); });
  router.add(verb::get, "/health", "Liveness: answers without touching any backend", health);
  router.add(
      verb::get, "/ready",
      "Readiness: 503 when PostgreSQL is unreachable or the server is draining; Redis down is 'degraded'",
      [svc, options](RequestContext& ctx) { return ready(svc, ctx, options); });
  router.add(verb::get, "/products", "A page of products: ?limit=1..100 (10) &offset=0.. &cache=bypass",
             with(list_products));
  router.add(verb::get, "/products/{id}", "One product, cache-aside; ?cache=bypass reads PostgreSQL only",
             with(get_product));
  router.add(verb::get, "/cache/stats", "Redis's counters and the app's own hit/miss counters",
             with(cache_stats));
  router.add(verb::delete_, "/cache/clear",
             "Delete our keys (SCAN + UNLINK) and reset the app's counters (admin)", clear);
  router.add(verb::get, "/api/categories",
             "Per-category product/review counts, average rating, COUNT/AVG/MIN/MAX price (cached)",
             with(api_categories));
  router.add(
      verb::get, "/api/products",
      "Search names and descriptions: ?q= (1..100 chars) &limit=1..100 &offset= (cached per normalised q)",
      with(api_search));
  router.add(verb::get, "/api/top-products",
             "Top-rated products (>= 5 reviews), ranked overall and within category: ?limit=1..50 (cached)",
             with(api_top_products));
  router.add(verb::post, "/api/flush-cache", "Same as DELETE /cache/clear (admin)", clear);
  router.add(verb::get, "/api/stats",
             "App and Redis hit rates, memory, evictions, keys, TTLs, simulated delay", with(api_stats));
  router.add(
      verb::get, "/api/compare",
      "Database vs cache timing: ?endpoint=categories|search|top-products|product (&q=, &id=, &limit=)",
      with(api_compare));
  router.add(
      verb::get, "/api/cache/keys",
      "Cache browser: one SCAN step of our keys with type, size, TTL (?match=, ?cursor=, ?count=1..200)",
      with(api_cache_keys));
  router.add(verb::get, "/api/cache/key", "One key's value, type and TTL (?name=cachelab:v1:...)",
             with(api_cache_key));
  router.add(verb::delete_, "/api/cache/key", "Delete one key of ours (?name=cachelab:v1:...) (admin)",
             [svc, options](RequestContext& ctx) { return api_delete_cache_key(*svc, ctx, options); });
  router.add(verb::get, "/api/explain",
             "Query inspector: the SQL behind ?endpoint= and its EXPLAIN (ANALYZE, BUFFERS), fixed queries "
             "only; no ?endpoint= lists them",
             with(api_explain));
  add_write_routes(router, svc, options);
}

}  // namespace cachelab::api

// The cache and the database, looked at and managed: /api/stats and /cache/stats, the cache browser
// (/api/cache/keys, /api/cache/key), the query inspector (/api/explain), and the flush.
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/render.hpp"
#include "service/admin_service.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace cachelab::api {

using boost::asio::awaitable;

namespace {

// The app's counters and Redis's figures, written the same way by /cache/stats and /api/stats.
void write_app_counters(JsonWriter& w, const service::CounterSnapshot& a) {
  w.begin_object()
      .field("hits", a.hits)
      .field("misses", a.misses)
      .field("collapsed", a.collapsed)
      .key("hit_rate")
      .number(a.hit_rate(), 4)
      .field("db_queries", a.db_queries)
      .field("redis_errors", a.redis_errors)
      .field("stampede_suppressed", a.stampede_suppressed)
      .field("lease_waits", a.lease_waits)
      .field("invalidations", a.invalidations)
      .field("invalidations_pending", a.invalidations_pending)
      .field("ms_since_redis_error", a.ms_since_redis_error);
  w.field("near_hits", a.near_hits).key("near_cache");
  if (!a.near) {
    w.null();
  } else {
    const auto& n = *a.near;
    w.begin_object()
        .field("listening", n.listening)
        .field("max_bytes", n.max_bytes)
        .field("bytes", n.bytes)
        .field("entries", n.entries)
        .field("hits", n.hits)
        .field("misses", n.misses)
        .key("hit_rate")
        .number(
            n.hits + n.misses > 0 ? static_cast<double>(n.hits) / static_cast<double>(n.hits + n.misses) : 0,
            4)
        .field("evictions", n.evictions)
        .field("invalidated", n.invalidated)
        .field("refused", n.refused)
        .field("flushes", n.flushes)
        .field("invalidation_messages", n.invalidation_messages)
        .field("invalidated_keys", n.invalidated_keys)
        .key("invalidation_lag")
        .begin_object()
        .field("samples", n.lag_samples)
        .field("lost", n.lag_lost)
        .field("deaf_periods", n.deaf_periods)
        .key("last_ms")
        .number(n.lag_last_ms, 3)
        .key("p50_ms")
        .number(n.lag_p50_ms, 3)
        .key("max_ms")
        .number(n.lag_max_ms, 3)
        .end_object()
        .end_object();
  }
  w.end_object();
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
      .field("masters", r.masters)
      .end_object();
}

void write_policy(JsonWriter& w, const service::Policy& p) {
  auto secs = [](std::chrono::milliseconds ms) { return static_cast<std::int64_t>(ms.count() / 1000); };
  w.key("ttl_seconds")
      .begin_object()
      .field("product", secs(p.product_ttl))
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
}

void write_ttl_histogram(JsonWriter& w, const Result<service::TtlHistogram>& h) {
  if (!h) {
    w.null();
    return;
  }
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
}

}  // namespace

awaitable<Response> api_stats(const Api& api, RequestContext&) {
  auto& admin = *api.services.admin;
  auto stats = co_await admin.cache_stats();
  auto histogram = co_await admin.ttl_histogram();
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.key("app");
  write_app_counters(w, stats.app);
  w.key("redis");
  write_redis_stats(w, stats.redis);
  w.field("cache", stats.state());
  write_policy(w, admin.policy());
  w.key("ttl_distribution");
  write_ttl_histogram(w, histogram);
  w.field("db_delay_ms", api.options.db_delay_ms);
  if (api.options.db_delay_ms > 0) {
    w.field("db_delay_note", "simulated: every database read waits this long first (--db-delay-ms)");
  }
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

awaitable<Response> cache_stats(const Api& api, RequestContext&) {
  auto stats = co_await api.services.admin->cache_stats();
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("cache_stats");
  write_redis_stats(w, stats.redis);
  w.key("app");
  write_app_counters(w, stats.app);
  w.field("cache", stats.state());
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// GET /api/cache/keys?match=product:*&cursor=0&count=50 — one SCAN step over our namespace.
awaitable<Response> browse_keys(const Api& api, RequestContext& ctx) {
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
  if (!count) co_return error_response(count.error());
  auto page = co_await api.services.admin->browse_keys(match, cursor, static_cast<int>(*count));
  if (!page) co_return error_response(page.error());
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
awaitable<Response> read_key(const Api& api, RequestContext& ctx) {
  const auto name = query_param(ctx.url, "name");
  if (!name) co_return error_response(http::status::bad_request, "invalid_name", "name is required");
  auto value = co_await api.services.admin->read_key(*name);
  if (!value) co_return error_response(value.error());
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

// DELETE /api/cache/key?name=…
awaitable<Response> delete_key(const Api& api, RequestContext& ctx) {
  const auto name = query_param(ctx.url, "name");
  if (!name) co_return error_response(http::status::bad_request, "invalid_name", "name is required");
  auto erased = co_await api.services.admin->delete_key(*name);
  if (!erased) co_return error_response(erased.error());
  if (!*erased) co_return error_response(http::status::not_found, "not_found", "no such key");
  std::string body;
  JsonWriter(body).begin_object().field("deleted", *name).end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// GET /api/explain?endpoint=categories — EXPLAIN (ANALYZE, BUFFERS) of the server's own statements for it;
// without an endpoint, the list of those that can be explained.
awaitable<Response> explain(const Api& api, RequestContext& ctx) {
  const auto endpoint = query_param(ctx.url, "endpoint");
  const auto known = service::AdminService::explainable_endpoints();
  if (!endpoint) {
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
  auto plans = co_await api.services.admin->explain(*endpoint);
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
awaitable<Response> clear_cache(const Api& api, RequestContext& ctx) {
  if (!ctx.request.body().empty()) {
    co_return error_response(http::status::bad_request, "unexpected_body",
                             "this endpoint takes no request body");
  }
  auto cleared = co_await api.services.admin->clear_cache();
  if (!cleared) co_return error_response(cleared.error());
  // `message` is what the seeds' pages show after a flush.
  co_return json_response(http::status::ok,
                          fmt::format(R"({{"cleared_keys":{},"message":"cleared {} key{}"}})", *cleared,
                                      *cleared, *cleared == 1 ? "" : "s"));
}

}  // namespace cachelab::api

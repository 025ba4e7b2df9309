// Liveness (/health, touches no backend), readiness (/ready: PostgreSQL answering and not draining), the
// endpoint list (/api, from the endpoint table), and the Prometheus metrics (/metrics).
#include "api/handlers.hpp"
#include "core/json_writer.hpp"
#include "core/metrics.hpp"
#include "service/admin_service.hpp"

namespace cachelab::api {

using boost::asio::awaitable;

awaitable<Response> health(const Api&, RequestContext&) {
  co_return json_response(http::status::ok, R"({"status":"ok"})");
}

awaitable<Response> ready(const Api& api, RequestContext&) {
  if (api.options.draining && api.options.draining->load()) {
    co_return json_response(http::status::service_unavailable,
                            R"({"status":"draining","error":{"code":"draining","message":"shutting down"},)"
                            R"("detail":"shutting down"})");
  }
  auto r = co_await api.services.admin->readiness();
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

awaitable<Response> index(const Api&, RequestContext&) {
  std::string body;
  JsonWriter w(body);
  w.begin_object().field("name", "cachelab").key("endpoints").begin_array();
  for (const auto& e : endpoints()) {
    w.begin_object()
        .field("method", std::string_view(http::to_string(e.method)))
        .field("path", e.path)
        .field("summary", e.summary)
        .end_object();
  }
  w.end_array().end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// Everything the process recorded (core/metrics), then Redis's own figures from INFO (on a cluster, summed
// over the masters): they are Redis's, not this process's, so they are read at scrape time rather than kept.
awaitable<Response> metrics(const Api& api, RequestContext&) {
  if (!api.options.metrics) co_return error_response(http::status::not_found, "not_found", "metrics are off");
  const auto stats = co_await api.services.admin->cache_stats(false);
  std::string body = api.options.metrics->expose();
  metrics::Writer w(body);
  w.single("cachelab_redis_up", "1 when Redis answered this scrape's INFO, else 0.", "gauge",
           stats.redis ? 1 : 0);
  if (const auto& r = stats.redis) {
    w.single("cachelab_redis_used_memory_bytes", "Redis's used_memory.", "gauge",
             static_cast<double>(r->used_memory));
    w.single("cachelab_redis_maxmemory_bytes", "Redis's maxmemory (0: no limit).", "gauge",
             static_cast<double>(r->maxmemory));
    w.single("cachelab_redis_evicted_keys_total", "Keys Redis evicted for maxmemory (since Redis started).",
             "counter", static_cast<double>(r->evicted_keys));
    w.single("cachelab_redis_expired_keys_total", "Keys Redis expired (since Redis started).", "counter",
             static_cast<double>(r->expired_keys));
    w.single("cachelab_redis_keyspace_hits_total",
             "Redis's keyspace hits, every client's (since Redis started).", "counter",
             static_cast<double>(r->keyspace_hits));
    w.single("cachelab_redis_keyspace_misses_total",
             "Redis's keyspace misses, every client's (since Redis started).", "counter",
             static_cast<double>(r->keyspace_misses));
    w.single("cachelab_redis_connected_clients", "Clients connected to Redis, every process's.", "gauge",
             static_cast<double>(r->connected_clients));
    w.single(
        "cachelab_redis_masters",
        "Redis masters the figures above are summed over (1: one node; a cluster's masters that answered).",
        "gauge", static_cast<double>(r->masters));
  }
  Response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  co_return res;
}

}  // namespace cachelab::api

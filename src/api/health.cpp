// Liveness (/health, touches no backend), readiness (/ready: PostgreSQL answering and not draining), and the
// endpoint list (/api, from the endpoint table).
#include "api/handlers.hpp"
#include "core/json_writer.hpp"
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

}  // namespace cachelab::api

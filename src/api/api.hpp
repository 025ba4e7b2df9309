// api/api: cachelab's HTTP API as the rest of the program sees it — the endpoint table (api/routes.cpp), what
// its handlers need (the services and the options), and the one call that registers it on a Router.
// Never listens or parses HTTP itself (http/ does), never caches or queries (service/ does).
#pragma once

#include "api/cors.hpp"
#include "api/request_metrics.hpp"
#include "api/router.hpp"

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace cachelab::service {
class AdminService;
class CatalogService;
}  // namespace cachelab::service
namespace cachelab::lab {
class Lab;
}  // namespace cachelab::lab

namespace cachelab::api {

struct ApiOptions {
  std::string admin_token;  // empty: writes only from loopback
  // Set when the process is shutting down: /ready answers 503 so load balancers stop sending traffic.
  std::shared_ptr<const std::atomic<bool>> draining;
  CorsPolicy cors;      // which other origins' pages may read answers (and write, with the other checks)
  int db_delay_ms = 0;  // the simulated database latency, shown by /api/stats so nobody mistakes it for cost
  // What GET /metrics writes out (with Redis's own figures), and where every request is counted by route;
  // null: GET /metrics answers 404 and nothing is counted.
  std::shared_ptr<const metrics::Registry> metrics;
  std::shared_ptr<RequestMetrics> request_metrics;
};

// The services one I/O thread's handlers call (the lab is one for the whole process; it locks inside).
struct Services {
  std::shared_ptr<service::CatalogService> catalog;
  std::shared_ptr<service::AdminService> admin;
  std::shared_ptr<lab::Lab> lab;
};

// Who may call an endpoint: anyone, or only an admin (api/access: the bearer token, or loopback without one).
enum class Access { open, admin };

// One row of the endpoint table, as `cachelab routes`, GET /api and the docs show it.
struct EndpointInfo {
  http::verb method;
  std::string_view path;  // a Router pattern, e.g. "/products/{id}"
  Access access;
  std::string_view summary;
};

// Every endpoint, in the table's order.
std::span<const EndpointInfo> endpoints();

// Registers every endpoint of the table on `router`, served by `services` (set the CORS policy too).
void add_routes(Router& router, Services services, ApiOptions options);

}  // namespace cachelab::api

// The endpoint table: every endpoint of cachelab, by method and path, with who may call it and its handler.
// Find an endpoint here by its path, then its handler in the file handlers.hpp names. GET /api,
// `cachelab routes`, the README's API table and the deploy checks are all read from this one table.
#include "api/access.hpp"
#include "api/handlers.hpp"

#include <array>

namespace cachelab::api {
namespace {

using http::verb;

struct Endpoint {
  EndpointInfo info;
  HandlerFn handler;
};

constexpr Access open = Access::open;
constexpr Access admin = Access::admin;

boost::asio::awaitable<Response> answered(Response res) {
  co_return res;
}

const std::array table = {
    Endpoint{{verb::get, "/api", open, "This list of endpoints (the dashboard is at /)"}, index},
    Endpoint{{verb::get, "/health", open, "Liveness: answers without touching any backend"}, health},
    Endpoint{{verb::get, "/openapi.json", open,
              "OpenAPI 3.1 description of every endpoint: parameters, bodies, answers and the error shape"},
             openapi},
    Endpoint{{verb::get, "/metrics", open,
              "Prometheus metrics (text format 0.0.4): requests, cache outcomes, pools, Redis, the process"},
             metrics},
    Endpoint{
        {verb::get, "/ready", open,
         "Readiness: 503 when PostgreSQL is unreachable or the server is draining; Redis down is 'degraded'"},
        ready},
    // Products: cache-aside reads, and writes that invalidate.
    Endpoint{
        {verb::get, "/products", open, "A page of products: ?limit=1..100 (10) &offset=0.. &cache=bypass"},
        list_products},
    Endpoint{
        {verb::get, "/products/{id}", open, "One product, cache-aside; ?cache=bypass reads PostgreSQL only"},
        get_product},
    Endpoint{
        {verb::post, "/products", admin, "Create a product: {name, description?, price, category} (admin)"},
        create_product},
    Endpoint{{verb::put, "/products/{id}", admin,
              "Replace a product: {name, description?, price, category} (admin)"},
             put_product},
    Endpoint{{verb::patch, "/products/{id}", admin, "Change some fields of a product (admin)"},
             patch_product},
    Endpoint{{verb::delete_, "/products/{id}", admin, "Delete a product and its reviews (admin)"},
             delete_product},
    // The cache, looked at and managed.
    Endpoint{{verb::get, "/cache/stats", open, "Redis's counters and the app's own hit/miss counters"},
             cache_stats},
    Endpoint{{verb::delete_, "/cache/clear", admin,
              "Delete our keys (SCAN + UNLINK) and reset the app's counters (admin)"},
             clear_cache},
    // The catalog analytics, cache-aside.
    Endpoint{{verb::get, "/api/categories", open,
              "Per-category product/review counts, average rating, COUNT/AVG/MIN/MAX price (cached)"},
             categories},
    Endpoint{{verb::get, "/api/products", open,
              "Search names and descriptions: ?q= (1..100 chars) &limit=1..100 &offset= (cached per "
              "normalised q)"},
             search},
    Endpoint{{verb::get, "/api/top-products", open,
              "Top-rated products (>= 5 reviews), ranked overall and within category: ?limit=1..50 (cached)"},
             top_products},
    Endpoint{{verb::post, "/api/flush-cache", admin, "Same as DELETE /cache/clear (admin)"}, clear_cache},
    Endpoint{{verb::get, "/api/stats", open,
              "App and Redis hit rates, memory, evictions, keys, TTLs, simulated delay"},
             api_stats},
    Endpoint{
        {verb::get, "/api/compare", open,
         "Database vs cache timing: ?endpoint=categories|search|top-products|product (&q=, &id=, &limit=)"},
        compare},
    Endpoint{
        {verb::get, "/api/cache/keys", open,
         "Cache browser: one SCAN step of our keys with type, size, TTL (?match=, ?cursor=, ?count=1..200)"},
        browse_keys},
    Endpoint{{verb::get, "/api/cache/key", open, "One key's value, type and TTL (?name=cachelab:{v1}:...)"},
             read_key},
    Endpoint{
        {verb::delete_, "/api/cache/key", admin, "Delete one key of ours (?name=cachelab:{v1}:...) (admin)"},
        delete_key},
    Endpoint{
        {verb::get, "/api/explain", open,
         "Query inspector: the SQL behind ?endpoint= and its EXPLAIN (ANALYZE, BUFFERS), fixed queries only; "
         "no ?endpoint= lists them"},
        explain},
    // The load lab: the load generator run by the server against itself, watched live.
    Endpoint{{verb::get, "/api/lab", open,
              "Load lab: its workloads, experiments, whether a job runs, and past results"},
             lab_overview},
    Endpoint{
        {verb::post, "/api/lab/runs", admin,
         "Start a load run: {workload, duration_seconds, connections? | rate?}; 409 while one runs (admin)"},
        lab_start_run},
    Endpoint{{verb::post, "/api/lab/experiments/{name}", admin,
              "Start an experiment (maxmemory, eviction-policy, ttl): {seconds_per_run?}; 409 while one runs "
              "(admin)"},
             lab_start_experiment},
    Endpoint{{verb::post, "/api/lab/stop", admin,
              "Stop the lab's run or experiment; settings are put back (admin)"},
             lab_stop},
    Endpoint{{verb::get, "/api/lab/events", open,
              "Server-sent events of the job under way: a point each second, each run's result, then done"},
             lab_events},
    // Demonstrations of the policy, run inside the server.
    Endpoint{
        {verb::post, "/api/demo/stampede", admin,
         "Expire a product's key and fire ?n= (500) concurrent reads at it; counts database queries (admin)"},
        demo_stampede},
    Endpoint{{verb::post, "/api/demo/stale-read", admin,
              "Cache a product, change its price, read it back through the cache: fresh? (admin)"},
             demo_stale_read},
};

std::array<EndpointInfo, table.size()> infos() {
  std::array<EndpointInfo, table.size()> out;
  for (std::size_t i = 0; i < table.size(); ++i) out[i] = table[i].info;
  return out;
}

}  // namespace

std::span<const EndpointInfo> endpoints() {
  static const auto all = infos();
  return all;
}

void add_routes(Router& router, Services services, ApiOptions options) {
  router.set_cors(options.cors);
  router.set_metrics(options.request_metrics);
  auto api = std::make_shared<const Api>(Api{std::move(services), std::move(options)});
  for (const auto& e : table) {
    router.add(e.info.method, std::string(e.info.path), std::string(e.info.summary),
               // Not a coroutine itself: the handler's coroutine is the one the router awaits.
               [api, &e](RequestContext& ctx) -> boost::asio::awaitable<Response> {
                 if (e.info.access == Access::admin) {
                   if (auto denied = deny_unless_admin(ctx, api->options))
                     return answered(std::move(*denied));
                 }
                 return e.handler(*api, ctx);
               });
  }
}

}  // namespace cachelab::api

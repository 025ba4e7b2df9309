// api/handlers: the handler of every endpoint, grouped by the file that holds it. Internal to api/: the
// endpoint table (api/routes.cpp) is the only caller. Each handler parses its parameters (api/params), calls
// one service, and renders the result; failures go through api/errors. None checks access: the table does.
#pragma once

#include "api/api.hpp"

#include <boost/asio/awaitable.hpp>

namespace cachelab::api {

// What every handler gets besides the request.
struct Api {
  Services services;
  ApiOptions options;
};

using HandlerFn = boost::asio::awaitable<Response> (*)(const Api&, RequestContext&);

// api/products.cpp — /products and /products/{id}: reads through the cache, and writes.
boost::asio::awaitable<Response> get_product(const Api&, RequestContext&);
boost::asio::awaitable<Response> list_products(const Api&, RequestContext&);
boost::asio::awaitable<Response> create_product(const Api&, RequestContext&);
boost::asio::awaitable<Response> put_product(const Api&, RequestContext&);
boost::asio::awaitable<Response> patch_product(const Api&, RequestContext&);
boost::asio::awaitable<Response> delete_product(const Api&, RequestContext&);

// api/catalog.cpp — the catalog analytics: categories, search, top products, and database vs cache compared.
boost::asio::awaitable<Response> categories(const Api&, RequestContext&);
boost::asio::awaitable<Response> search(const Api&, RequestContext&);
boost::asio::awaitable<Response> top_products(const Api&, RequestContext&);
boost::asio::awaitable<Response> compare(const Api&, RequestContext&);

// api/admin.cpp — the cache and the database looked at and managed: stats, the key browser, the query
// inspector and the flush.
boost::asio::awaitable<Response> api_stats(const Api&, RequestContext&);
boost::asio::awaitable<Response> cache_stats(const Api&, RequestContext&);
boost::asio::awaitable<Response> browse_keys(const Api&, RequestContext&);
boost::asio::awaitable<Response> read_key(const Api&, RequestContext&);
boost::asio::awaitable<Response> delete_key(const Api&, RequestContext&);
boost::asio::awaitable<Response> explain(const Api&, RequestContext&);
boost::asio::awaitable<Response> clear_cache(const Api&, RequestContext&);

// api/demos.cpp — the policy demonstrated inside the server: a stampede, and a read after a write.
boost::asio::awaitable<Response> demo_stampede(const Api&, RequestContext&);
boost::asio::awaitable<Response> demo_stale_read(const Api&, RequestContext&);

// api/lab.cpp — the load lab: its workloads and experiments, runs started and stopped, and live events (SSE).
boost::asio::awaitable<Response> lab_overview(const Api&, RequestContext&);
boost::asio::awaitable<Response> lab_start_run(const Api&, RequestContext&);
boost::asio::awaitable<Response> lab_start_experiment(const Api&, RequestContext&);
boost::asio::awaitable<Response> lab_stop(const Api&, RequestContext&);
boost::asio::awaitable<Response> lab_events(const Api&, RequestContext&);

// api/health.cpp — liveness, readiness, the endpoint list and the Prometheus metrics.
boost::asio::awaitable<Response> health(const Api&, RequestContext&);
boost::asio::awaitable<Response> ready(const Api&, RequestContext&);
boost::asio::awaitable<Response> index(const Api&, RequestContext&);
boost::asio::awaitable<Response> metrics(const Api&, RequestContext&);
// api/openapi.cpp — the OpenAPI 3.1 document of this table.
boost::asio::awaitable<Response> openapi(const Api&, RequestContext&);

}  // namespace cachelab::api

// The caching policy demonstrated inside the server: a stampede on one expired key (how many of n concurrent
// reads reach PostgreSQL), and a read right after a write (is it fresh?).
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/product_body.hpp"
#include "api/render.hpp"
#include "service/admin_service.hpp"
#include "service/catalog_service.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <cmath>

namespace cachelab::api {

namespace asio = boost::asio;
using boost::asio::awaitable;
using service::CacheMode;

// POST /api/demo/stampede?n=500&id=1: expire one product's key, then fire n concurrent reads of it inside
// this server, and report how many reached PostgreSQL. Counters are process-wide, so other traffic during the
// burst shows up too; on an otherwise idle server the answer is one query.
awaitable<Response> demo_stampede(const Api& api, RequestContext& ctx) {
  auto n = int_param(ctx.url, "n", 500, 1, 5000);
  if (!n) co_return error_response(n.error());
  auto id = int_param(ctx.url, "id", 1, 1, max_id);
  if (!id) co_return error_response(id.error());
  auto& catalog = *api.services.catalog;

  auto key = co_await api.services.admin->expire_product(*id);
  if (!key) co_return error_response(key.error());
  const auto before = catalog.counters()->snapshot();

  auto ex = co_await asio::this_coro::executor;
  struct Burst {
    std::int64_t left;
    std::int64_t ok = 0, from_cache = 0, collapsed = 0;
    asio::steady_timer done;
  };
  auto burst = std::make_shared<Burst>(Burst{*n, 0, 0, 0, asio::steady_timer(ex, std::chrono::seconds(30))});
  Stopwatch took;
  for (std::int64_t i = 0; i < *n; ++i) {
    asio::co_spawn(
        ex,
        [&catalog, id = *id, burst]() -> awaitable<void> {
          auto a = co_await catalog.product(id, CacheMode::use);
          if (a && !a->not_found) {
            ++burst->ok;
            burst->from_cache += is_hit(*a);
            burst->collapsed += a->collapsed;
          }
          if (--burst->left == 0) burst->done.cancel();
        },
        asio::detached);
  }
  boost::system::error_code ec;
  co_await burst->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  const auto after = catalog.counters()->snapshot();

  std::string body;
  JsonWriter w(body);
  w.begin_object()
      .field("key", *key)
      .field("requests", *n)
      .field("answered", burst->ok)
      .field("database_queries", after.db_queries - before.db_queries)
      .field("stampede_suppressed", after.stampede_suppressed - before.stampede_suppressed)
      .field("lease_waits", after.lease_waits - before.lease_waits)
      .field("served_from_cache", burst->from_cache)
      .key("duration_ms")
      .number(took.elapsed_ms(), 3)
      .end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// POST /api/demo/stale-read?id=1: cache a product, change its price, read it back through the cache.
awaitable<Response> demo_stale_read(const Api& api, RequestContext& ctx) {
  auto id_param = int_param(ctx.url, "id", 1, 1, max_id);
  if (!id_param) co_return error_response(id_param.error());
  const auto id = *id_param;
  auto& catalog = *api.services.catalog;

  auto warm = co_await catalog.product(id, CacheMode::use);  // make sure the old value is cached
  if (!warm) co_return error_response(warm.error());
  auto before = co_await catalog.product(id, CacheMode::use);
  if (!before) co_return error_response(before.error());
  if (before->not_found) co_return error_response(make_error(ErrorKind::not_found, "no such product"));
  auto old_doc = boost::json::parse(before->body);
  const double old_price = old_doc.at("price").to_number<double>();
  // Move the price by a cent (down when it would overflow), so the demo can run forever.
  const double new_price = old_price + (old_price >= max_price - 1 ? -0.01 : 0.01);
  model::ProductPatch patch;
  patch.price = fmt::format("{:.2f}", new_price);
  auto written = co_await catalog.update_product(id, std::move(patch));
  if (!written) co_return error_response(written.error());
  auto after = co_await catalog.product(id, CacheMode::use);
  if (!after) co_return error_response(after.error());
  auto new_doc = boost::json::parse(after->body);
  const double read_price = new_doc.at("price").to_number<double>();

  std::string body;
  JsonWriter w(body);
  w.begin_object().field("product_id", id);
  w.key("before")
      .begin_object()
      .key("price")
      .number(old_price, 2)
      .field("source", source_name(before->source));
  w.end_object();
  w.key("write").begin_object().key("price").number(new_price, 2);
  write_invalidation(w, written->cache);
  w.end_object();
  w.key("read_after_write").begin_object().key("price").number(read_price, 2);
  w.field("source", source_name(after->source)).end_object();
  w.field("fresh", std::abs(read_price - new_price) < 0.005);
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

}  // namespace cachelab::api

#include "api/writes.hpp"

#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/product_body.hpp"
#include "core/json_writer.hpp"
#include "core/stopwatch.hpp"
#include "model/product.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

namespace cachelab::api {
namespace {

using boost::asio::awaitable;
using service::CacheMode;
namespace asio = boost::asio;

// Writes the cache side of a write's outcome into an open JSON object.
void write_cache_outcome(JsonWriter& w, const service::WriteOutcome& o) {
  w.field("cache", o.invalidation_pending ? "invalidation_pending"
                                          : (o.written_through ? "written_through" : "invalidated"));
  w.key("invalidated_keys").begin_array();
  for (const auto& k : o.invalidated) w.value(k);
  w.end_array();
}

Response write_response(http::status status, const service::WriteOutcome& o) {
  std::string body;
  if (o.product) {
    body = model::to_json(*o.product);
    body.pop_back();  // splice the cache outcome into the product object
    std::string tail;
    JsonWriter w(tail);
    w.begin_object();
    write_cache_outcome(w, o);
    w.end_object();
    body += ',';
    body.append(tail, 1);
  } else {
    JsonWriter w(body);
    w.begin_object();
    write_cache_outcome(w, o);
    w.end_object();
  }
  return json_response(status, std::move(body));
}

awaitable<Response> create_product(service::CatalogService& svc, RequestContext& ctx) {
  auto patch = parse_product_body(ctx.request.body(), BodyKind::full);
  if (auto e = error_of(patch)) co_return error_response(*e);
  auto& p = std::get<model::ProductPatch>(patch);
  model::ProductDraft draft{*p.name, *p.description, *p.price, *p.category};
  auto outcome = co_await svc.create_product(std::move(draft));
  if (!outcome) co_return error_response(outcome.error());
  auto res = write_response(http::status::created, *outcome);
  res.set(http::field::location, fmt::format("/products/{}", outcome->product->id));
  co_return res;
}

awaitable<Response> update_product(service::CatalogService& svc, RequestContext& ctx, BodyKind kind) {
  auto id = parse_id(ctx.path_param("id"));
  if (auto e = error_of(id)) co_return error_response(*e);
  auto patch = parse_product_body(ctx.request.body(), kind);
  if (auto e = error_of(patch)) co_return error_response(*e);
  auto outcome =
      co_await svc.update_product(std::get<std::int64_t>(id), std::get<model::ProductPatch>(patch));
  if (!outcome) co_return error_response(outcome.error());
  co_return write_response(http::status::ok, *outcome);
}

awaitable<Response> put_product(service::CatalogService& svc, RequestContext& ctx) {
  auto res = co_await update_product(svc, ctx, BodyKind::full);
  co_return res;
}

awaitable<Response> patch_product(service::CatalogService& svc, RequestContext& ctx) {
  auto res = co_await update_product(svc, ctx, BodyKind::partial);
  co_return res;
}

awaitable<Response> delete_product(service::CatalogService& svc, RequestContext& ctx) {
  auto id = parse_id(ctx.path_param("id"));
  if (auto e = error_of(id)) co_return error_response(*e);
  if (!ctx.request.body().empty()) {
    co_return error_response(http::status::bad_request, "unexpected_body", "DELETE takes no request body");
  }
  auto outcome = co_await svc.remove_product(std::get<std::int64_t>(id));
  if (!outcome) co_return error_response(outcome.error());
  auto res = write_response(http::status::ok, *outcome);
  auto& body = res.body();
  body.insert(1, fmt::format("\"deleted\":{},", std::get<std::int64_t>(id)));
  co_return res;
}

// POST /api/demo/stampede?n=500&id=1: expire one product's key, then fire n concurrent reads of it inside
// this server, and report how many reached PostgreSQL. Counters are process-wide, so other traffic during the
// burst shows up too; on an otherwise idle server the answer is one query.
awaitable<Response> demo_stampede(service::CatalogService& svc, RequestContext& ctx) {
  auto n = int_param(ctx.url, "n", 500, 1, 5000);
  if (auto e = error_of(n)) co_return error_response(*e);
  auto id_param = int_param(ctx.url, "id", 1, 1, max_id);
  if (auto e = error_of(id_param)) co_return error_response(*e);
  const auto requests = std::get<std::int64_t>(n);
  const auto id = std::get<std::int64_t>(id_param);

  auto expired = co_await svc.expire_product(id);
  if (!expired) co_return error_response(expired.error(), "cache");
  const auto before = svc.counters()->snapshot();

  auto ex = co_await asio::this_coro::executor;
  struct Burst {
    std::int64_t left;
    std::int64_t ok = 0, from_cache = 0, collapsed = 0;
    asio::steady_timer done;
  };
  auto burst =
      std::make_shared<Burst>(Burst{requests, 0, 0, 0, asio::steady_timer(ex, std::chrono::seconds(30))});
  Stopwatch took;
  for (std::int64_t i = 0; i < requests; ++i) {
    asio::co_spawn(
        ex,
        [&svc, id, burst]() -> awaitable<void> {
          auto a = co_await svc.product(id, CacheMode::use);
          if (a && !a->not_found) {
            ++burst->ok;
            burst->from_cache += a->source == service::Source::cache;
            burst->collapsed += a->collapsed;
          }
          if (--burst->left == 0) burst->done.cancel();
        },
        asio::detached);
  }
  boost::system::error_code ec;
  co_await burst->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  const auto after = svc.counters()->snapshot();

  std::string body;
  JsonWriter w(body);
  w.begin_object()
      .field("key", fmt::format("cachelab:v1:product:{}", id))
      .field("requests", requests)
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
awaitable<Response> demo_stale_read(service::CatalogService& svc, RequestContext& ctx) {
  auto id_param = int_param(ctx.url, "id", 1, 1, max_id);
  if (auto e = error_of(id_param)) co_return error_response(*e);
  const auto id = std::get<std::int64_t>(id_param);

  auto warm = co_await svc.product(id, CacheMode::use);  // make sure the old value is cached
  if (!warm) co_return error_response(warm.error());
  auto before = co_await svc.product(id, CacheMode::use);
  if (!before) co_return error_response(before.error());
  if (before->not_found) co_return error_response(make_error(ErrorKind::not_found, "no such product"));
  auto old_doc = boost::json::parse(before->body);
  const double old_price = old_doc.at("price").to_number<double>();
  // Move the price by a cent (down when it would overflow), so the demo can run forever.
  const double new_price = old_price + (old_price >= max_price - 1 ? -0.01 : 0.01);
  model::ProductPatch patch;
  patch.price = fmt::format("{:.2f}", new_price);
  auto written = co_await svc.update_product(id, std::move(patch));
  if (!written) co_return error_response(written.error());
  auto after = co_await svc.product(id, CacheMode::use);
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
      .field("source", before->source == service::Source::cache ? "cache" : "database")
      .end_object();
  w.key("write").begin_object().key("price").number(new_price, 2);
  write_cache_outcome(w, *written);
  w.end_object();
  w.key("read_after_write")
      .begin_object()
      .key("price")
      .number(read_price, 2)
      .field("source", after->source == service::Source::cache ? "cache" : "database")
      .end_object();
  w.field("fresh", std::abs(read_price - new_price) < 0.005);
  w.end_object();
  co_return json_response(http::status::ok, std::move(body));
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::optional<Response> deny_unless_admin(const RequestContext& ctx, const ApiOptions& options) {
  const auto origin = ctx.request[http::field::origin];
  if (!origin.empty() && !same_origin(origin, ctx.request[http::field::host]) &&
      !options.cors.allowed(origin)) {
    return error_response(http::status::forbidden, "forbidden_origin",
                          fmt::format("pages from {} may not change state here (see --cors-allow-origins)",
                                      std::string_view(origin)));
  }
  if (!options.admin_token.empty()) {
    const auto given = ctx.request[http::field::authorization];
    if (constant_time_equal(given, "Bearer " + options.admin_token)) return std::nullopt;
    auto res = error_response(http::status::unauthorized, "unauthorized",
                              "this endpoint needs 'Authorization: Bearer <ADMIN_TOKEN>'");
    res.set(http::field::www_authenticate, "Bearer realm=\"cachelab\"");
    return res;
  }
  if (ctx.caller.loopback) return std::nullopt;
  return error_response(http::status::forbidden, "forbidden",
                        "without ADMIN_TOKEN set, this endpoint accepts loopback clients only");
}

void add_write_routes(Router& router, std::shared_ptr<service::CatalogService> svc,
                      const ApiOptions& options) {
  using http::verb;
  auto admin = [svc, options](auto fn) {
    return [svc, options, fn](RequestContext& ctx) -> awaitable<Response> {
      if (auto denied = deny_unless_admin(ctx, options)) co_return std::move(*denied);
      auto res = co_await fn(*svc, ctx);
      co_return res;
    };
  };
  router.add(verb::post, "/products", "Create a product: {name, description?, price, category} (admin)",
             admin(create_product));
  router.add(verb::put, "/products/{id}", "Replace a product: {name, description?, price, category} (admin)",
             admin(put_product));
  router.add(verb::patch, "/products/{id}", "Change some fields of a product (admin)", admin(patch_product));
  router.add(verb::delete_, "/products/{id}", "Delete a product and its reviews (admin)",
             admin(delete_product));
  router.add(
      verb::post, "/api/demo/stampede",
      "Expire a product's key and fire ?n= (500) concurrent reads at it; counts database queries (admin)",
      admin(demo_stampede));
  router.add(verb::post, "/api/demo/stale-read",
             "Cache a product, change its price, read it back through the cache: fresh? (admin)",
             admin(demo_stale_read));
}

}  // namespace cachelab::api

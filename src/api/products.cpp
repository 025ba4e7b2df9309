// /products and /products/{id}: one product or a page of them, through the cache; and the writes, which
// commit in PostgreSQL and then invalidate (service/catalog_service).
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "api/product_body.hpp"
#include "api/render.hpp"
#include "model/product.hpp"
#include "service/catalog_service.hpp"

#include <fmt/format.h>

namespace cachelab::api {

using boost::asio::awaitable;

awaitable<Response> get_product(const Api& api, RequestContext& ctx) {
  Stopwatch total;
  auto id = parse_id(ctx.path_param("id"));
  if (!id) co_return error_response(id.error());
  auto mode = cache_mode(ctx.url);
  if (!mode) co_return error_response(mode.error());
  auto answer = co_await api.services.catalog->product(*id, *mode);
  if (!answer) co_return error_response(answer.error());
  const double ms = total.elapsed_ms();
  if (answer->not_found)
    co_return render_answer(std::move(*answer), ms, fmt::format("product {} does not exist", *id));
  co_return render_answer(std::move(*answer), ms);
}

awaitable<Response> list_products(const Api& api, RequestContext& ctx) {
  Stopwatch total;
  auto page = page_params(ctx.url);
  if (!page) co_return error_response(page.error());
  auto mode = cache_mode(ctx.url);
  if (!mode) co_return error_response(mode.error());
  auto answer = co_await api.services.catalog->products(page->limit, page->offset, *mode);
  co_return rendered(std::move(answer), total);
}

namespace {

// The committed product with the write's cache outcome spliced in; a delete says which id went instead.
Response write_response(http::status status, const service::WriteOutcome& o,
                        std::optional<std::int64_t> deleted = std::nullopt) {
  std::string outcome;
  JsonWriter w(outcome);
  w.begin_object();
  if (deleted) w.field("deleted", *deleted);
  write_invalidation(w, o.cache);
  w.end_object();
  if (!o.product) return json_response(status, std::move(outcome));
  std::string body = model::to_json(*o.product);
  body.back() = ',';  // the product object continues with the outcome's fields
  body.append(outcome, 1);
  return json_response(status, std::move(body));
}

awaitable<Response> update_product(const Api& api, RequestContext& ctx, BodyKind kind) {
  auto id = parse_id(ctx.path_param("id"));
  if (!id) co_return error_response(id.error());
  auto patch = parse_product_body(ctx.request.body(), kind);
  if (!patch) co_return error_response(patch.error());
  auto outcome = co_await api.services.catalog->update_product(*id, std::move(*patch));
  if (!outcome) co_return error_response(outcome.error());
  co_return write_response(http::status::ok, *outcome);
}

}  // namespace

awaitable<Response> create_product(const Api& api, RequestContext& ctx) {
  auto patch = parse_product_body(ctx.request.body(), BodyKind::full);
  if (!patch) co_return error_response(patch.error());
  model::ProductDraft draft{*patch->name, *patch->description, *patch->price, *patch->category};
  auto outcome = co_await api.services.catalog->create_product(std::move(draft));
  if (!outcome) co_return error_response(outcome.error());
  auto res = write_response(http::status::created, *outcome);
  res.set(http::field::location, fmt::format("/products/{}", outcome->product->id));
  co_return res;
}

awaitable<Response> put_product(const Api& api, RequestContext& ctx) {
  auto res = co_await update_product(api, ctx, BodyKind::full);
  co_return res;
}

awaitable<Response> patch_product(const Api& api, RequestContext& ctx) {
  auto res = co_await update_product(api, ctx, BodyKind::partial);
  co_return res;
}

awaitable<Response> delete_product(const Api& api, RequestContext& ctx) {
  auto id = parse_id(ctx.path_param("id"));
  if (!id) co_return error_response(id.error());
  if (!ctx.request.body().empty()) {
    co_return error_response(http::status::bad_request, "unexpected_body", "DELETE takes no request body");
  }
  auto outcome = co_await api.services.catalog->remove_product(*id);
  if (!outcome) co_return error_response(outcome.error());
  co_return write_response(http::status::ok, *outcome, *id);
}

}  // namespace cachelab::api

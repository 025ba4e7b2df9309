#include "service/catalog_service.hpp"

#include "cache/keys.hpp"
#include "db/catalog.hpp"
#include "db/statements.hpp"
#include "model/catalog.hpp"

namespace cachelab::service {

namespace asio = boost::asio;
using NotFound = CacheAside::NotFound;

CatalogService::CatalogService(asio::any_io_executor ex, std::shared_ptr<cache::Store> cache,
                               std::shared_ptr<db::Catalog> db, std::shared_ptr<Counters> counters,
                               const Policy& policy, std::shared_ptr<const Overrides> overrides,
                               CacheAside::Near near)
    : db_(std::move(db)),
      counters_(counters),
      cache_aside_(ex, std::move(cache), std::move(counters), policy, std::move(overrides), std::move(near)) {
}

// The loaders hold the catalog by plain pointer: this service owns it and outlives every load, background
// refreshes included (they run on its CacheAside). A product's loader (a pointer and an id) then fits in
// std::function's own storage: no allocation and no reference count per read.

// Note for GCC 12: keep non-trivial temporaries (strings, lambdas) out of co_await expressions; it may
// destroy them twice. Name them first, as below.

// A product: cached under its own key (deleted when it is written); "not found" is cached too, briefly.
asio::awaitable<Result<Answer>> CatalogService::product(std::int64_t id, CacheMode mode) {
  CacheAside::Loader load = [db = db_.get(), id](db::WalFence after) -> asio::awaitable<Result<std::string>> {
    auto row = co_await db->product_by_id(id, after);
    if (!row) co_return row.error();
    if (!*row)
      co_return make_error(ErrorKind::not_found, "product " + std::to_string(id) + " does not exist");
    co_return model::to_json(**row);
  };
  auto key = cache::keys::product(id);
  const auto life = cache_aside_.lifetime(policy().product_ttl, "product");
  auto answer =
      co_await cache_aside_.read_through(std::move(key), life, mode, std::move(load), NotFound::cache);
  counters_->looked_up(Endpoint::product, answer ? &*answer : nullptr);
  co_return answer;
}

// The derived answers below depend on many rows, so their keys carry the catalog generation: any write
// retires all of them at once.
asio::awaitable<Result<Answer>> CatalogService::products(int limit, std::int64_t offset, CacheMode mode) {
  CacheAside::Loader load = [db = db_.get(), limit,
                             offset](db::WalFence after) -> asio::awaitable<Result<std::string>> {
    auto page = co_await db->products_page(limit, offset, after);
    if (!page) co_return page.error();
    co_return model::to_json(*page);
  };
  auto key = cache::keys::products_page(limit, offset);
  const auto life = cache_aside_.lifetime(policy().products_ttl, "products");
  auto answer = co_await cache_aside_.read_through(std::move(key), life, mode, std::move(load));
  counters_->looked_up(Endpoint::products, answer ? &*answer : nullptr);
  co_return answer;
}

asio::awaitable<Result<Answer>> CatalogService::categories(CacheMode mode) {
  CacheAside::Loader load = [db = db_.get()](db::WalFence after) -> asio::awaitable<Result<std::string>> {
    auto stats = co_await db->category_stats(after);
    if (!stats) co_return stats.error();
    co_return model::to_json(*stats);
  };
  auto key = cache::keys::categories();
  const auto life = cache_aside_.lifetime(policy().categories_ttl, "categories");
  auto answer = co_await cache_aside_.read_through(std::move(key), life, mode, std::move(load));
  counters_->looked_up(Endpoint::categories, answer ? &*answer : nullptr);
  co_return answer;
}

asio::awaitable<Result<Answer>> CatalogService::search(std::string query, int limit, std::int64_t offset,
                                                       CacheMode mode) {
  auto key = cache::keys::search(query, limit, offset);
  CacheAside::Loader load = [db = db_.get(), query = std::move(query), limit,
                             offset](db::WalFence after) -> asio::awaitable<Result<std::string>> {
    auto page = co_await db->search(query, limit, offset, after);
    if (!page) co_return page.error();
    co_return model::to_json(*page);
  };
  const auto life = cache_aside_.lifetime(policy().search_ttl, "search");
  auto answer = co_await cache_aside_.read_through(std::move(key), life, mode, std::move(load));
  counters_->looked_up(Endpoint::search, answer ? &*answer : nullptr);
  co_return answer;
}

asio::awaitable<Result<Answer>> CatalogService::top_products(int limit, CacheMode mode) {
  CacheAside::Loader load = [db = db_.get(),
                             limit](db::WalFence after) -> asio::awaitable<Result<std::string>> {
    auto top = co_await db->top_products(limit, db::top_products_min_reviews, after);
    if (!top) co_return top.error();
    co_return model::to_json(*top);
  };
  auto key = cache::keys::top_products(limit, db::top_products_min_reviews);
  const auto life = cache_aside_.lifetime(policy().top_products_ttl, "top-products");
  auto answer = co_await cache_aside_.read_through(std::move(key), life, mode, std::move(load));
  counters_->looked_up(Endpoint::top_products, answer ? &*answer : nullptr);
  co_return answer;
}

asio::awaitable<Result<WriteOutcome>> CatalogService::create_product(model::ProductDraft draft) {
  auto created = co_await db_->create_product(draft);
  if (!created) co_return created.error();
  const auto id = created->id;
  auto outcome = co_await after_write(id, std::move(*created));
  co_return outcome;
}

asio::awaitable<Result<WriteOutcome>> CatalogService::update_product(std::int64_t id,
                                                                     model::ProductPatch patch) {
  auto updated = co_await db_->update_product(id, patch);
  if (!updated) co_return updated.error();
  auto outcome = co_await after_write(id, std::move(*updated));
  co_return outcome;
}

asio::awaitable<Result<WriteOutcome>> CatalogService::remove_product(std::int64_t id) {
  auto removed = co_await db_->remove_product(id);
  if (!removed) co_return removed.error();
  auto outcome = co_await after_write(id, std::nullopt);
  co_return outcome;
}

// A committed write retires the product's own key (a created product's too: it may hold a cached "not
// found") and, through the generation, every derived answer.
asio::awaitable<WriteOutcome> CatalogService::after_write(std::int64_t id,
                                                          std::optional<model::Product> product) {
  std::optional<std::string> committed;
  if (product) committed = model::to_json(*product);
  auto key = cache::keys::product(id);
  auto invalidation =
      co_await cache_aside_.invalidate_after_write(std::move(key), std::move(committed), db_->written());
  co_return WriteOutcome{std::move(product), std::move(invalidation)};
}

}  // namespace cachelab::service

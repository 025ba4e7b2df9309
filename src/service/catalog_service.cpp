#include "service/catalog_service.hpp"

#include "cache/keys.hpp"
#include "core/stopwatch.hpp"

#include <charconv>

namespace cachelab::service {
namespace {

std::int64_t info_int(const cache::ServerInfo& info, std::string_view field) {
  auto it = info.find(field);
  if (it == info.end()) return 0;
  std::int64_t v = 0;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

std::string info_str(const cache::ServerInfo& info, std::string_view field) {
  auto it = info.find(field);
  return it == info.end() ? std::string{} : it->second;
}

}  // namespace

double RedisStats::hit_rate() const {
  const auto lookups = keyspace_hits + keyspace_misses;
  return lookups == 0 ? 0.0 : static_cast<double>(keyspace_hits) / static_cast<double>(lookups);
}

CatalogService::CatalogService(std::shared_ptr<cache::Store> cache, std::shared_ptr<db::Catalog> db,
                               std::shared_ptr<Counters> counters, Policy policy)
    : cache_(std::move(cache)), db_(std::move(db)), counters_(std::move(counters)), policy_(policy) {}

// Cache-aside, step by step:
//   1. bypass → PostgreSQL only; Redis is neither read nor written.
//   2. GET the key (with its TTL). A hit returns the stored bytes as they are: no SQL, no re-serialisation.
//   3. A Redis failure counts as a miss and marks the answer "cache unavailable"; the request carries on.
//   4. Miss → load from PostgreSQL, serialise once, SET with the TTL (skipped when Redis just failed),
//      return. The SET is awaited so that, once the client has its answer, the next read is a hit.
boost::asio::awaitable<Result<Answer>> CatalogService::read_through(std::string key,
                                                                    std::chrono::milliseconds ttl,
                                                                    CacheMode mode, Loader load) {
  Answer answer;
  if (mode == CacheMode::bypass) {
    answer.bypassed = true;
  } else {
    Stopwatch redis_time;
    auto cached = co_await cache_->get(key);
    answer.timings.redis_ms += redis_time.elapsed_ms();
    if (!cached) {
      counters_->redis_error();
      answer.cache_unavailable = true;
    } else if (*cached) {
      counters_->hit();
      answer.source = Source::cache;
      answer.ttl_ms = (*cached)->ttl_ms;
      answer.body = std::move((*cached)->value);
      co_return answer;
    }
    counters_->miss();
  }

  Stopwatch db_time;
  counters_->db_query();
  auto loaded = co_await load();
  answer.timings.db_ms = db_time.elapsed_ms();
  if (!loaded) co_return loaded.error();
  answer.body = std::move(*loaded);
  answer.source = Source::database;

  if (mode == CacheMode::use && !answer.cache_unavailable) {
    Stopwatch redis_time;
    auto stored = co_await cache_->set(key, answer.body, ttl);
    answer.timings.redis_ms += redis_time.elapsed_ms();
    if (!stored) {
      counters_->redis_error();
      answer.cache_unavailable = true;
    }
  }
  co_return answer;
}

// Note for GCC 12: keep non-trivial temporaries (strings, lambdas) out of co_await expressions; it may
// destroy them twice. Name them first, as below.
boost::asio::awaitable<Result<Answer>> CatalogService::product(std::int64_t id, CacheMode mode) {
  Loader load = [db = db_, id]() -> boost::asio::awaitable<Result<std::string>> {
    auto row = co_await db->product_by_id(id);
    if (!row) co_return row.error();
    if (!*row)
      co_return make_error(ErrorKind::not_found, "product " + std::to_string(id) + " does not exist");
    co_return model::to_json(**row);
  };
  auto key = cache::keys::product(id);
  auto answer = co_await read_through(std::move(key), policy_.ttl, mode, std::move(load));
  co_return answer;
}

boost::asio::awaitable<Result<Answer>> CatalogService::products(int limit, std::int64_t offset,
                                                                CacheMode mode) {
  Loader load = [db = db_, limit, offset]() -> boost::asio::awaitable<Result<std::string>> {
    auto page = co_await db->products_page(limit, offset);
    if (!page) co_return page.error();
    co_return model::to_json(*page);
  };
  auto key = cache::keys::products_page(limit, offset);
  auto answer = co_await read_through(std::move(key), policy_.products_ttl, mode, std::move(load));
  co_return answer;
}

boost::asio::awaitable<Result<Answer>> CatalogService::categories(CacheMode mode) {
  Loader load = [db = db_]() -> boost::asio::awaitable<Result<std::string>> {
    auto stats = co_await db->category_stats();
    if (!stats) co_return stats.error();
    co_return model::to_json(*stats);
  };
  auto key = cache::keys::categories();
  auto answer = co_await read_through(std::move(key), policy_.categories_ttl, mode, std::move(load));
  co_return answer;
}

boost::asio::awaitable<Result<Answer>> CatalogService::search(std::string query, int limit,
                                                              std::int64_t offset, CacheMode mode) {
  auto key = cache::keys::search(query, limit, offset);
  Loader load = [db = db_, query = std::move(query), limit,
                 offset]() -> boost::asio::awaitable<Result<std::string>> {
    auto page = co_await db->search(query, limit, offset);
    if (!page) co_return page.error();
    co_return model::to_json(*page);
  };
  auto answer = co_await read_through(std::move(key), policy_.search_ttl, mode, std::move(load));
  co_return answer;
}

boost::asio::awaitable<Result<Answer>> CatalogService::top_products(int limit, CacheMode mode) {
  Loader load = [db = db_, limit]() -> boost::asio::awaitable<Result<std::string>> {
    auto top = co_await db->top_products(limit, db::top_products_min_reviews);
    if (!top) co_return top.error();
    co_return model::to_json(*top);
  };
  auto key = cache::keys::top_products(limit, db::top_products_min_reviews);
  auto answer = co_await read_through(std::move(key), policy_.top_products_ttl, mode, std::move(load));
  co_return answer;
}

boost::asio::awaitable<Result<CacheStats>> CatalogService::cache_stats() {
  CacheStats stats;
  stats.app = counters_->snapshot();
  auto info = co_await cache_->info();
  if (!info) co_return stats;  // Redis down: the app's counters still answer
  auto keys = co_await cache_->count(cache::keys::namespace_pattern());
  RedisStats r;
  r.keyspace_hits = info_int(*info, "keyspace_hits");
  r.keyspace_misses = info_int(*info, "keyspace_misses");
  r.used_memory = info_int(*info, "used_memory");
  r.used_memory_human = info_str(*info, "used_memory_human");
  r.maxmemory = info_int(*info, "maxmemory");
  r.maxmemory_policy = info_str(*info, "maxmemory_policy");
  r.evicted_keys = info_int(*info, "evicted_keys");
  r.expired_keys = info_int(*info, "expired_keys");
  r.connected_clients = info_int(*info, "connected_clients");
  r.total_commands_processed = info_int(*info, "total_commands_processed");
  r.keys = keys ? *keys : 0;
  stats.redis = r;
  co_return stats;
}

boost::asio::awaitable<Result<std::int64_t>> CatalogService::clear_cache() {
  auto removed = co_await cache_->remove(cache::keys::namespace_pattern());
  if (!removed) co_return removed.error();
  counters_->reset();
  co_return *removed;
}

boost::asio::awaitable<Readiness> CatalogService::readiness() {
  Readiness r;
  auto ping = co_await db_->ping();
  r.database = ping.has_value();
  if (!ping) r.database_error = ping.error().message;
  r.cache = cache_->connected();
  co_return r;
}

}  // namespace cachelab::service

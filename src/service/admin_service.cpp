#include "service/admin_service.hpp"

#include "cache/inspector.hpp"
#include "cache/keys.hpp"
#include "cache/store.hpp"
#include "db/inspector.hpp"
#include "db/statements.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace cachelab::service {

namespace asio = boost::asio;

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

Result<void> ours(std::string_view key) {
  if (key.substr(0, cache::keys::prefix.size()) != cache::keys::prefix || key.size() > 1024) {
    return make_error(ErrorKind::invalid_argument,
                      fmt::format("only keys under {} can be read or deleted here", cache::keys::prefix));
  }
  return {};
}

}  // namespace

namespace {
bool failed_lately(const CounterSnapshot& c) {
  return c.ms_since_redis_error >= 0 &&
         c.ms_since_redis_error < std::chrono::duration_cast<std::chrono::milliseconds>(degraded_for).count();
}
}  // namespace

std::string CacheStats::state() const {
  if (!redis) return "unavailable";
  return failed_lately(app) ? "degraded" : "ok";
}

double RedisStats::hit_rate() const {
  const auto lookups = keyspace_hits + keyspace_misses;
  return lookups == 0 ? 0.0 : static_cast<double>(keyspace_hits) / static_cast<double>(lookups);
}

AdminService::AdminService(std::shared_ptr<cache::Inspector> cache, std::shared_ptr<cache::Store> store,
                           std::shared_ptr<db::Inspector> db, std::shared_ptr<Counters> counters,
                           const Policy& policy)
    : cache_(std::move(cache)),
      store_(std::move(store)),
      db_(std::move(db)),
      counters_(std::move(counters)),
      policy_(policy) {}

asio::awaitable<CacheStats> AdminService::cache_stats(bool count_keys) {
  CacheStats stats;
  stats.app = counters_->snapshot();
  auto info = co_await cache_->info();
  if (!info) co_return stats;  // Redis down: the app's counters still answer
  Result<std::int64_t> keys = std::int64_t{0};
  if (count_keys) keys = co_await cache_->count(cache::keys::namespace_pattern());
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
  if (info->contains(cache::masters_field)) r.masters = info_int(*info, cache::masters_field);
  stats.redis = r;
  co_return stats;
}

asio::awaitable<Result<TtlHistogram>> AdminService::ttl_histogram() {
  const auto longest = std::max({policy_.product_ttl, policy_.products_ttl, policy_.categories_ttl,
                                 policy_.search_ttl, policy_.top_products_ttl});
  const auto top =
      static_cast<std::int64_t>(static_cast<double>(longest.count()) * (1.0 + policy_.ttl_jitter));
  const std::int64_t width = std::max<std::int64_t>(1000, (top + 5999) / 6000 * 1000);
  TtlHistogram h;
  for (int i = 1; i <= 6; ++i) h.upper_edges_ms.push_back(width * i);
  auto counts = co_await cache_->ttl_histogram(cache::keys::namespace_pattern(), h.upper_edges_ms);
  if (!counts) co_return counts.error();
  h.counts = std::move(*counts);
  co_return h;
}

asio::awaitable<Result<std::int64_t>> AdminService::clear_cache() {
  auto removed = co_await cache_->remove(cache::keys::namespace_pattern());
  if (!removed) co_return removed.error();
  // Loads that began before the flush must not store their (possibly older) values afterwards: bump the
  // generation, exactly as a write does.
  const std::vector<std::string> nothing;
  if (auto bumped = co_await store_->invalidate(nothing); !bumped) co_return bumped.error();
  counters_->reset();
  co_return *removed;
}

asio::awaitable<Result<model::KeyPage>> AdminService::browse_keys(std::string_view match,
                                                                  std::string_view cursor, int count) {
  const std::string pattern = std::string(cache::keys::prefix) + std::string(match);
  auto page = co_await cache_->browse(pattern, cursor, count);
  co_return page;
}

asio::awaitable<Result<std::optional<model::KeyValue>>> AdminService::read_key(std::string_view key) {
  if (auto ok = ours(key); !ok) co_return ok.error();
  auto value = co_await cache_->read(key);
  co_return value;
}

asio::awaitable<Result<bool>> AdminService::delete_key(std::string_view key) {
  if (auto ok = ours(key); !ok) co_return ok.error();
  auto erased = co_await cache_->erase(key);
  co_return erased;
}

asio::awaitable<Result<std::vector<model::QueryPlan>>> AdminService::explain(std::string_view endpoint) {
  auto plans = co_await db_->explain(endpoint);
  co_return plans;
}

std::vector<std::string_view> AdminService::explainable_endpoints() {
  return db::explainable_endpoints();
}

asio::awaitable<Result<std::string>> AdminService::expire_product(std::int64_t id) {
  auto key = cache::keys::product(id);
  auto erased = co_await cache_->erase(key);
  if (!erased) co_return erased.error();
  co_return key;
}

asio::awaitable<Result<std::string>> AdminService::redis_setting(std::string_view name) {
  auto v = co_await cache_->config_get(name);
  co_return v;
}

asio::awaitable<Result<void>> AdminService::change_redis_setting(std::string_view name,
                                                                 std::string_view value) {
  auto r = co_await cache_->config_set(name, value);
  co_return r;
}

asio::awaitable<Readiness> AdminService::readiness() {
  Readiness r;
  auto ping = co_await db_->ping();
  r.database = ping.has_value();
  r.cache = cache_->connected() && !failed_lately(counters_->snapshot());
  co_return r;
}

}  // namespace cachelab::service

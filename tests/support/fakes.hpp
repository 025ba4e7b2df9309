// tests/support/fakes: in-memory stand-ins for the cache and the database behind their narrow interfaces, for
// unit tests of service/. FakeStore is the request path (six calls); FakeRedis adds the inspector's calls on
// the same data. Each fake can be made `down` (every call fails like an unreachable backend) and slow.
#pragma once

#include "cache/inspector.hpp"
#include "cache/store.hpp"
#include "db/catalog.hpp"
#include "db/inspector.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>

namespace cachelab::test {

namespace asio = boost::asio;

// Redis's request path: values with TTLs, the catalog generation, leases.
class FakeStore : public cache::Store {
 public:
  std::map<std::string, std::pair<std::string, std::int64_t>, std::less<>> data;  // key → (value, ttl ms)
  std::int64_t generation = 0;
  std::uint64_t wal_fence = 0;  // raised by invalidate(), read with the generation
  bool down = false;
  int stores = 0;
  std::map<std::string, std::string, std::less<>> leases;
  // Runs between a lookup and the store that follows it, to simulate a write racing a slow reader.
  std::function<void()> before_store;
  // Runs between a lookup that missed and the lease that follows it, to simulate another process finishing.
  std::function<void()> before_lease;
  // The next `moving` invalidations are refused as a Redis Cluster moving the slot refuses them.
  int moving = 0;
  // Runs at the start of the next invalidation, as if it were still in flight.
  std::function<void()> during_invalidate;
  int unreplicated = 0;   // the next this many invalidations go through unacknowledged by replicas
  int invalidations = 0;  // invalidations that went through

  std::string resolve(std::string_view key) const {
    std::string k(key);
    if (auto at = k.find("{gen}"); at != std::string::npos) k.replace(at, 5, std::to_string(generation));
    return k;
  }
  // As RedisStore: a hit on a plain key (no "{gen}") carries no generation.
  asio::awaitable<Result<cache::Lookup>> lookup(std::string_view key) override {
    if (down) co_return unavailable();
    cache::Lookup out{std::to_string(generation), resolve(key), std::nullopt};
    out.wal_fence = wal_fence;
    if (auto it = data.find(out.key); it != data.end()) {
      out.value = cache::CachedValue{it->second.first, it->second.second};
      if (key.find("{gen}") == std::string_view::npos) {
        out.generation.clear();
        out.wal_fence = 0;
      }
    }
    co_return out;
  }
  asio::awaitable<Result<cache::Generation>> current_generation() override {
    if (down) co_return unavailable();
    co_return cache::Generation{std::to_string(generation), wal_fence};
  }
  asio::awaitable<Result<bool>> store(std::string_view key, std::string_view value,
                                      std::chrono::milliseconds ttl, std::string_view gen) override {
    if (down) co_return unavailable();
    if (before_store) std::exchange(before_store, nullptr)();
    if (gen != std::to_string(generation)) co_return false;
    ++stores;
    data[std::string(key)] = {std::string(value), ttl.count()};
    co_return true;
  }
  asio::awaitable<Result<cache::Invalidated>> invalidate(const std::vector<std::string>& keys,
                                                         std::uint64_t fence) override {
    if (during_invalidate) std::exchange(during_invalidate, nullptr)();
    if (down) co_return unavailable();
    if (moving > 0) {
      --moving;
      Error e = make_error(ErrorKind::unavailable, "TRYAGAIN", Backend::cache);
      e.code = std::string(cache::cluster_moving);
      co_return e;
    }
    wal_fence = std::max(wal_fence, fence);
    for (const auto& k : keys) data.erase(k);
    ++invalidations;
    const bool replicated = unreplicated == 0;
    if (unreplicated > 0) --unreplicated;
    co_return cache::Invalidated{++generation, replicated};
  }
  asio::awaitable<Result<bool>> acquire_lease(std::string_view key, std::string_view token,
                                              std::chrono::milliseconds,
                                              std::string_view unless_present) override {
    if (down) co_return unavailable();
    if (before_lease) std::exchange(before_lease, nullptr)();
    if (!unless_present.empty() && data.contains(unless_present)) co_return false;
    co_return leases.emplace(std::string(key), std::string(token)).second;
  }
  asio::awaitable<Result<void>> release_lease(std::string_view key, std::string_view token) override {
    if (auto it = leases.find(key); it != leases.end() && it->second == token) leases.erase(it);
    co_return Result<void>{};
  }

 protected:
  static Error unavailable() { return make_error(ErrorKind::unavailable, "down", Backend::cache); }
};

// The same data, seen through the inspector as well.
class FakeRedis : public FakeStore, public cache::Inspector {
 public:
  asio::awaitable<Result<cache::ServerInfo>> info() override {
    if (down) co_return unavailable();
    co_return cache::ServerInfo{{"keyspace_hits", "3"}, {"keyspace_misses", "1"}, {"maxmemory", "100"}};
  }
  asio::awaitable<Result<std::int64_t>> count(std::string_view) override {
    co_return static_cast<std::int64_t>(data.size());
  }
  asio::awaitable<Result<std::int64_t>> remove(std::string_view) override {
    if (down) co_return unavailable();
    auto n = static_cast<std::int64_t>(data.size());
    data.clear();
    co_return n;
  }
  asio::awaitable<Result<std::vector<std::int64_t>>> ttl_histogram(
      std::string_view, const std::vector<std::int64_t>& edges) override {
    std::vector<std::int64_t> counts(edges.size() + 1, 0);
    for (const auto& [k, v] : data) {
      std::size_t b = 0;
      while (b < edges.size() && v.second >= edges[b]) ++b;
      ++counts[b];
    }
    co_return counts;
  }
  asio::awaitable<Result<model::KeyPage>> browse(std::string_view, std::string_view, int) override {
    model::KeyPage page{"0", {}};
    for (const auto& [k, v] : data)
      page.keys.push_back({k, "string", static_cast<std::int64_t>(v.first.size()), v.second});
    co_return page;
  }
  asio::awaitable<Result<std::optional<model::KeyValue>>> read(std::string_view key) override {
    auto it = data.find(key);
    if (it == data.end()) co_return std::optional<model::KeyValue>{};
    co_return std::optional<model::KeyValue>{model::KeyValue{"string", it->second.first, it->second.second}};
  }
  asio::awaitable<Result<bool>> erase(std::string_view key) override {
    co_return data.erase(std::string(key)) == 1;
  }
  asio::awaitable<Result<std::string>> config_get(std::string_view name) override {
    if (down) co_return unavailable();
    co_return config[std::string(name)];
  }
  asio::awaitable<Result<void>> config_set(std::string_view name, std::string_view value) override {
    if (down) co_return unavailable();
    config[std::string(name)] = std::string(value);
    co_return Result<void>{};
  }
  bool connected() const override { return !down; }
  std::map<std::string, std::string> config = {{"maxmemory", "67108864"},
                                               {"maxmemory-policy", "allkeys-lru"}};
};

// A catalog of products 1..100, each "Kettle" at 19.90 unless a write changed its price.
class FakeCatalog : public db::Catalog {
 public:
  int queries = 0;
  bool down = false;
  std::map<std::int64_t, std::string> prices;  // written prices; others are 19.90
  std::set<std::int64_t> removed;
  std::chrono::milliseconds latency{0};  // > 0: each read suspends this long, so concurrent callers overlap
  std::string last_query;
  db::WalFence last_fence = 0;  // the WAL fence the last read was given
  db::WalFence writes_at = 0;   // written(): what the last write's WAL position is said to be

  model::Product row(std::int64_t id) const {
    auto it = prices.find(id);
    return model::Product{id,     "Kettle", "Boils", it == prices.end() ? "19.90" : it->second,
                          "Home", "t0",     "t1"};
  }
  asio::awaitable<Result<std::optional<model::Product>>> product_by_id(std::int64_t id,
                                                                       db::WalFence after) override {
    ++queries;
    last_fence = after;
    co_await pause();
    if (down) co_return make_error(ErrorKind::unavailable, "down", Backend::database);
    if (id > 100 || removed.contains(id)) co_return std::optional<model::Product>{};
    co_return std::optional<model::Product>{row(id)};
  }
  asio::awaitable<Result<model::ProductPage>> products_page(int limit, std::int64_t offset,
                                                            db::WalFence after) override {
    ++queries;
    last_fence = after;
    co_return model::ProductPage{{}, 100, limit, offset};
  }
  asio::awaitable<Result<std::vector<model::CategoryStats>>> category_stats(db::WalFence after) override {
    ++queries;
    last_fence = after;
    co_await pause();
    co_return std::vector<model::CategoryStats>{{1, "Books", 2, 3, "4.50", "10.00", "5.00", "15.00"}};
  }
  asio::awaitable<Result<model::SearchPage>> search(std::string_view query, int limit, std::int64_t offset,
                                                    db::WalFence after) override {
    ++queries;
    last_fence = after;
    last_query = std::string(query);
    co_return model::SearchPage{std::string(query), {}, 0, limit, offset};
  }
  asio::awaitable<Result<model::TopProducts>> top_products(int limit, int min_reviews,
                                                           db::WalFence after) override {
    ++queries;
    last_fence = after;
    co_return model::TopProducts{{}, min_reviews, limit};
  }
  asio::awaitable<Result<model::Product>> create_product(const model::ProductDraft& d) override {
    prices[101] = d.price;
    co_return row(101);
  }
  asio::awaitable<Result<model::Product>> update_product(std::int64_t id,
                                                         const model::ProductPatch& p) override {
    if (id > 100 || removed.contains(id)) co_return make_error(ErrorKind::not_found, "no");
    if (p.price) prices[id] = *p.price;
    co_return row(id);
  }
  asio::awaitable<Result<void>> remove_product(std::int64_t id) override {
    if (id > 100 || !removed.insert(id).second) co_return make_error(ErrorKind::not_found, "no");
    co_return Result<void>{};
  }
  db::WalFence written() const override { return writes_at; }

 private:
  asio::awaitable<void> pause() {
    if (latency.count() == 0) co_return;
    asio::steady_timer t(co_await asio::this_coro::executor, latency);
    co_await t.async_wait(asio::use_awaitable);
  }
};

class FakeDbInspector : public db::Inspector {
 public:
  bool down = false;
  asio::awaitable<Result<void>> ping() override {
    if (down) co_return make_error(ErrorKind::unavailable, "down", Backend::database);
    co_return Result<void>{};
  }
  asio::awaitable<Result<std::vector<model::QueryPlan>>> explain(std::string_view) override {
    co_return std::vector<model::QueryPlan>{};
  }
};

}  // namespace cachelab::test

#include "service/catalog_service.hpp"

#include "cache/keys.hpp"
#include "core/stopwatch.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace cachelab::service {

namespace asio = boost::asio;

// A load in progress on this thread: later callers for the same key wait for its result.
struct CatalogService::Flight {
  std::vector<std::shared_ptr<asio::steady_timer>> waiters;
  std::optional<Result<Answer>> result;
};

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

// An answer served from Redis: the stored bytes, or a cached "not found".
Answer from_cache(cache::CachedValue&& cached, double redis_ms) {
  Answer answer;
  answer.source = Source::cache;
  answer.ttl_ms = cached.ttl_ms;
  answer.timings.redis_ms = redis_ms;
  if (cached.value == not_found_marker) {
    answer.not_found = true;
  } else {
    answer.body = std::move(cached.value);
  }
  return answer;
}

}  // namespace

double RedisStats::hit_rate() const {
  const auto lookups = keyspace_hits + keyspace_misses;
  return lookups == 0 ? 0.0 : static_cast<double>(keyspace_hits) / static_cast<double>(lookups);
}

CatalogService::CatalogService(asio::any_io_executor ex, std::shared_ptr<cache::Store> cache,
                               std::shared_ptr<db::Catalog> db, std::shared_ptr<Counters> counters,
                               Policy policy)
    : ex_(ex),
      cache_(std::move(cache)),
      db_(std::move(db)),
      counters_(std::move(counters)),
      policy_(policy),
      rng_(std::random_device{}()) {
  token_prefix_ = fmt::format("{:016x}{:016x}-", rng_(), rng_());
}

std::chrono::milliseconds CatalogService::jittered(std::chrono::milliseconds ttl) {
  if (policy_.ttl_jitter <= 0) return ttl;
  std::uniform_real_distribution<double> spread(-policy_.ttl_jitter, policy_.ttl_jitter);
  const auto ms = static_cast<std::int64_t>(static_cast<double>(ttl.count()) * (1.0 + spread(rng_)));
  return std::chrono::milliseconds(std::max<std::int64_t>(1, ms));
}

CatalogService::Lifetime CatalogService::lifetime(std::chrono::milliseconds ttl, const char* endpoint) const {
  if (policy_.swr.count() > 0 && policy_.swr_endpoints.contains(endpoint)) return {ttl, policy_.swr};
  return {ttl};
}

// Cache-aside, step by step:
//   1. bypass → PostgreSQL only; Redis is neither read nor written.
//   2. Look the key up (one Lua round trip: generation, value, TTL). A hit returns the stored bytes as they
//   are;
//      a stored "null" is a cached "not found".
//   3. A Redis failure counts as a miss and marks the answer "cache unavailable"; the request carries on.
//   4. Miss → if another request on this thread is already loading this key, wait for its result
//      (single-flight). Otherwise load_once(): take the key's lease in Redis so only one caller across all
//      threads and processes queries PostgreSQL; the others poll for its value, then fall back to the
//      database if the lease holder is too slow.
//   5. The loader stores its value only if no write bumped the generation since the lookup (a guarded store),
//   so
//      a slow reader can never put back a value older than a committed write.
asio::awaitable<Result<Answer>> CatalogService::read_through(std::string key, Lifetime life, CacheMode mode,
                                                             Loader load, bool cache_not_found) {
  if (mode == CacheMode::bypass) {
    Answer answer;
    answer.bypassed = true;
    auto r = co_await load_direct(std::move(answer), load);
    co_return r;
  }

  Stopwatch redis_time;
  auto seen = co_await cache_->lookup(key);
  const double lookup_ms = redis_time.elapsed_ms();
  if (!seen) {
    // Redis is unavailable: no single-flight across a lease, no store; just the database.
    counters_->redis_error();
    counters_->miss();
    Answer answer;
    answer.cache_unavailable = true;
    answer.timings.redis_ms = lookup_ms;
    auto r = co_await load_direct(std::move(answer), load);
    co_return r;
  }
  if (seen->value) {
    counters_->hit();
    Answer answer = from_cache(std::move(*seen->value), lookup_ms);
    if (life.swr.count() > 0 && answer.ttl_ms && *answer.ttl_ms >= 0) {
      // Entries live ttl + swr in Redis; the last `swr` of that is the stale window.
      if (*answer.ttl_ms <= life.swr.count()) {
        answer.stale = true;
        answer.ttl_ms = 0;
        if (!refreshing_.contains(seen->key)) {
          refreshing_.insert(seen->key);
          asio::co_spawn(ex_, refresh(seen->key, seen->generation, life, load), asio::detached);
        }
      } else {
        *answer.ttl_ms -= life.swr.count();
      }
    }
    co_return answer;
  }
  counters_->miss();

  // Single-flight: join a load of the same resolved key already running on this thread.
  if (auto it = flights_.find(seen->key); it != flights_.end()) {
    auto flight = it->second;
    auto waiter = std::make_shared<asio::steady_timer>(ex_, policy_.lease_ttl * 2);
    flight->waiters.push_back(waiter);
    counters_->stampede_suppressed();
    boost::system::error_code ec;
    co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (flight->result) {
      auto shared = *flight->result;
      if (shared) shared->collapsed = true;
      co_return shared;
    }
    // The loader took too long: go to the database ourselves.
    auto fallback = co_await load_and_store(*seen, life, load, cache_not_found);
    co_return fallback;
  }
  auto flight = std::make_shared<Flight>();
  flights_.emplace(seen->key, flight);
  auto result = co_await load_once(*seen, life, load, cache_not_found);
  if (result) result->timings.redis_ms += lookup_ms;
  flight->result = result;
  for (auto& w : flight->waiters) w->cancel();
  flights_.erase(seen->key);
  co_return result;
}

asio::awaitable<Result<Answer>> CatalogService::load_direct(Answer answer, Loader& load) {
  Stopwatch db_time;
  counters_->db_query();
  auto loaded = co_await load();
  answer.timings.db_ms = db_time.elapsed_ms();
  if (!loaded) {
    if (loaded.error().kind != ErrorKind::not_found) co_return loaded.error();
    answer.not_found = true;
    co_return answer;
  }
  answer.body = std::move(*loaded);
  co_return answer;
}

asio::awaitable<void> CatalogService::refresh(std::string key, std::string generation, Lifetime life,
                                              Loader load) {
  // One refresher across threads and processes: whoever holds the lease. Others keep serving the stale value.
  const std::string lease_key = cache::keys::lease(key);
  const std::string token = token_prefix_ + std::to_string(next_token_++);
  auto leased = co_await cache_->acquire_lease(lease_key, token, policy_.lease_ttl);
  if (leased && *leased) {
    cache::Lookup seen{generation, key, std::nullopt};
    auto r = co_await load_and_store(seen, life, load, false);
    if (!r) spdlog::warn("event=swr_refresh_failed key=\"{}\" detail=\"{}\"", key, r.error().message);
    (void)co_await cache_->release_lease(lease_key, token);
  }
  refreshing_.erase(key);
}

asio::awaitable<Result<Answer>> CatalogService::load_once(const cache::Lookup& seen, Lifetime life,
                                                          Loader& load, bool cache_not_found) {
  const std::string lease_key = cache::keys::lease(seen.key);
  const std::string token = token_prefix_ + std::to_string(next_token_++);
  auto leased = co_await cache_->acquire_lease(lease_key, token, policy_.lease_ttl);
  if (!leased) {
    counters_->redis_error();
    auto r = co_await load_and_store(seen, life, load, cache_not_found);
    co_return r;
  }
  if (*leased) {
    auto r = co_await load_and_store(seen, life, load, cache_not_found);
    if (auto released = co_await cache_->release_lease(lease_key, token); !released) counters_->redis_error();
    co_return r;
  }

  // Another thread or process holds the lease: wait for its value, up to the lease's lifetime.
  counters_->lease_wait();
  Stopwatch waited;
  const auto deadline = Stopwatch::clock::now() + policy_.lease_ttl;
  asio::steady_timer poll(ex_);
  while (Stopwatch::clock::now() < deadline) {
    poll.expires_after(policy_.lease_poll);
    boost::system::error_code ec;
    co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto again = co_await cache_->lookup(seen.key);
    if (!again) break;
    if (again->value) {
      Answer answer = from_cache(std::move(*again->value), waited.elapsed_ms());
      answer.collapsed = true;
      co_return answer;
    }
  }
  auto r = co_await load_and_store(seen, life, load, cache_not_found);
  co_return r;
}

asio::awaitable<Result<Answer>> CatalogService::load_and_store(const cache::Lookup& seen, Lifetime life,
                                                               Loader& load, bool cache_not_found) {
  Answer answer;
  Stopwatch db_time;
  counters_->db_query();
  auto loaded = co_await load();
  answer.timings.db_ms = db_time.elapsed_ms();
  std::string_view value;
  auto keep = jittered(life.ttl) + life.swr;
  if (!loaded) {
    if (loaded.error().kind != ErrorKind::not_found) co_return loaded.error();
    answer.not_found = true;
    if (!cache_not_found) co_return answer;
    value = not_found_marker;
    keep = jittered(policy_.negative_ttl);
  } else {
    answer.body = std::move(*loaded);
    value = answer.body;
  }
  Stopwatch redis_time;
  auto stored = co_await cache_->store(seen.key, value, keep, seen.generation);
  answer.timings.redis_ms += redis_time.elapsed_ms();
  if (!stored) {
    counters_->redis_error();
    answer.cache_unavailable = true;
  } else {
    answer.stored = *stored;
    // What the entry just written has left, against the soft TTL as on a hit: clients can count it down.
    if (answer.stored && !answer.not_found) answer.ttl_ms = (keep - life.swr).count();
  }
  co_return answer;
}

// Note for GCC 12: keep non-trivial temporaries (strings, lambdas) out of co_await expressions; it may
// destroy them twice. Name them first, as below.
asio::awaitable<Result<Answer>> CatalogService::product(std::int64_t id, CacheMode mode) {
  Loader load = [db = db_, id]() -> asio::awaitable<Result<std::string>> {
    auto row = co_await db->product_by_id(id);
    if (!row) co_return row.error();
    if (!*row)
      co_return make_error(ErrorKind::not_found, "product " + std::to_string(id) + " does not exist");
    co_return model::to_json(**row);
  };
  auto key = cache::keys::product(id);
  auto answer =
      co_await read_through(std::move(key), lifetime(policy_.ttl, "product"), mode, std::move(load), true);
  co_return answer;
}

asio::awaitable<Result<Answer>> CatalogService::products(int limit, std::int64_t offset, CacheMode mode) {
  Loader load = [db = db_, limit, offset]() -> asio::awaitable<Result<std::string>> {
    auto page = co_await db->products_page(limit, offset);
    if (!page) co_return page.error();
    co_return model::to_json(*page);
  };
  auto key = cache::keys::products_page(limit, offset);
  auto answer = co_await read_through(std::move(key), lifetime(policy_.products_ttl, "products"), mode,
                                      std::move(load));
  co_return answer;
}

asio::awaitable<Result<Answer>> CatalogService::categories(CacheMode mode) {
  Loader load = [db = db_]() -> asio::awaitable<Result<std::string>> {
    auto stats = co_await db->category_stats();
    if (!stats) co_return stats.error();
    co_return model::to_json(*stats);
  };
  auto key = cache::keys::categories();
  auto answer = co_await read_through(std::move(key), lifetime(policy_.categories_ttl, "categories"), mode,
                                      std::move(load));
  co_return answer;
}

asio::awaitable<Result<Answer>> CatalogService::search(std::string query, int limit, std::int64_t offset,
                                                       CacheMode mode) {
  auto key = cache::keys::search(query, limit, offset);
  Loader load = [db = db_, query = std::move(query), limit,
                 offset]() -> asio::awaitable<Result<std::string>> {
    auto page = co_await db->search(query, limit, offset);
    if (!page) co_return page.error();
    co_return model::to_json(*page);
  };
  auto answer =
      co_await read_through(std::move(key), lifetime(policy_.search_ttl, "search"), mode, std::move(load));
  co_return answer;
}

asio::awaitable<Result<Answer>> CatalogService::top_products(int limit, CacheMode mode) {
  Loader load = [db = db_, limit]() -> asio::awaitable<Result<std::string>> {
    auto top = co_await db->top_products(limit, db::top_products_min_reviews);
    if (!top) co_return top.error();
    co_return model::to_json(*top);
  };
  auto key = cache::keys::top_products(limit, db::top_products_min_reviews);
  auto answer = co_await read_through(std::move(key), lifetime(policy_.top_products_ttl, "top-products"),
                                      mode, std::move(load));
  co_return answer;
}

// Writes: PostgreSQL first (the statement is the transaction), then the cache. Invalidation runs only after
// the commit, so a reader that looks after our answer can only miss (and load the committed row) or find a
// value stored under the new generation, which was loaded after the commit.
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

asio::awaitable<WriteOutcome> CatalogService::after_write(std::int64_t id,
                                                          std::optional<model::Product> product) {
  WriteOutcome outcome;
  outcome.product = std::move(product);
  const std::vector<std::string> drop = {cache::keys::product(id)};
  auto generation = co_await cache_->invalidate(drop);
  if (!generation) {
    // The write is committed; the cache is not reachable. Queue the invalidation and retry until it goes
    // through; meanwhile a stale entry can live at most until its TTL runs out.
    counters_->redis_error();
    if (pending_invalidations_.insert(id).second) counters_->pending_invalidations(1);
    outcome.invalidation_pending = true;
    if (!retrying_) {
      retrying_ = true;
      asio::co_spawn(ex_, retry_invalidations(), asio::detached);
    }
    co_return outcome;
  }
  counters_->invalidated();
  std::int64_t gen = 0;
  std::from_chars(generation->data(), generation->data() + generation->size(), gen);
  outcome.invalidated = {drop[0], fmt::format("{}g{}:* (pages, categories, searches, top products)",
                                              cache::keys::prefix, gen - 1)};
  if (policy_.write_policy == WritePolicy::write_through && outcome.product) {
    auto body = model::to_json(*outcome.product);
    auto stored = co_await cache_->store(drop[0], body, jittered(policy_.ttl), *generation);
    outcome.written_through = stored && *stored;
    if (!stored) counters_->redis_error();
  }
  co_return outcome;
}

asio::awaitable<void> CatalogService::retry_invalidations() {
  asio::steady_timer wait(ex_);
  while (!pending_invalidations_.empty()) {
    wait.expires_after(policy_.invalidation_retry);
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    std::vector<std::string> drop;
    for (auto id : pending_invalidations_) drop.push_back(cache::keys::product(id));
    auto generation = co_await cache_->invalidate(drop);
    if (!generation) continue;
    spdlog::info("event=invalidation_retried products={}", drop.size());
    counters_->pending_invalidations(-static_cast<std::int64_t>(pending_invalidations_.size()));
    for (std::size_t i = 0; i < pending_invalidations_.size(); ++i) counters_->invalidated();
    pending_invalidations_.clear();
  }
  retrying_ = false;
}

asio::awaitable<Result<CacheStats>> CatalogService::cache_stats() {
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

asio::awaitable<Result<TtlHistogram>> CatalogService::ttl_histogram() {
  // Six equal buckets up to the longest TTL plus its jitter, then "longer or no expiry".
  const auto longest = std::max({policy_.ttl, policy_.products_ttl, policy_.categories_ttl,
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

asio::awaitable<Result<std::int64_t>> CatalogService::clear_cache() {
  auto removed = co_await cache_->remove(cache::keys::namespace_pattern());
  if (!removed) co_return removed.error();
  // Loads that began before the flush must not store their (possibly older) values afterwards: bump the
  // generation, exactly as a write does.
  const std::vector<std::string> nothing;
  if (auto bumped = co_await cache_->invalidate(nothing); !bumped) co_return bumped.error();
  counters_->reset();
  co_return *removed;
}

asio::awaitable<Result<cache::KeyPage>> CatalogService::browse_keys(std::string_view match,
                                                                    std::string_view cursor, int count) {
  const std::string pattern = std::string(cache::keys::prefix) + std::string(match);
  auto page = co_await cache_->browse(pattern, cursor, count);
  co_return page;
}

namespace {
Result<void> ours(std::string_view key) {
  if (key.substr(0, cache::keys::prefix.size()) != cache::keys::prefix || key.size() > 1024) {
    return make_error(ErrorKind::invalid_argument,
                      fmt::format("only keys under {} can be read or deleted here", cache::keys::prefix));
  }
  return {};
}
}  // namespace

asio::awaitable<Result<std::optional<cache::KeyValue>>> CatalogService::read_key(std::string_view key) {
  if (auto ok = ours(key); !ok) co_return ok.error();
  auto value = co_await cache_->read(key);
  co_return value;
}

asio::awaitable<Result<bool>> CatalogService::delete_key(std::string_view key) {
  if (auto ok = ours(key); !ok) co_return ok.error();
  auto erased = co_await cache_->erase(key);
  co_return erased;
}

asio::awaitable<Result<std::vector<db::Catalog::QueryPlan>>> CatalogService::explain(
    std::string_view endpoint) {
  auto plans = co_await db_->explain(endpoint);
  co_return plans;
}

asio::awaitable<Result<bool>> CatalogService::expire_product(std::int64_t id) {
  auto key = cache::keys::product(id);
  auto erased = co_await cache_->erase(key);
  co_return erased;
}

asio::awaitable<Readiness> CatalogService::readiness() {
  Readiness r;
  auto ping = co_await db_->ping();
  r.database = ping.has_value();
  r.cache = cache_->connected();
  co_return r;
}

}  // namespace cachelab::service

#include "service/cache_aside.hpp"
#include "core/log.hpp"

#include "cache/keys.hpp"
#include "cache/near_cache.hpp"
#include "cache/store.hpp"
#include "core/stopwatch.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <vector>

namespace cachelab::service {

namespace asio = boost::asio;

// A load in progress on this thread: later callers for the same key wait for its result.
struct CacheAside::Flight {
  std::vector<std::shared_ptr<asio::steady_timer>> waiters;
  std::optional<Result<Answer>> result;
};

namespace {

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

CacheAside::CacheAside(asio::any_io_executor ex, std::shared_ptr<cache::Store> store,
                       std::shared_ptr<Counters> counters, const Policy& policy,
                       std::shared_ptr<const Overrides> overrides, Near near)
    : ex_(ex),
      store_(std::move(store)),
      counters_(std::move(counters)),
      policy_(policy),
      overrides_(std::move(overrides)),
      near_(std::move(near)),
      rng_(std::random_device{}()) {
  token_prefix_ = fmt::format("{:016x}{:016x}-", rng_(), rng_());
}

CacheAside::~CacheAside() = default;

std::chrono::milliseconds CacheAside::jittered(std::chrono::milliseconds ttl) {
  if (policy_.ttl_jitter <= 0) return ttl;
  std::uniform_real_distribution<double> spread(-policy_.ttl_jitter, policy_.ttl_jitter);
  const auto ms = static_cast<std::int64_t>(static_cast<double>(ttl.count()) * (1.0 + spread(rng_)));
  return std::chrono::milliseconds(std::max<std::int64_t>(1, ms));
}

CacheAside::Lifetime CacheAside::lifetime(std::chrono::milliseconds ttl, std::string_view endpoint) const {
  if (overrides_) {
    if (const auto ms = overrides_->ttl_ms.load(std::memory_order_relaxed); ms > 0)
      ttl = std::chrono::milliseconds(ms);
  }
  if (policy_.swr.count() > 0 && policy_.swr_endpoints.contains(std::string(endpoint)))
    return {ttl, policy_.swr};
  return {ttl};
}

std::string CacheAside::next_lease_token() {
  return token_prefix_ + std::to_string(next_token_++);
}

// Cache-aside, step by step:
//   1. Bypass: PostgreSQL only; Redis is neither read nor written.
//   2. Look the key up: the value and its TTL in one pipelined round trip, and the catalog generation where a
//      store may follow (Store::lookup: with the value for a derived key, after the miss for a product's).
//   3. Redis failed: count it as a miss, mark the answer "cache unavailable" and read PostgreSQL; nothing is
//      stored and no lease is taken, so a dead Redis costs a request nothing more.
//   4. Hit: serve the stored bytes as they are (a stored "null" is a cached "not found"); see serve_hit().
//   5. Miss, and another request on this thread is already loading this key: wait for its result
//      (single-flight, join_flight()). Otherwise lead the load (lead_flight()): take the key's lease in Redis
//      so that one caller across all threads and processes queries PostgreSQL, and store the value only if
//      no write bumped the generation since step 2.
asio::awaitable<Result<Answer>> CacheAside::read_through(std::string key, Lifetime life, CacheMode mode,
                                                         Loader load, NotFound not_found) {
  if (mode == CacheMode::bypass) {
    Answer answer;
    answer.bypassed = true;
    auto r = co_await load_direct(std::move(answer), load);
    co_return r;
  }

  // The near cache first: a hit there costs no Redis round trip. Otherwise a ticket is taken before the
  // Redis read, so that a value an invalidation overtook in flight is served but not kept.
  std::uint64_t ticket_seq = 0;
  bool ticket_valid = false;
  if (near_.cache) {
    if (auto hit = near_.cache->get(key)) {
      counters_->near_hit();
      // The one copy of the value: with room for the fields api/render splices in.
      std::string value;
      value.reserve(hit->value.size() + Answer::spliced_room);
      value.assign(hit->value);
      Answer answer = from_cache(cache::CachedValue{std::move(value), hit->ttl_left.count()}, 0);
      answer.source = Source::memory;
      co_return answer;
    }
    const auto ticket = near_.cache->ticket();
    ticket_seq = ticket.seq;
    ticket_valid = ticket.valid;
  }

  Stopwatch redis_time;
  auto seen = co_await store_->lookup(key);
  const double lookup_ms = redis_time.elapsed_ms();
  if (!seen) {
    counters_->redis_error();
    counters_->miss();
    Answer answer;
    answer.cache_unavailable = true;
    answer.timings.redis_ms = lookup_ms;
    auto r = co_await load_direct(std::move(answer), load);
    co_return r;
  }
  if (seen->value) {
    if (near_.cache && seen->tracked) keep_near(ticket_seq, ticket_valid, *seen, life);
    auto r = co_await serve_hit(*seen, lookup_ms, life, load);
    co_return r;
  }
  // From here the read is counted as a miss where it loads, or as collapsed where another request's load
  // serves it.
  if (auto it = flights_.find(seen->key); it != flights_.end()) {
    auto r = co_await join_flight(it->second, *seen, life, load, not_found);
    co_return r;
  }
  auto r = co_await lead_flight(*seen, lookup_ms, life, load, not_found);
  co_return r;
}

// A hit. With stale-while-revalidate, entries live ttl + swr in Redis and the last `swr` of that is the stale
// window: such a hit is served at once, marked stale, and one refresh per key runs in the background.
asio::awaitable<Result<Answer>> CacheAside::serve_hit(cache::Lookup& seen, double lookup_ms, Lifetime life,
                                                      Loader& load) {
  counters_->hit();
  Answer answer = from_cache(std::move(*seen.value), lookup_ms);
  if (life.swr.count() > 0 && answer.ttl_ms && *answer.ttl_ms >= 0) {
    if (*answer.ttl_ms <= life.swr.count()) {
      answer.stale = true;
      answer.ttl_ms = 0;
      if (refreshing_.insert(seen.key).second) {
        asio::co_spawn(ex_, refresh(seen.key, seen.generation, seen.wal_fence, life, load), asio::detached);
      }
    } else {
      *answer.ttl_ms -= life.swr.count();
    }
  }
  co_return answer;
}

// Single-flight: wait for the load of the same key already running on this thread, and share its result.
asio::awaitable<Result<Answer>> CacheAside::join_flight(std::shared_ptr<Flight> flight,
                                                        const cache::Lookup& seen, Lifetime life,
                                                        Loader& load, NotFound not_found) {
  auto waiter = std::make_shared<asio::steady_timer>(ex_, policy_.lease_ttl * 2);
  flight->waiters.push_back(waiter);
  counters_->stampede_suppressed();
  boost::system::error_code ec;
  co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (flight->result) {
    auto shared = *flight->result;
    if (shared) {
      shared->collapsed = true;
      counters_->collapsed();
    } else {
      counters_->miss();  // the load it joined failed
    }
    co_return shared;
  }
  // The leader took too long: go to the database ourselves.
  counters_->miss();
  auto fallback = co_await load_and_store(seen, life, load, not_found);
  co_return fallback;
}

// The first caller for a missing key on this thread loads it; callers that arrive meanwhile join its flight.
asio::awaitable<Result<Answer>> CacheAside::lead_flight(const cache::Lookup& seen, double lookup_ms,
                                                        Lifetime life, Loader& load, NotFound not_found) {
  auto flight = std::make_shared<Flight>();
  flights_.emplace(seen.key, flight);
  auto result = co_await load_once(seen, life, load, not_found);
  if (result) result->timings.redis_ms += lookup_ms;
  flight->result = result;
  for (auto& w : flight->waiters) w->cancel();
  flights_.erase(seen.key);
  co_return result;
}

asio::awaitable<Result<Answer>> CacheAside::load_direct(Answer answer, Loader& load) {
  Stopwatch db_time;
  counters_->db_query();
  auto loaded = co_await load(0);
  answer.timings.db_ms = db_time.elapsed_ms();
  if (!loaded) {
    if (loaded.error().kind != ErrorKind::not_found) co_return loaded.error();
    answer.not_found = true;
    co_return answer;
  }
  answer.body = std::move(*loaded);
  co_return answer;
}

// Across threads and processes: whoever takes the key's lease (SET NX PX) loads it; the others wait for its
// value (wait_for_lease_holder()) and load it themselves only if it does not come within the lease's life.
// The lease is refused while the key has a value: a caller whose lookup missed just before the holder stored
// the value and released the lease reads that value instead of loading it again.
// A Redis failure on the lease falls through to loading it ourselves.
asio::awaitable<Result<Answer>> CacheAside::load_once(const cache::Lookup& seen, Lifetime life, Loader& load,
                                                      NotFound not_found) {
  const std::string lease_key = cache::keys::lease(seen.key);
  const std::string token = next_lease_token();
  auto leased = co_await store_->acquire_lease(lease_key, token, policy_.lease_ttl, seen.key);
  if (!leased) {
    counters_->redis_error();
    counters_->miss();
    auto r = co_await load_and_store(seen, life, load, not_found);
    co_return r;
  }
  if (*leased) {
    counters_->miss();
    auto r = co_await load_and_store(seen, life, load, not_found);
    if (auto released = co_await store_->release_lease(lease_key, token); !released) counters_->redis_error();
    co_return r;
  }
  if (auto theirs = co_await wait_for_lease_holder(seen)) {
    counters_->collapsed();
    co_return std::move(*theirs);
  }
  counters_->miss();
  auto r = co_await load_and_store(seen, life, load, not_found);
  co_return r;
}

// Another thread or process holds the lease: look for its value every Policy::lease_poll, up to the lease's
// lifetime. Nothing when it did not come (or Redis failed meanwhile).
asio::awaitable<std::optional<Answer>> CacheAside::wait_for_lease_holder(const cache::Lookup& seen) {
  counters_->lease_wait();
  Stopwatch waited;
  const auto deadline = Stopwatch::clock::now() + policy_.lease_ttl;
  asio::steady_timer poll(ex_);
  while (Stopwatch::clock::now() < deadline) {
    poll.expires_after(policy_.lease_poll);
    boost::system::error_code ec;
    co_await poll.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    auto again = co_await store_->lookup(seen.key);
    if (!again) break;
    if (again->value) {
      Answer answer = from_cache(std::move(*again->value), waited.elapsed_ms());
      answer.collapsed = true;
      co_return answer;
    }
  }
  co_return std::nullopt;
}

// Loads, then stores under the guard: only if the generation is still the one the lookup saw. A write that
// committed in between bumped it, so a value that may predate that write is never stored.
asio::awaitable<Result<Answer>> CacheAside::load_and_store(const cache::Lookup& seen, Lifetime life,
                                                           Loader& load, NotFound not_found) {
  Answer answer;
  Stopwatch db_time;
  counters_->db_query();
  auto loaded = co_await load(seen.wal_fence);
  answer.timings.db_ms = db_time.elapsed_ms();
  std::string_view value;
  auto keep = jittered(life.ttl) + life.swr;
  if (!loaded) {
    if (loaded.error().kind != ErrorKind::not_found) co_return loaded.error();
    answer.not_found = true;
    if (not_found == NotFound::answer) co_return answer;
    value = not_found_marker;
    keep = jittered(policy_.negative_ttl);
  } else {
    answer.body = std::move(*loaded);
    value = answer.body;
  }
  Stopwatch redis_time;
  auto stored = co_await store_->store(seen.key, value, keep, seen.generation);
  answer.timings.redis_ms += redis_time.elapsed_ms();
  if (!stored) {
    counters_->redis_error();
    answer.cache_unavailable = true;
  } else {
    answer.stored = *stored;
    if (!answer.stored) counters_->store_refused();
    // What the entry just written has left, against the soft TTL as on a hit: clients can count it down.
    if (answer.stored && !answer.not_found) answer.ttl_ms = (keep - life.swr).count();
  }
  co_return answer;
}

// Stale-while-revalidate's background refresh. One refresher across threads and processes: whoever holds the
// lease. The others keep serving the stale value meanwhile.
asio::awaitable<void> CacheAside::refresh(std::string key, std::string generation, std::uint64_t wal_fence,
                                          Lifetime life, Loader load) {
  const std::string lease_key = cache::keys::lease(key);
  const std::string token = next_lease_token();
  auto leased = co_await store_->acquire_lease(lease_key, token, policy_.lease_ttl);
  if (leased && *leased) {
    // A hit on a plain key carries no generation (Store::lookup): read it now, before loading.
    std::uint64_t fence = wal_fence;
    if (generation.empty()) {
      auto g = co_await store_->current_generation();
      if (g) {
        generation = std::move(g->value);
        fence = g->wal_fence;
      }
    }
    cache::Lookup seen{generation, key, std::nullopt};
    seen.wal_fence = fence;
    auto r = co_await load_and_store(seen, life, load, NotFound::answer);
    if (!r)
      spdlog::warn("event=swr_refresh_failed key={} detail={}", log_quote(key), log_quote(r.error().message));
    (void)co_await store_->release_lease(lease_key, token);
  }
  refreshing_.erase(key);
}

// Invalidation runs only after the commit, so a reader that looks after the write's answer can only miss (and
// load the committed row) or find a value stored under the new generation, which was loaded after the commit.
// A Redis hit the near cache may keep: for what is left of its Redis TTL, less the stale-while-revalidate
// window (stale answers come from Redis, where one refresh per key is coordinated).
void CacheAside::keep_near(std::uint64_t ticket_seq, bool ticket_valid, const cache::Lookup& seen,
                           Lifetime life) {
  const auto left = seen.value->ttl_ms < 0 ? life.ttl.count() : seen.value->ttl_ms - life.swr.count();
  // Derived keys name the generation ("{gen}"): they are retired together when the generation moves.
  const bool derived = seen.key != cache::keys::unresolve(seen.key);
  near_.cache->put(cache::NearCache::Ticket{ticket_seq, ticket_valid}, cache::keys::unresolve(seen.key),
                   seen.value->value, seen.generation, std::chrono::milliseconds(left), derived);
}

// This process's write, for every thread's near cache: the key itself and, through the generation, every
// derived entry. Published before and after the Redis invalidation: before, so that no read still in flight
// keeps the old value; after, so that a read between the two (which Redis still answered with the old value,
// and whose own connection is not told: NOLOOP) does not keep it either. The write's answer goes out after.
void CacheAside::publish_write(const std::string& key) {
  if (!near_.log) return;
  near_.log->publish(key);
  near_.log->publish(cache::keys::generation());
}

asio::awaitable<Invalidation> CacheAside::invalidate_after_write(std::string key,
                                                                 std::optional<std::string> committed,
                                                                 std::uint64_t wal_fence) {
  Invalidation outcome{key};
  publish_write(key);
  const std::vector<std::string> drop = {key};
  auto generation = co_await store_->invalidate(drop, wal_fence);
  // A Redis Cluster moving cachelab's slot refuses multi-key scripts for moments (its keys are split between
  // two nodes): try again shortly, within Policy::cluster_moving_budget, so that the write's answer still
  // comes after its invalidation. Once the slot is seen moving, `unavailable` is part of the move too: a
  // MOVED drops the connection, and the attempts until it is made again on the new node fail that way.
  const bool moving = !generation && generation.error().code == cache::cluster_moving;
  const auto moving_until = Stopwatch::clock::now() + policy_.cluster_moving_budget;
  asio::steady_timer pause(ex_);
  while (moving && !generation && generation.error().kind == ErrorKind::unavailable &&
         Stopwatch::clock::now() < moving_until) {
    pause.expires_after(policy_.cluster_moving_retry);
    boost::system::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    generation = co_await store_->invalidate(drop, wal_fence);
  }
  publish_write(key);
  const auto queue = [&] {
    if (pending_invalidations_.insert(key).second) counters_->invalidation_queued();
    pending_fence_ = std::max(pending_fence_, wal_fence);
    if (!retrying_) {
      retrying_ = true;
      asio::co_spawn(ex_, retry_invalidations(), asio::detached);
    }
  };
  if (!generation) {
    // The write is committed; the cache is not reachable. Queue the invalidation and retry until it goes
    // through; meanwhile a stale entry can live at most until its TTL runs out.
    counters_->redis_error();
    queue();
    outcome.pending = true;
    co_return outcome;
  }
  counters_->invalidated();
  if (!generation->replicated) {
    // Through on the master, not yet on its replicas: a failover now would bring the old value back. Sent
    // again until they acknowledge it (the answer need not wait: the master has it).
    counters_->invalidation_unreplicated();
    resend_unreplicated_until_ = Stopwatch::clock::now() + policy_.unreplicated_resend_for;
    queue();
  }
  outcome.retired_pattern = cache::keys::derived_pattern(generation->generation - 1);
  if (policy_.write_policy == WritePolicy::write_through && committed) {
    auto stored = co_await store_->store(key, *committed, jittered(policy_.product_ttl),
                                         std::to_string(generation->generation));
    outcome.written_through = stored && *stored;
    if (!stored) counters_->redis_error();
  }
  co_return outcome;
}

asio::awaitable<void> CacheAside::retry_invalidations() {
  asio::steady_timer wait(ex_);
  while (!pending_invalidations_.empty()) {
    wait.expires_after(policy_.invalidation_retry);
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    // Taken out of the queue while in flight: a write that fails to invalidate meanwhile queues its key
    // again, and it stays queued even if this attempt goes through (it may have run before that commit).
    auto sending = std::exchange(pending_invalidations_, {});
    const auto fence = std::exchange(pending_fence_, 0);
    const std::vector<std::string> drop(sending.begin(), sending.end());
    auto generation = co_await store_->invalidate(drop, fence);
    const bool resend =
        generation && !generation->replicated && Stopwatch::clock::now() < resend_unreplicated_until_;
    if (!generation || resend) {
      for (const auto& key : sending) {
        if (!pending_invalidations_.insert(key).second) counters_->invalidation_merged();
      }
      pending_fence_ = std::max(pending_fence_, fence);
      continue;
    }
    spdlog::info("event=invalidation_retried products={}", drop.size());
    counters_->invalidations_retried(static_cast<std::int64_t>(drop.size()));
  }
  retrying_ = false;
}

}  // namespace cachelab::service

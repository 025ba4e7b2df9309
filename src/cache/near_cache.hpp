// cache/near_cache: the in-process tier (L1) in front of Redis, and the log of invalidations that keeps it
// correct. Owns the entries of one I/O thread (a NearCache per thread: the hit path takes no lock, only an
// atomic load of the log's sequence) and the process-wide InvalidationLog that Redis's invalidation messages
// and this process's own writes are published to.
// Eviction is S3-FIFO (Yang et al., SOSP 2023): new entries enter a small FIFO (10% of the bytes); those read
// again before they reach its end move to the main FIFO, the others leave a ghost (a hash) so that a quick
// return goes straight to main; main gives entries read since their last pass another round. It keeps
// one-hit wonders out of main at FIFO's cost, and matches or beats LRU on skewed (Zipf) traffic.
// Never talks to Redis and never decides what is cached: service/ asks it, and cache/invalidation_listener
// feeds the log. Never serves an entry past the Redis TTL it was read with, nor one that an invalidation
// published since reached, nor anything while the log is blind (no invalidations can be received).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cachelab::cache {

using NearClock = std::chrono::steady_clock;

// What was invalidated, in order, for every thread's NearCache to apply. A key as Redis names it (a derived
// key's generation written as "{gen}", see keys::unresolve), the generation key (every derived entry), or
// everything (an empty key: a flush, a lost connection, a restart).
class InvalidationLog {
 public:
  explicit InvalidationLog(std::size_t capacity = 4096) : capacity_(capacity) {}

  // Appends; a reader that falls more than `capacity` entries behind drops everything.
  void publish(std::string key);
  void publish_everything() { publish(std::string()); }

  // The sequence number of the last entry: a relaxed look costs what an atomic load costs.
  std::uint64_t sequence() const { return seq_.load(std::memory_order_acquire); }

  // Calls visit(key) for every entry after `since` (an empty key when the log no longer reaches back that
  // far), and returns the sequence read up to.
  template <class Visit>
  std::uint64_t read_since(std::uint64_t since, Visit&& visit) const {
    std::lock_guard lock(mu_);
    const std::uint64_t last = seq_.load(std::memory_order_relaxed);
    if (last - since > entries_.size()) {
      visit(std::string_view());
      return last;
    }
    for (std::size_t i = entries_.size() - (last - since); i < entries_.size(); ++i) visit(entries_[i]);
    return last;
  }

  // While blind (no invalidation connection, or tracking not set up yet) no NearCache serves or stores.
  void set_blind(bool blind) {
    if (blind) publish_everything();
    blind_.store(blind, std::memory_order_release);
  }
  bool blind() const { return blind_.load(std::memory_order_acquire); }

  std::uint64_t received() const { return seq_.load(std::memory_order_relaxed); }

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<std::string> entries_;
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<bool> blind_{true};
};

struct NearStats {
  std::uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0, invalidated = 0, refused = 0, flushes = 0;
  std::size_t entries = 0, bytes = 0;
};

class NearCache {
 public:
  // `generation_key` is the key whose invalidation retires every derived entry (keys::generation()).
  NearCache(std::size_t max_bytes, std::shared_ptr<const InvalidationLog> log, std::string generation_key);

  // Views of the entry: valid until the next call on this NearCache (any call may evict or drop it), so the
  // hit path copies the value once, where it needs its own copy, and nowhere else.
  struct Hit {
    std::string_view value;
    std::string_view generation;  // what the entry was read under
    std::chrono::milliseconds ttl_left;
  };
  // The entry for `key` (as service/ names it, "{gen}" unresolved), if it is fresh and nothing retired it.
  std::optional<Hit> get(std::string_view key, NearClock::time_point now = NearClock::now());

  // Taken before the Redis read whose result may be stored: put() refuses the value if an invalidation of
  // the key (or everything) was published after the ticket, or the log was blind.
  struct Ticket {
    std::uint64_t seq = 0;
    bool valid = false;
  };
  Ticket ticket() const;

  // Stores what Redis answered under the ticket, for `ttl` (the Redis TTL left) at most. Derived entries
  // (`derived`: their key holds "{gen}") are retired as a group when the generation key is invalidated.
  bool put(const Ticket& t, std::string_view key, std::string_view value, std::string_view generation,
           std::chrono::milliseconds ttl, bool derived, NearClock::time_point now = NearClock::now());

  // Drops one entry now (this thread's own write; other threads learn it from the log).
  void erase(std::string_view key);
  void clear();

  // Safe to call from any thread (the counters are relaxed atomics).
  NearStats stats() const;
  std::size_t max_bytes() const { return max_bytes_; }

  // What an entry takes from the heap, counted against the budget: the block holding its key, value and
  // generation, the list node that holds it, its index node and bucket, and a ghost's worth of the ghost
  // queue (as many ghosts as main holds entries), each allocation as malloc rounds it. A unit test holds it
  // to what the allocator reports.
  static std::size_t cost(std::string_view key, std::string_view value, std::string_view generation = {});

 private:
  enum class Queue : std::uint8_t { small, main };
  struct Entry {
    std::unique_ptr<char[]> block;  // key, then value, then generation: one allocation per entry
    std::uint32_t key_size = 0, value_size = 0, generation_size = 0;
    std::string_view key() const { return {block.get(), key_size}; }
    std::string_view value() const { return {block.get() + key_size, value_size}; }
    std::string_view generation() const { return {block.get() + key_size + value_size, generation_size}; }
    NearClock::time_point expires;
    std::uint64_t gen_epoch = 0;  // for derived entries: the shard's generation epoch when stored
    std::size_t bytes = 0;
    std::uint8_t freq = 0;
    bool derived = false;
    Queue queue = Queue::small;
  };
  using List = std::list<Entry>;

  void catch_up();  // applies what the log published since we last looked
  void apply(std::string_view key);
  void remove(List::iterator it);
  void make_room(std::size_t bytes);
  void evict_small();
  void evict_main();
  void remember_ghost(std::string_view key);
  bool ghost_has(std::string_view key) const;

  std::size_t max_bytes_;
  std::shared_ptr<const InvalidationLog> log_;
  std::string generation_key_;
  std::uint64_t seen_ = 0;       // log sequence applied
  std::uint64_t gen_epoch_ = 0;  // bumped when the generation key is invalidated
  List small_, main_;            // front = newest, back = next to leave
  std::unordered_map<std::string_view, List::iterator> index_;
  std::size_t small_bytes_ = 0, main_bytes_ = 0;
  std::deque<std::size_t> ghost_fifo_;  // hashes of keys that left small unread, oldest first
  std::unordered_map<std::size_t, std::uint32_t> ghost_;  // hash -> count in ghost_fifo_
  struct Counters {
    std::atomic<std::uint64_t> hits{0}, misses{0}, inserts{0}, evictions{0}, invalidated{0}, refused{0},
        flushes{0};
    std::atomic<std::size_t> entries{0}, bytes{0};
  };
  static void bump(std::atomic<std::uint64_t>& n) { n.fetch_add(1, std::memory_order_relaxed); }
  void publish_size();
  Counters stats_;
};

}  // namespace cachelab::cache

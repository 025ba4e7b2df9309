// cache/near_cache: the in-process tier (L1) in front of Redis, and the log of invalidations that keeps it
// correct. Owns the entries of one I/O thread (a NearCache per thread: the hit path takes no lock, only an
// atomic load of the log's sequence) and the process-wide InvalidationLog that Redis's invalidation messages
// and this process's own writes are published to.
// Eviction is S3-FIFO (Yang et al., SOSP 2023): new entries enter a small FIFO (10% of the memory); those
// read again before they reach its end move to the main FIFO, the others leave a ghost (a hash) so that a
// quick return goes straight to main; main gives entries read since their last pass another round. It keeps
// one-hit wonders out of main at FIFO's cost, and matches or beats LRU on skewed (Zipf) traffic.
// Memory: the budget is one mapping made when the cache is built, outside the allocator's heap: a flat index,
// the ghosts, and fixed-size segments that entries are appended to (log-structured, as in Segcache). Eviction
// frees the oldest segment of a queue whole, copying the entries that earn another round to main's newest; an
// invalidated entry is marked dead and its bytes come back with its segment, whose pages go back to the
// kernel as it is freed. So the process never holds more for the near cache than its budget, whatever the
// churn, and no more resident than its index, ghosts and the segments in use. Never talks to Redis and never
// decides what is cached: service/ asks it, and cache/invalidation_listener feeds the log. Never serves an
// entry past the Redis TTL it was read with, nor one that an invalidation published since reached, nor
// anything while the log is blind (no invalidations can be received).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachelab::cache {

using NearClock = std::chrono::steady_clock;

// What was invalidated, in order, for every thread's NearCache to apply: the hash (key_hash) of a key as
// Redis names it (a derived key's generation written as "{gen}", see keys::unresolve), of the generation key
// (every derived entry), or 0 for everything (a flush, a lost connection, a restart). Hashes, not keys: the
// log is a ring of numbers sized once, and two keys with one hash only cost a needless drop or refusal, never
// a stale read.
class InvalidationLog {
 public:
  explicit InvalidationLog(std::size_t capacity = 4096) : ring_(capacity) {}

  // Appends; a reader that falls more than `capacity` entries behind drops everything.
  void publish(std::string_view key) { publish_hash(key_hash(key)); }
  void publish_everything() { publish_hash(0); }

  // Never 0, which stands for everything.
  static std::uint64_t key_hash(std::string_view key) { return std::hash<std::string_view>{}(key) | 1; }

  // The sequence number of the last entry: a relaxed look costs what an atomic load costs.
  std::uint64_t sequence() const { return seq_.load(std::memory_order_acquire); }

  // Calls visit(hash) for every entry after `since` (0 when the log no longer reaches back that far), and
  // returns the sequence read up to.
  template <class Visit>
  std::uint64_t read_since(std::uint64_t since, Visit&& visit) const {
    std::lock_guard lock(mu_);
    const std::uint64_t last = seq_.load(std::memory_order_relaxed);
    if (last - since > ring_.size()) {
      visit(std::uint64_t{0});
      return last;
    }
    for (std::uint64_t n = since; n < last; ++n) visit(ring_[n % ring_.size()]);
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
  void publish_hash(std::uint64_t hash);

  mutable std::mutex mu_;
  std::vector<std::uint64_t> ring_;  // entry n (from 0) at n % size
  std::atomic<std::uint64_t> seq_{0};
  std::atomic<bool> blind_{true};
};

struct NearStats {
  std::uint64_t hits = 0, misses = 0, inserts = 0, evictions = 0, invalidated = 0, refused = 0, flushes = 0;
  std::size_t entries = 0, bytes = 0;
};

class NearCache {
 public:
  // `generation_key` is the key whose invalidation retires every derived entry (keys::generation()). The
  // whole budget is mapped at once (pages are touched as entries arrive); a budget too small for the layout
  // (under 20 KiB) keeps nothing.
  NearCache(std::size_t max_bytes, std::shared_ptr<const InvalidationLog> log,
            std::string_view generation_key);
  ~NearCache();
  NearCache(const NearCache&) = delete;
  NearCache& operator=(const NearCache&) = delete;

  // Views of the entry: valid until the next call on this NearCache (any call may evict or move it), so the
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
  // Refuses an entry larger than a segment (the largest power of two within 1/64 of the budget, 4 KiB to
  // 1 MiB).
  bool put(const Ticket& t, std::string_view key, std::string_view value, std::string_view generation,
           std::chrono::milliseconds ttl, bool derived, NearClock::time_point now = NearClock::now());

  // Drops one entry now (this thread's own write; other threads learn it from the log).
  void erase(std::string_view key);
  void clear();

  // Safe to call from any thread (the counters are relaxed atomics). `bytes` is what the live entries take
  // of their segments; the memory held is mapped_bytes(), never more than the budget.
  NearStats stats() const;
  std::size_t max_bytes() const { return max_bytes_; }
  std::size_t mapped_bytes() const { return mapped_; }
  std::size_t segment_bytes() const { return seg_bytes_; }
  // The mapping's first byte (mapped_bytes() long; null when the cache keeps nothing), for a look at which of
  // its pages are resident: a freed segment's pages are given back.
  const void* mapping() const { return map_; }

  // What an entry takes of a segment: a 32-byte header, then key, value and generation, 8-byte aligned.
  static std::size_t cost(std::string_view key, std::string_view value, std::string_view generation = {});

 private:
  struct Record;  // an entry's header in its segment, followed by its key, value and generation
  struct Slot {   // the index: open addressing, linear probing
    std::uint32_t hash = 0;
    std::uint32_t loc = 0;  // the record's loc (loc_of); 0 = empty
  };
  static constexpr std::uint32_t no_segment = UINT32_MAX;
  struct Segment {
    std::uint32_t next = no_segment;  // the next newer segment of its queue, or the next free one
    std::uint32_t used = 0;           // bytes appended
  };
  struct Queue {
    std::uint32_t oldest = no_segment, newest = no_segment;  // newest: the one appended to
    std::uint32_t segments = 0;
  };

  void catch_up();  // applies what the log published since we last looked
  void apply(std::uint64_t hash);

  std::size_t find(std::string_view key, std::uint32_t hash) const;  // slot index, or npos
  void unindex(std::size_t slot);                                    // backward-shift deletion
  void index(std::uint32_t hash, std::uint32_t loc);
  void relocate(std::uint32_t hash, std::uint32_t from, std::uint32_t to);
  Record& at(std::uint32_t loc) const;
  // A record's loc: its offset in the segment area / 8 + 1 (0 is an empty slot), and back.
  std::uint32_t loc_of(std::uint32_t segment, std::uint32_t offset) const {
    return static_cast<std::uint32_t>((std::size_t{segment} * seg_bytes_ + offset) / 8 + 1);
  }
  char* bytes_at(std::uint32_t loc) const { return seg_area_ + std::size_t{loc - 1} * 8; }
  void drop(std::size_t slot);  // unindexes a live entry and marks its record dead

  std::size_t slot_of(std::uint32_t hash, std::uint32_t loc) const;  // the slot of a live record
  // Appends `bytes` to the newest segment of `q` (a new one when it is full) and returns the record's loc.
  std::uint32_t append(Queue& q, std::size_t bytes);
  bool has_room(const Queue& q, std::size_t bytes) const {
    return q.newest != no_segment && segs_[q.newest].used + bytes <= seg_bytes_;
  }
  void make_room(const Queue& q, std::size_t bytes, NearClock::time_point now);
  void evict(Queue& q, NearClock::time_point now);  // frees q's oldest segment
  void remember_ghost(std::uint32_t hash) { ghost_[hash & ghost_mask_] = hash | 1; }
  bool ghost_has(std::uint32_t hash) const { return ghost_[hash & ghost_mask_] == (hash | 1); }
  bool stale(const Record& r, NearClock::time_point now) const;

  std::size_t max_bytes_;
  std::shared_ptr<const InvalidationLog> log_;
  std::uint64_t generation_hash_;
  std::uint64_t seen_ = 0;       // log sequence applied
  std::uint64_t gen_epoch_ = 0;  // bumped when the generation key is invalidated

  // One mapping of at most max_bytes_: the index, the ghosts (fingerprints of keys that left the small queue
  // unread, one per slot, newer overwriting older), then the segments.
  char* map_ = nullptr;
  std::size_t mapped_ = 0;
  Slot* slots_ = nullptr;
  std::size_t slot_mask_ = 0, max_entries_ = 0;
  std::uint32_t* ghost_ = nullptr;
  std::size_t ghost_mask_ = 0;
  char* seg_area_ = nullptr;
  std::size_t seg_bytes_ = 0;
  std::vector<Segment> segs_;  // sized once, when constructed
  Queue small_, main_;
  std::uint32_t free_ = no_segment;  // the free segments, linked
  std::uint32_t free_count_ = 0, small_target_ = 0;
  std::size_t live_entries_ = 0, live_bytes_ = 0;

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

#include "cache/near_cache.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

namespace cachelab::cache {

void InvalidationLog::publish(std::string key) {
  std::lock_guard lock(mu_);
  entries_.push_back(std::move(key));
  if (entries_.size() > capacity_) entries_.pop_front();
  seq_.fetch_add(1, std::memory_order_release);
}

NearCache::NearCache(std::size_t max_bytes, std::shared_ptr<const InvalidationLog> log,
                     std::string generation_key)
    : max_bytes_(max_bytes), log_(std::move(log)), generation_key_(std::move(generation_key)) {
  seen_ = log_->sequence();
}

void NearCache::catch_up() {
  if (log_->sequence() == seen_) return;  // the hit path's only synchronisation
  seen_ = log_->read_since(seen_, [this](std::string_view key) { apply(key); });
}

void NearCache::apply(std::string_view key) {
  if (key.empty()) {
    if (!index_.empty()) bump(stats_.flushes);
    clear();
  } else if (key == generation_key_) {
    ++gen_epoch_;  // every derived entry is retired; each is dropped when next met
  } else if (auto it = index_.find(key); it != index_.end()) {
    bump(stats_.invalidated);
    remove(it->second);
  }
}

std::optional<NearCache::Hit> NearCache::get(std::string_view key, NearClock::time_point now) {
  catch_up();
  if (log_->blind()) {
    bump(stats_.misses);
    return std::nullopt;
  }
  auto it = index_.find(key);
  if (it == index_.end()) {
    bump(stats_.misses);
    return std::nullopt;
  }
  Entry& e = *it->second;
  if (now >= e.expires || (e.derived && e.gen_epoch != gen_epoch_)) {
    remove(it->second);
    bump(stats_.misses);
    return std::nullopt;
  }
  e.freq = static_cast<std::uint8_t>(std::min(3, e.freq + 1));
  bump(stats_.hits);
  return Hit{e.value(), e.generation(), std::chrono::ceil<std::chrono::milliseconds>(e.expires - now)};
}

NearCache::Ticket NearCache::ticket() const {
  return Ticket{log_->sequence(), !log_->blind()};
}

namespace {
// glibc's malloc: an 8-byte header, 16-byte granules, 32 bytes at least.
constexpr std::size_t malloc_size(std::size_t n) {
  return std::max<std::size_t>(32, (n + 8 + 15) / 16 * 16);
}
// The one heap block an entry keeps: its key, value and generation, end to end.
std::size_t block_size(std::string_view key, std::string_view value, std::string_view generation) {
  return key.size() + value.size() + generation.size();
}
}  // namespace

std::size_t NearCache::cost(std::string_view key, std::string_view value, std::string_view generation) {
  constexpr std::size_t list_node = malloc_size(sizeof(Entry) + 2 * sizeof(void*));
  // unordered_map<string_view, iterator>: next pointer, the pair, the cached hash; one bucket pointer each.
  constexpr std::size_t index_node =
      malloc_size(sizeof(void*) + sizeof(std::string_view) + sizeof(List::iterator) + sizeof(std::size_t)) +
      sizeof(void*);
  // A ghost: its hash in the deque, and a node (next, hash, count) plus a bucket in the map.
  constexpr std::size_t ghost = sizeof(std::size_t) +
                                malloc_size(sizeof(void*) + sizeof(std::size_t) + sizeof(std::uint64_t)) +
                                sizeof(void*);
  return malloc_size(block_size(key, value, generation)) + list_node + index_node + ghost;
}

bool NearCache::put(const Ticket& t, std::string_view key, std::string_view value,
                    std::string_view generation, std::chrono::milliseconds ttl, bool derived,
                    NearClock::time_point now) {
  catch_up();
  if (max_bytes_ == 0) return false;
  // Refused: taken while blind, blind now, or an invalidation that may concern this key came after the ticket
  // (its Redis read may have returned the value that the invalidation retired).
  bool overtaken = !t.valid || log_->blind();
  if (!overtaken && log_->sequence() != t.seq) {
    log_->read_since(t.seq, [&](std::string_view k) {
      overtaken = overtaken || k.empty() || k == key || (derived && k == generation_key_);
    });
  }
  const std::size_t bytes = cost(key, value, generation);
  if (overtaken || ttl.count() <= 0 || bytes > max_bytes_ / 10) {
    bump(stats_.refused);
    return false;
  }
  if (auto it = index_.find(key); it != index_.end()) remove(it->second);
  make_room(bytes);
  const bool was_ghost = ghost_has(key);
  List& q = was_ghost ? main_ : small_;
  Entry e;
  e.block = std::make_unique_for_overwrite<char[]>(block_size(key, value, generation));
  e.key_size = static_cast<std::uint32_t>(key.size());
  e.value_size = static_cast<std::uint32_t>(value.size());
  e.generation_size = static_cast<std::uint32_t>(generation.size());
  std::memcpy(e.block.get(), key.data(), key.size());
  std::memcpy(e.block.get() + key.size(), value.data(), value.size());
  std::memcpy(e.block.get() + key.size() + value.size(), generation.data(), generation.size());
  e.expires = now + ttl;
  e.gen_epoch = gen_epoch_;
  e.bytes = bytes;
  e.derived = derived;
  e.queue = was_ghost ? Queue::main : Queue::small;
  q.push_front(std::move(e));
  (was_ghost ? main_bytes_ : small_bytes_) += bytes;
  index_.emplace(q.front().key(), q.begin());
  bump(stats_.inserts);
  publish_size();
  return true;
}

void NearCache::erase(std::string_view key) {
  if (auto it = index_.find(key); it != index_.end()) remove(it->second);
}

void NearCache::clear() {
  index_.clear();
  small_.clear();
  main_.clear();
  small_bytes_ = main_bytes_ = 0;
  publish_size();
}

void NearCache::remove(List::iterator it) {
  index_.erase(it->key());
  if (it->queue == Queue::small) {
    small_bytes_ -= it->bytes;
    small_.erase(it);
  } else {
    main_bytes_ -= it->bytes;
    main_.erase(it);
  }
  publish_size();
}

void NearCache::make_room(std::size_t bytes) {
  while (small_bytes_ + main_bytes_ + bytes > max_bytes_ && !(small_.empty() && main_.empty())) {
    if (!small_.empty() && (small_bytes_ >= max_bytes_ / 10 || main_.empty())) {
      evict_small();
    } else {
      evict_main();
    }
  }
}

// The oldest entry of the small queue: read again since it came → main (made room for), else → gone, its
// hash remembered in the ghost queue.
void NearCache::evict_small() {
  auto it = std::prev(small_.end());
  if (it->freq >= 1) {
    it->freq = 0;
    it->queue = Queue::main;
    small_bytes_ -= it->bytes;
    main_bytes_ += it->bytes;
    main_.splice(main_.begin(), small_, it);
    return;
  }
  remember_ghost(it->key());
  bump(stats_.evictions);
  remove(it);
}

// The oldest entry of main: read since its last pass → another round with one read fewer, else → gone.
void NearCache::evict_main() {
  for (;;) {
    auto it = std::prev(main_.end());
    if (it->freq > 0) {
      --it->freq;
      main_.splice(main_.begin(), main_, it);
      continue;
    }
    bump(stats_.evictions);
    remove(it);
    return;
  }
}

void NearCache::remember_ghost(std::string_view key) {
  const std::size_t h = std::hash<std::string_view>{}(key);
  ghost_fifo_.push_back(h);
  ++ghost_[h];
  // As many ghosts as main holds entries (at least 64).
  while (ghost_fifo_.size() > std::max<std::size_t>(64, main_.size())) {
    auto old = ghost_.find(ghost_fifo_.front());
    if (--old->second == 0) ghost_.erase(old);
    ghost_fifo_.pop_front();
  }
}

bool NearCache::ghost_has(std::string_view key) const {
  return ghost_.contains(std::hash<std::string_view>{}(key));
}

void NearCache::publish_size() {
  stats_.entries.store(index_.size(), std::memory_order_relaxed);
  stats_.bytes.store(small_bytes_ + main_bytes_, std::memory_order_relaxed);
}

NearStats NearCache::stats() const {
  const auto r = std::memory_order_relaxed;
  return NearStats{stats_.hits.load(r),      stats_.misses.load(r),      stats_.inserts.load(r),
                   stats_.evictions.load(r), stats_.invalidated.load(r), stats_.refused.load(r),
                   stats_.flushes.load(r),   stats_.entries.load(r),     stats_.bytes.load(r)};
}

}  // namespace cachelab::cache

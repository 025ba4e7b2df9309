#include "cache/near_cache.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <limits>
#include <new>

namespace cachelab::cache {

void InvalidationLog::publish_hash(std::uint64_t hash) {
  std::lock_guard lock(mu_);
  const std::uint64_t n = seq_.load(std::memory_order_relaxed);
  ring_[n % ring_.size()] = hash;
  seq_.store(n + 1, std::memory_order_release);
}

// An entry in its segment: this header, then its key, value and generation; records are 8-byte aligned.
struct NearCache::Record {
  std::uint32_t key_size, value_size, hash;
  std::uint16_t generation_size;
  std::uint8_t freq;   // reads since it came or since its last pass, up to 3
  std::uint8_t flags;  // live, derived
  NearClock::rep expires;
  std::uint64_t gen_epoch;  // for derived entries: the generation epoch when stored

  static constexpr std::uint8_t live = 1, derived = 2;
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view key() const { return {data(), key_size}; }
  std::string_view value() const { return {data() + key_size, value_size}; }
  std::string_view generation() const { return {data() + key_size + value_size, generation_size}; }
  std::size_t size() const { return cost_of(key_size + value_size + generation_size); }
  static constexpr std::size_t cost_of(std::size_t payload) { return (sizeof(Record) + payload + 7) / 8 * 8; }
};

namespace {
constexpr std::size_t page_bytes = 4096;
constexpr std::size_t npos = static_cast<std::size_t>(-1);
// The index's hash: the low half of the log's, so that an invalidation finds its entry by hash alone.
std::uint32_t hash32(std::string_view key) {
  return static_cast<std::uint32_t>(InvalidationLog::key_hash(key));
}
}  // namespace

// The layout of the budget: segments of a power of two within 1/64 of it (4 KiB to 1 MiB); an index slot per
// 128 bytes (at most 3/4 used, so entries averaging 171 bytes or more are limited by bytes, not slots); a
// ghost per two slots.
NearCache::NearCache(std::size_t max_bytes, std::shared_ptr<const InvalidationLog> log,
                     std::string_view generation_key)
    : max_bytes_(max_bytes),
      log_(std::move(log)),
      generation_hash_(InvalidationLog::key_hash(generation_key)) {
  static_assert(sizeof(Record) == 32);
  seen_ = log_->sequence();
  if (max_bytes_ == 0) return;
  seg_bytes_ = std::clamp<std::size_t>(std::bit_floor(max_bytes_ / 64), page_bytes, std::size_t{1} << 20);
  const std::size_t slots = std::bit_ceil(std::max<std::size_t>(64, max_bytes_ / 128));
  const std::size_t ghosts = slots / 2;
  const std::size_t meta =
      (slots * sizeof(Slot) + ghosts * sizeof(std::uint32_t) + page_bytes - 1) / page_bytes * page_bytes;
  if (meta + 4 * seg_bytes_ > max_bytes_) return;  // too small to hold anything
  const std::size_t segments = (max_bytes_ - meta) / seg_bytes_;
  mapped_ = meta + segments * seg_bytes_;
  void* p =
      ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  map_ = static_cast<char*>(p);
  slots_ = reinterpret_cast<Slot*>(map_);
  slot_mask_ = slots - 1;
  max_entries_ = slots / 4 * 3;
  ghost_ = reinterpret_cast<std::uint32_t*>(map_ + slots * sizeof(Slot));
  ghost_mask_ = ghosts - 1;
  seg_area_ = map_ + meta;
  segs_.resize(segments);
  small_target_ = static_cast<std::uint32_t>(std::max<std::size_t>(1, segments / 10));
  clear();
}

NearCache::~NearCache() {
  if (map_) ::munmap(map_, mapped_);
}

void NearCache::catch_up() {
  if (log_->sequence() == seen_) return;  // the hit path's only synchronisation
  seen_ = log_->read_since(seen_, [this](std::uint64_t hash) { apply(hash); });
}

// A key's invalidation drops every entry whose index hash matches: the key's, and (rarely) another key's.
void NearCache::apply(std::uint64_t hash) {
  if (hash == 0) {
    if (live_entries_ > 0) bump(stats_.flushes);
    clear();
  } else if (hash == generation_hash_) {
    ++gen_epoch_;  // every derived entry is retired; each is dropped when next met
  } else if (map_) {
    const auto h = static_cast<std::uint32_t>(hash);
    std::size_t i = h & slot_mask_;
    while (slots_[i].loc != 0) {
      if (slots_[i].hash == h) {
        bump(stats_.invalidated);
        drop(i);  // the run shifts back into slot i: look at it again
      } else {
        i = (i + 1) & slot_mask_;
      }
    }
    publish_size();
  }
}

NearCache::Record& NearCache::at(std::uint32_t loc) const {
  return *std::launder(reinterpret_cast<Record*>(bytes_at(loc)));
}

bool NearCache::stale(const Record& r, NearClock::time_point now) const {
  return now.time_since_epoch().count() >= r.expires ||
         ((r.flags & Record::derived) && r.gen_epoch != gen_epoch_);
}

std::optional<NearCache::Hit> NearCache::get(std::string_view key, NearClock::time_point now) {
  catch_up();
  const std::size_t i = map_ && !log_->blind() ? find(key, hash32(key)) : npos;
  if (i == npos) {
    bump(stats_.misses);
    return std::nullopt;
  }
  Record& r = at(slots_[i].loc);
  if (stale(r, now)) {
    drop(i);
    publish_size();
    bump(stats_.misses);
    return std::nullopt;
  }
  r.freq = static_cast<std::uint8_t>(std::min(3, r.freq + 1));
  bump(stats_.hits);
  const NearClock::time_point expires{NearClock::duration(r.expires)};
  return Hit{r.value(), r.generation(), std::chrono::ceil<std::chrono::milliseconds>(expires - now)};
}

NearCache::Ticket NearCache::ticket() const {
  return Ticket{log_->sequence(), !log_->blind()};
}

std::size_t NearCache::cost(std::string_view key, std::string_view value, std::string_view generation) {
  return Record::cost_of(key.size() + value.size() + generation.size());
}

bool NearCache::put(const Ticket& t, std::string_view key, std::string_view value,
                    std::string_view generation, std::chrono::milliseconds ttl, bool derived,
                    NearClock::time_point now) {
  catch_up();
  if (max_bytes_ == 0) return false;
  // Refused: taken while blind, blind now, or an invalidation that may concern this key came after the ticket
  // (its Redis read may have returned the value that the invalidation retired).
  const std::uint64_t key_hash = InvalidationLog::key_hash(key);
  bool overtaken = !t.valid || log_->blind();
  if (!overtaken && log_->sequence() != t.seq) {
    log_->read_since(t.seq, [&](std::uint64_t h) {
      overtaken = overtaken || h == 0 || h == key_hash || (derived && h == generation_hash_);
    });
  }
  const std::size_t bytes = cost(key, value, generation);
  if (overtaken || !map_ || ttl.count() <= 0 || bytes > seg_bytes_ ||
      generation.size() > std::numeric_limits<std::uint16_t>::max()) {
    bump(stats_.refused);
    return false;
  }
  const auto hash = static_cast<std::uint32_t>(key_hash);  // the index's half (hash32)
  if (const auto i = find(key, hash); i != npos) drop(i);
  Queue& q = ghost_has(hash) ? main_ : small_;
  make_room(q, bytes, now);
  const std::uint32_t loc = append(q, bytes);
  char* dst = bytes_at(loc);
  ::new (dst) Record{static_cast<std::uint32_t>(key.size()),
                     static_cast<std::uint32_t>(value.size()),
                     hash,
                     static_cast<std::uint16_t>(generation.size()),
                     0,
                     static_cast<std::uint8_t>(Record::live | (derived ? Record::derived : 0)),
                     (now + ttl).time_since_epoch().count(),
                     gen_epoch_};
  char* data = dst + sizeof(Record);
  std::memcpy(data, key.data(), key.size());
  std::memcpy(data + key.size(), value.data(), value.size());
  std::memcpy(data + key.size() + value.size(), generation.data(), generation.size());
  index(hash, loc);
  ++live_entries_;
  live_bytes_ += bytes;
  bump(stats_.inserts);
  publish_size();
  return true;
}

void NearCache::erase(std::string_view key) {
  if (!map_) return;
  if (const auto i = find(key, hash32(key)); i != npos) {
    drop(i);
    publish_size();
  }
}

// Everything dropped and the mapping handed back to the kernel (it reads as zeros when touched again: an
// empty index, no ghosts).
void NearCache::clear() {
  if (!map_) return;
  ::madvise(map_, mapped_, MADV_DONTNEED);
  for (std::size_t s = 0; s < segs_.size(); ++s) {
    segs_[s] = Segment{s + 1 < segs_.size() ? static_cast<std::uint32_t>(s + 1) : no_segment, 0};
  }
  free_ = 0;
  free_count_ = static_cast<std::uint32_t>(segs_.size());
  small_ = main_ = Queue{};
  live_entries_ = live_bytes_ = 0;
  publish_size();
}

std::size_t NearCache::find(std::string_view key, std::uint32_t hash) const {
  for (std::size_t i = hash & slot_mask_; slots_[i].loc != 0; i = (i + 1) & slot_mask_) {
    if (slots_[i].hash == hash && at(slots_[i].loc).key() == key) return i;
  }
  return npos;
}

void NearCache::index(std::uint32_t hash, std::uint32_t loc) {
  std::size_t i = hash & slot_mask_;
  while (slots_[i].loc != 0) i = (i + 1) & slot_mask_;
  slots_[i] = Slot{hash, loc};
}

// Linear probing's deletion without tombstones: later slots of the run move back into the hole unless their
// home lies after it.
void NearCache::unindex(std::size_t hole) {
  for (std::size_t j = (hole + 1) & slot_mask_; slots_[j].loc != 0; j = (j + 1) & slot_mask_) {
    const std::size_t home = slots_[j].hash & slot_mask_;
    if (((j - home) & slot_mask_) >= ((j - hole) & slot_mask_)) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
}

std::size_t NearCache::slot_of(std::uint32_t hash, std::uint32_t loc) const {
  std::size_t i = hash & slot_mask_;
  while (slots_[i].loc != loc) i = (i + 1) & slot_mask_;
  return i;
}

void NearCache::drop(std::size_t slot) {
  Record& r = at(slots_[slot].loc);
  r.flags &= static_cast<std::uint8_t>(~Record::live);
  --live_entries_;
  live_bytes_ -= r.size();
  unindex(slot);
}

std::uint32_t NearCache::append(Queue& q, std::size_t bytes) {
  if (!has_room(q, bytes)) {
    const std::uint32_t s = free_;
    free_ = segs_[s].next;
    --free_count_;
    segs_[s] = Segment{};
    (q.newest == no_segment ? q.oldest : segs_[q.newest].next) = s;
    q.newest = s;
    ++q.segments;
  }
  Segment& g = segs_[q.newest];
  const std::uint32_t loc = loc_of(q.newest, g.used);
  g.used += static_cast<std::uint32_t>(bytes);
  return loc;
}

// Room for one more entry of `bytes` in `q`: a free index slot, and space in q's newest segment or a free
// segment besides the spare one, which eviction keeps for the entries it moves to main.
void NearCache::make_room(const Queue& q, std::size_t bytes, NearClock::time_point now) {
  while (live_entries_ >= max_entries_ || (!has_room(q, bytes) && free_count_ <= 1)) {
    if (small_.segments > 0 && (small_.segments >= small_target_ || main_.segments == 0)) {
      evict(small_, now);
    } else {
      evict(main_, now);
    }
  }
}

// Frees the oldest segment of `q`. From small: an entry read since it came goes to main, the others leave, a
// ghost remembering each. From main: an entry read since its last pass goes round again with one read fewer,
// the others leave. Dead and stale entries just leave. The moves fill at most one new segment of main, so
// the spare segment is always enough.
void NearCache::evict(Queue& q, NearClock::time_point now) {
  const bool from_small = &q == &small_;
  const std::uint32_t s = q.oldest;
  q.oldest = segs_[s].next;
  if (q.oldest == no_segment) q.newest = no_segment;
  --q.segments;
  for (std::uint32_t off = 0; off < segs_[s].used;) {
    const std::uint32_t loc = loc_of(s, off);
    Record& r = at(loc);
    const std::size_t size = r.size();
    off += static_cast<std::uint32_t>(size);
    if (!(r.flags & Record::live)) continue;
    if (!stale(r, now) && r.freq > 0) {
      r.freq = from_small ? 0 : static_cast<std::uint8_t>(r.freq - 1);
      const std::uint32_t to = append(main_, size);
      std::memcpy(bytes_at(to), &r, size);
      relocate(r.hash, loc, to);
      continue;
    }
    if (from_small) remember_ghost(r.hash);
    bump(stats_.evictions);
    drop(slot_of(r.hash, loc));
  }
  // The segment holds nothing now: its pages go back to the kernel (they read as zeros when it is next
  // appended to), so the pages resident are those of the live segments, never the spare one's.
  ::madvise(seg_area_ + std::size_t{s} * seg_bytes_, seg_bytes_, MADV_DONTNEED);
  segs_[s] = Segment{free_, 0};
  free_ = s;
  ++free_count_;
  publish_size();
}

void NearCache::relocate(std::uint32_t hash, std::uint32_t from, std::uint32_t to) {
  slots_[slot_of(hash, from)].loc = to;
}

void NearCache::publish_size() {
  stats_.entries.store(live_entries_, std::memory_order_relaxed);
  stats_.bytes.store(live_bytes_, std::memory_order_relaxed);
}

NearStats NearCache::stats() const {
  const auto r = std::memory_order_relaxed;
  return NearStats{stats_.hits.load(r),      stats_.misses.load(r),      stats_.inserts.load(r),
                   stats_.evictions.load(r), stats_.invalidated.load(r), stats_.refused.load(r),
                   stats_.flushes.load(r),   stats_.entries.load(r),     stats_.bytes.load(r)};
}

}  // namespace cachelab::cache

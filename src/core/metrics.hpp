// core/metrics: counters, gauges and histograms for Prometheus, recorded per thread and summed when scraped.
// Owns the cells and the text exposition format (0.0.4). Each thread that records gets its own block of
// cells, written only by that thread (a relaxed load and store, no lock, no shared cache line), and a scrape
// adds up every block. Never knows what is measured: each layer declares its own metrics on the Registry it
// is given, and a handle that was never declared (default-constructed) records nothing.
// Declaring a metric takes a lock and may allocate; recording never does once the thread has its block.
// A block is a zero-filled anonymous mapping of the registry's whole capacity, and only the pages holding
// cells that were recorded ever become resident: a thread's first record costs a page or two, not the
// capacity.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace cachelab::metrics {

class Registry;

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

namespace detail {
// A plain integer in a zero-filled mapping (so that making a block writes nothing), read and written only
// through std::atomic_ref.
using Cell = std::int64_t;
// This thread's cells for `r` (made on its first record).
Cell* cells(const Registry& r);
inline void add(Cell& c, std::int64_t n) {
  // One writer per cell (its thread): no read-modify-write instruction needed.
  const std::atomic_ref<Cell> cell(c);
  cell.store(cell.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
}  // namespace detail

// A monotonic count (requests, hits, errors).
class Counter {
 public:
  Counter() = default;
  void inc(std::int64_t n = 1) const {
    if (registry_) detail::add(detail::cells(*registry_)[cell_], n);
  }
  std::int64_t value() const;  // summed over every thread
  explicit operator bool() const { return registry_ != nullptr; }

 private:
  friend class Registry;
  Counter(const Registry* r, std::uint32_t cell) : registry_(r), cell_(cell) {}
  const Registry* registry_ = nullptr;
  std::uint32_t cell_ = 0;
};

// A level that goes up and down (connections in use, callers waiting): each thread adds its own changes, and
// the gauge is their sum.
class Gauge {
 public:
  Gauge() = default;
  void add(std::int64_t n) const {
    if (registry_) detail::add(detail::cells(*registry_)[cell_], n);
  }
  void sub(std::int64_t n) const { add(-n); }
  std::int64_t value() const;

 private:
  friend class Registry;
  Gauge(const Registry* r, std::uint32_t cell) : registry_(r), cell_(cell) {}
  const Registry* registry_ = nullptr;
  std::uint32_t cell_ = 0;
};

// How long things took, in buckets with upper bounds in seconds (cumulative only when written out).
class Histogram {
 public:
  Histogram() = default;
  void observe(std::chrono::nanoseconds d) const;
  std::int64_t count() const;

 private:
  friend class Registry;
  Histogram(const Registry* r, std::uint32_t first_cell, const std::vector<std::int64_t>* bounds_ns)
      : registry_(r), first_(first_cell), bounds_ns_(bounds_ns) {}
  // Cells from first_: one per bound, one for +Inf, then the count and the sum in nanoseconds.
  const Registry* registry_ = nullptr;
  std::uint32_t first_ = 0;
  const std::vector<std::int64_t>* bounds_ns_ = nullptr;
};

// Latency buckets from 50 µs to 5 s: a near-cache hit and a slow query both land in a bucket of their own.
std::span<const double> latency_buckets();

// Writes families and samples in the text format: the registry's own, and those collectors compute at scrape
// time (process figures, another component's snapshot).
class Writer {
 public:
  using Label = std::pair<std::string_view, std::string_view>;  // name, value
  explicit Writer(std::string& out) : out_(out) {}
  // Starts a family: its # HELP and # TYPE lines. `type` is "counter", "gauge", "histogram" or "untyped".
  void family(std::string_view name, std::string_view help, std::string_view type);
  // One sample of the family just started.
  void sample(std::string_view name, double value, std::span<const Label> labels = {});
  void sample(std::string_view name, std::int64_t value, std::span<const Label> labels = {});
  // A family of one sample without labels.
  void single(std::string_view name, std::string_view help, std::string_view type, double value);

 private:
  void labels(std::span<const Label> labels);
  std::string& out_;
};

class Registry {
 public:
  // `capacity`: the most cells every declaration together may use (a thread's block is that size).
  explicit Registry(std::size_t capacity = 16384);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Declares one child of a family. The first call for a name fixes its help, type and label names; a later
  // call with the same label values returns the same cells. Throws std::logic_error on a mismatch or when
  // the cells run out.
  Counter counter(std::string_view name, std::string_view help, std::span<const std::string> label_names = {},
                  const LabelValues& values = {});
  Gauge gauge(std::string_view name, std::string_view help, std::span<const std::string> label_names = {},
              const LabelValues& values = {});
  Histogram histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                      std::span<const std::string> label_names = {}, const LabelValues& values = {});

  // Adds samples computed when scraped; written after the declared families, in the order added.
  void collect(std::function<void(Writer&)> collector);

  // Everything, in the text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4).
  std::string expose() const;

 private:
  friend detail::Cell* detail::cells(const Registry&);
  friend class Counter;
  friend class Gauge;
  friend class Histogram;
  enum class Type { counter, gauge, histogram };
  struct Child {
    LabelValues values;
    std::uint32_t cell;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<std::string> label_names;
    std::vector<double> bounds;           // histograms
    std::vector<std::int64_t> bounds_ns;  // the same in nanoseconds, what observe() compares
    std::vector<Child> children;
  };
  std::uint32_t declare(std::string_view name, std::string_view help, Type type,
                        std::span<const std::string> label_names, const LabelValues& values,
                        std::span<const double> bounds, Family** family);
  std::int64_t sum(std::uint32_t cell) const;  // over every thread's block; caller holds no lock
  detail::Cell* block_for_this_thread() const;

  const std::uint64_t id_;  // tells this registry from one that used to live at the same address
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::uint32_t used_ = 0;
  std::vector<std::unique_ptr<Family>> families_;
  std::vector<std::function<void(Writer&)>> collectors_;
  // Every thread's block, read by a scrape without the lock; a block outlives its thread, so what it counted
  // stays counted. Past max_blocks threads, the later ones share the last block (and may lose a count when
  // two of them record the same cell at once: never in this program, which has a thread per core).
  static constexpr std::size_t max_blocks = 1024;
  mutable std::unique_ptr<std::atomic<detail::Cell*>[]> blocks_;
  mutable std::atomic<std::size_t> block_count_{0};
  mutable std::vector<std::pair<std::thread::id, detail::Cell*>> owners_;  // under mutex_
};

}  // namespace cachelab::metrics

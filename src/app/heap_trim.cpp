#include "app/heap_trim.hpp"

#include "app/process_metrics.hpp"
#include "core/stopwatch.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include <malloc.h>

namespace cachelab::app {
namespace {

long resident_kib() {
  return static_cast<long>(process_memory().resident_bytes / 1024);
}

}  // namespace

void trim_heap() {
  const long before = resident_kib();
  const Stopwatch took;
  ::malloc_trim(0);
  const double ms = took.elapsed_ms();
  const long after = resident_kib();
  // Other threads allocate meanwhile, so the difference is what the trim gave back give or take their pages.
  if (before - after >= 1024) {
    spdlog::info("event=heap_trimmed returned_kib={} rss_kib={} took_ms={:.3f}", before - after, after, ms);
  }
}

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds every, std::function<void()> trim)
    : every_(every), trim_(trim ? std::move(trim) : std::function<void()>(trim_heap)) {
  if (every_.count() > 0) thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void HeapTrimmer::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, stop, every_, [] { return false; });  // wakes early only to stop
    if (stop.stop_requested()) return;
    trim_();
  }
}

}  // namespace cachelab::app

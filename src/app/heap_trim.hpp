// app/heap_trim: hands the heap's free pages back to the kernel every few seconds (glibc's malloc_trim), as
// jemalloc's decay does by default. Without it glibc keeps what a burst freed resident for the process's
// life: after 10 s of 1,000 connections on a cold cache, 10,788 KiB of the server's RSS was free heap. Owns
// one thread of its own, so that the walk over the arenas never runs on an I/O thread; it holds each arena's
// lock while it walks it, so an I/O thread allocating from that arena meanwhile waits (1.9 ms for the trim
// after that burst). Never frees memory in use: the kernel is only told that pages inside free chunks may be
// dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace cachelab::app {

class HeapTrimmer {
 public:
  // Calls `trim` (glibc's malloc_trim(0) when empty) every `every`, from its own thread, until destroyed;
  // `every` of zero starts no thread and trims nothing.
  explicit HeapTrimmer(std::chrono::milliseconds every, std::function<void()> trim = {});
  // The destructor stops the thread at once, even in the middle of a wait, and joins it.
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

 private:
  void run(std::stop_token stop);
  const std::chrono::milliseconds every_;
  const std::function<void()> trim_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: started once everything it uses exists, stopped and joined first
};

// The heap's free pages back to the kernel now; logs what it gave back when that was 1 MiB or more.
void trim_heap();

}  // namespace cachelab::app

#include "app/heap_trim.hpp"

#include "unit/support/resident_pages.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

// glibc's own allocator, which the sanitizers' allocator leaves alone: malloc_trim works on glibc's arenas,
// so the test's garbage must be there, in the build with AddressSanitizer too.
extern "C" void* __libc_malloc(std::size_t);
extern "C" void __libc_free(void*);

namespace cachelab::app {
namespace {

using namespace std::chrono_literals;

TEST(HeapTrimmer, TrimsAtItsIntervalFromItsOwnThreadUntilDestroyed) {
  std::atomic<int> calls{0};
  std::atomic<bool> other_thread{false};
  const auto me = std::this_thread::get_id();
  {
    const HeapTrimmer trimmer(20ms, [&] {
      other_thread = std::this_thread::get_id() != me;
      ++calls;
    });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (calls < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  }
  const int after_destroyed = calls;
  EXPECT_GE(after_destroyed, 3);
  EXPECT_TRUE(other_thread);
  std::this_thread::sleep_for(60ms);
  EXPECT_EQ(calls, after_destroyed) << "trimmed after the trimmer was destroyed";
}

TEST(HeapTrimmer, StopsAtOnceInTheMiddleOfALongWaitAndZeroNeverTrims) {
  std::atomic<int> calls{0};
  const auto started = std::chrono::steady_clock::now();
  {
    const HeapTrimmer trimmer(1h, [&] { ++calls; });
  }
  {
    const HeapTrimmer never(0ms, [&] { ++calls; });
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(calls, 0);
}

// The case it exists for: blocks a burst freed, pinned between blocks still in use so that the heap's top
// cannot shrink, stay resident until trimmed. The pages inside the freed blocks are asked of the kernel one
// by one (the process's whole RSS moves with whatever else the test's threads do).
TEST(HeapTrimmer, GivesFreedHeapPagesPinnedByLiveBlocksBackToTheKernel) {
  constexpr std::size_t blocks = 128, big = 64 * 1024;  // 8 MiB, each block under glibc's mmap threshold
  std::vector<void*> freed, pinned;
  for (std::size_t i = 0; i < blocks; ++i) {
    freed.push_back(__libc_malloc(big));
    pinned.push_back(__libc_malloc(64));
    ASSERT_NE(freed.back(), nullptr);
    std::memset(freed.back(), 1, big);  // resident
  }
  const auto resident_in_freed = [&] {
    std::size_t pages = 0;
    for (void* p : freed) pages += test_support::resident_pages(p, big);
    return pages;
  };
  const std::size_t all = resident_in_freed();
  ASSERT_GE(all, blocks * 14) << "the blocks' pages did not become resident";
  for (void* p : freed) __libc_free(p);
  EXPECT_GE(resident_in_freed(), all * 9 / 10) << "freeing alone gave the pages back: nothing left to test";
  {
    const HeapTrimmer trimmer(10ms);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (resident_in_freed() > all / 4 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
  }
  // A quarter is left for what allocations meanwhile reused (the trimmer's thread, its reads of
  // /proc/self/statm).
  EXPECT_LE(resident_in_freed(), all / 4) << "the freed blocks' pages are still resident after trimming";
  for (void* p : pinned) __libc_free(p);
}

}  // namespace
}  // namespace cachelab::app

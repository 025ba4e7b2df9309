#include "core/frame_pool.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace cachelab {
namespace {

TEST(FramePool, ABlockServesAnyFrameOfItsClass) {
  void* small = frame_pool::allocate(65, alignof(std::max_align_t));
  frame_pool::deallocate(small, 65);
  // 65 and 128 bytes are one class: the block kept for 65 is handed out for 128, and holds it (the sanitizer
  // build would report a write past its end).
  void* larger = frame_pool::allocate(128, alignof(std::max_align_t));
  EXPECT_EQ(larger, small);
  std::memset(larger, 0xab, 128);
  frame_pool::deallocate(larger, 128);
  // 129 is the next class: a new block.
  void* next = frame_pool::allocate(129, alignof(std::max_align_t));
  EXPECT_NE(next, small);
  frame_pool::deallocate(next, 129);
}

TEST(FramePool, AThreadKeepsNoMoreThanItsBudgetAndLargeFramesGoToTheHeap) {
  std::thread([] {
    const auto start = frame_pool::stats();
    std::vector<void*> blocks;
    const std::size_t n = frame_pool::kept_bytes_max / frame_pool::largest_block + 10;
    for (std::size_t i = 0; i < n; ++i) blocks.push_back(frame_pool::allocate(frame_pool::largest_block, 16));
    for (void* b : blocks) frame_pool::deallocate(b, frame_pool::largest_block);
    auto s = frame_pool::stats();
    EXPECT_EQ(s.kept_bytes, frame_pool::kept_bytes_max);
    EXPECT_EQ(s.freed - start.freed, 10u);

    void* huge = frame_pool::allocate(frame_pool::largest_block + 1, 16);
    frame_pool::deallocate(huge, frame_pool::largest_block + 1);
    EXPECT_EQ(frame_pool::stats().freed - start.freed, 11u);
    EXPECT_EQ(frame_pool::stats().kept_bytes, frame_pool::kept_bytes_max);
  }).join();
}

TEST(FramePool, AnOverAlignedFrameGetsItsAlignment) {
  void* p = frame_pool::allocate(100, 64);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
  frame_pool::deallocate(p, 100);
}

TEST(FramePool, ClosedListsGiveEverythingBackAndKeepNothingMore) {
  // What a thread's exit does, on a thread of its own so that this one's lists stay open.
  std::thread([] {
    void* a = frame_pool::allocate(200, 16);
    void* b = frame_pool::allocate(2000, 16);
    frame_pool::deallocate(a, 200);
    frame_pool::deallocate(b, 2000);
    const auto kept = frame_pool::stats();
    EXPECT_GT(kept.kept_bytes, 0u);
    frame_pool::detail::close_thread_lists();
    auto s = frame_pool::stats();
    EXPECT_EQ(s.kept_bytes, 0u);
    EXPECT_EQ(s.freed - kept.freed, 2u);
    // A frame freed after the lists closed (a thread's exit, static destruction) goes to the heap.
    void* c = frame_pool::allocate(200, 16);
    frame_pool::deallocate(c, 200);
    EXPECT_EQ(frame_pool::stats().kept_bytes, 0u);
    EXPECT_EQ(frame_pool::stats().freed - kept.freed, 3u);
  }).join();
}

#ifdef CACHELAB_FRAME_POOL_ASAN
TEST(FramePoolDeathTest, ATouchOfAKeptFrameIsStillAUseAfterFree) {
  // A kept block is poisoned (all but its link), so a coroutine that writes to its destroyed frame is
  // reported.
  EXPECT_DEATH(
      {
        auto* p = static_cast<char*>(frame_pool::allocate(512, 16));
        frame_pool::deallocate(p, 512);
        p[100] = 1;
      },
      "use-after-poison");
}
#endif

}  // namespace
}  // namespace cachelab

// core/frame_pool: where every Asio coroutine frame of the process comes from. Each thread keeps the frames
// it freed in lists by size (64-byte classes up to 4 KiB, at most 256 KiB in all) and hands them out again,
// so a request's chain of frames (session, router, handler, service, cache-aside, store) costs no malloc once
// the thread has served a few. Asio's own recycling keeps 16 blocks a thread here and none over 1,020 bytes,
// and every larger frame it was asked for also threw one of its kept blocks away; four frames of a Redis hit
// are larger (docs/performance.md, "Where a request's time went", item 10).
//
// It is an explicit specialisation of Asio's allocation hook for coroutine frames
// (thread_info_base::allocate / deallocate for awaitable_frame_tag), so every translation unit must see it
// before it instantiates a frame: CMakeLists.txt force-includes this header in all of them (-include), and a
// unit test checks that a frame comes from here. Owns only free blocks; never holds a frame in use, never
// shares a list between threads (a frame freed on another thread joins that thread's lists: blocks are plain
// heap memory), and never keeps more than kept_bytes_max per thread. At a thread's exit its lists are freed.
#pragma once

#include <boost/asio/detail/thread_info_base.hpp>

#include <cstddef>
#include <cstdint>
#include <new>

// A kept block's bytes (all but its link) are poisoned for AddressSanitizer, so that a coroutine that touches
// its frame after it was destroyed is still caught in the sanitizer build.
#if defined(__SANITIZE_ADDRESS__)
#define CACHELAB_FRAME_POOL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CACHELAB_FRAME_POOL_ASAN 1
#endif
#endif
#ifdef CACHELAB_FRAME_POOL_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace cachelab::frame_pool {

inline constexpr std::size_t class_bytes = 64;             // a block's size is a multiple of this
inline constexpr std::size_t largest_block = 4096;         // frames larger than this go to the heap each time
inline constexpr std::size_t kept_bytes_max = 256 * 1024;  // free blocks a thread keeps, in all
inline constexpr std::size_t class_count = largest_block / class_bytes;

// This thread's figures, for tests and for a profile's reader.
struct Stats {
  std::uint64_t reused = 0;  // frames served from the lists
  std::uint64_t allocated =
      0;                    // frames that took a new block (none kept of their class, or over largest_block)
  std::uint64_t freed = 0;  // blocks given back to the heap (too large, lists full, or the thread ended)
  std::size_t kept_bytes = 0;  // free blocks in the lists now
};

namespace detail {

struct Block {
  Block* next;
};

// Trivially destructible, so it is usable until the thread's storage goes: frames freed during the thread's
// exit (or, on the main thread, during static destruction) after Reaper ran find `closed` and go to the heap.
struct Lists {
  Block* head[class_count];
  Stats stats;
  bool closed;
};
inline constinit thread_local Lists lists{};

// Sizes 1..largest_block are pooled, in classes 0..class_count-1; a class's blocks are block_bytes(c) long.
constexpr bool pooled(std::size_t bytes) {
  return bytes - 1 < largest_block;
}
constexpr std::size_t class_of(std::size_t bytes) {
  return (bytes + class_bytes - 1) / class_bytes - 1;
}
constexpr std::size_t block_bytes(std::size_t c) {
  return (c + 1) * class_bytes;
}

// Gives every kept block back to the heap and sends later frees there too: what a thread's exit does.
inline void close_thread_lists() {
  Lists& l = lists;
  for (std::size_t c = 0; c < class_count; ++c) {
    while (Block* b = l.head[c]) {
      l.head[c] = b->next;
#ifdef CACHELAB_FRAME_POOL_ASAN
      ASAN_UNPOISON_MEMORY_REGION(b, block_bytes(c));
#endif
      boost::asio::aligned_delete(b);
      ++l.stats.freed;
    }
  }
  l.stats.kept_bytes = 0;
  l.closed = true;
}

// Closes the lists when the thread ends. Touched on the path that takes a new block, so that the per-frame
// path never pays for a thread_local with a destructor.
struct Reaper {
  bool armed = false;
  ~Reaper() { close_thread_lists(); }
};
inline thread_local Reaper reaper;

}  // namespace detail

inline void* allocate(std::size_t bytes, std::size_t align) {
  using namespace detail;
  Lists& l = lists;
  if (!pooled(bytes)) {
    ++l.stats.allocated;
    return boost::asio::aligned_new(align, bytes);
  }
  const std::size_t c = class_of(bytes);
  const std::size_t size = block_bytes(c);
  if (Block* b = l.head[c]; b && align <= alignof(std::max_align_t)) {
    ++l.stats.reused;
    l.head[c] = b->next;
    l.stats.kept_bytes -= size;
#ifdef CACHELAB_FRAME_POOL_ASAN
    ASAN_UNPOISON_MEMORY_REGION(b, size);
#endif
    return b;
  }
  if (!l.closed) reaper.armed = true;
  ++l.stats.allocated;
  // The class's whole size, so that the block can serve any frame of its class later.
  return boost::asio::aligned_new(align, size);
}

// `bytes` is what allocate was asked for (a coroutine frame's delete is told its size).
inline void deallocate(void* pointer, std::size_t bytes) {
  using namespace detail;
  Lists& l = lists;
  if (pooled(bytes) && !l.closed) {
    const std::size_t c = class_of(bytes);
    const std::size_t size = block_bytes(c);
    if (l.stats.kept_bytes + size <= kept_bytes_max) {
      l.head[c] = ::new (pointer) Block{l.head[c]};
      l.stats.kept_bytes += size;
#ifdef CACHELAB_FRAME_POOL_ASAN
      ASAN_POISON_MEMORY_REGION(static_cast<char*>(pointer) + sizeof(Block), size - sizeof(Block));
#endif
      return;
    }
  }
  ++l.stats.freed;
  boost::asio::aligned_delete(pointer);
}

inline Stats stats() {
  return detail::lists.stats;
}

}  // namespace cachelab::frame_pool

namespace boost::asio::detail {

template <>
inline void* thread_info_base::allocate(awaitable_frame_tag, thread_info_base*, std::size_t size,
                                        std::size_t align) {
  return cachelab::frame_pool::allocate(size, align);
}

template <>
inline void thread_info_base::deallocate(awaitable_frame_tag, thread_info_base*, void* pointer,
                                         std::size_t size) {
  cachelab::frame_pool::deallocate(pointer, size);
}

}  // namespace boost::asio::detail

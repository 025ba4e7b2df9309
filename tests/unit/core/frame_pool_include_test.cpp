// This file does not include core/frame_pool.hpp: it sees the pool only because CMakeLists.txt includes it in
// every translation unit. If the build stopped doing that, this would not compile, or Asio's own allocation
// would serve the frame below and the pool's figures would not move.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <numeric>

namespace cachelab {
namespace {

namespace asio = boost::asio;

// A frame larger than any block Asio's own recycling keeps (1,020 bytes): the array lives across the
// co_await.
asio::awaitable<int> large_frame(int seed) {
  std::array<unsigned char, 1500> bytes;
  std::iota(bytes.begin(), bytes.end(), static_cast<unsigned char>(seed));
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  co_return bytes[0] + bytes[1499];
}

int run_large_frame(asio::io_context& io, int seed) {
  int result = -1;
  asio::co_spawn(io, large_frame(seed), [&](std::exception_ptr e, int r) {
    if (!e) result = r;
  });
  io.restart();
  io.run();
  return result;
}

TEST(FramePool, EveryTranslationUnitsCoroutineFramesComeFromThePoolAndAreReused) {
  asio::io_context io;
  ASSERT_EQ(run_large_frame(io, 1), 1 + static_cast<unsigned char>(1 + 1499));
  const auto before = frame_pool::stats();
  ASSERT_EQ(run_large_frame(io, 2), 2 + static_cast<unsigned char>(2 + 1499));
  const auto after = frame_pool::stats();
  // The second run's frames (the coroutine's and co_spawn's entry point's) were the first run's, kept.
  EXPECT_GE(after.reused - before.reused, 2u);
  EXPECT_EQ(after.allocated, before.allocated);
}

}  // namespace
}  // namespace cachelab

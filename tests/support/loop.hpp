// tests/support/loop: drives coroutines to completion on a test's own io_context.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <future>

namespace cachelab::test {

struct Loop {
  boost::asio::io_context ctx;

  // Runs the event loop until `op` completes (background work, such as a retry loop, may still be pending).
  template <class T>
  T run(boost::asio::awaitable<T> op) {
    auto fut = boost::asio::co_spawn(ctx, std::move(op), boost::asio::use_future);
    ctx.restart();
    while (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) ctx.run_one();
    return fut.get();
  }

  // For use inside a fake's hook while run() is already driving the loop: run `op` on a loop of its own.
  template <class T>
  static T run_nested(boost::asio::awaitable<T> op) {
    boost::asio::io_context nested;
    auto fut = boost::asio::co_spawn(nested, std::move(op), boost::asio::use_future);
    nested.run();
    return fut.get();
  }
};

}  // namespace cachelab::test

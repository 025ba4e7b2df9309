// core/deadline: "do this unless the operation finishes first" for any Asio operation.
// Owns one steady_timer. When the deadline passes while armed, it calls `on_expiry` (typically a socket's
// cancel()), so the pending operation completes with operation_aborted and the awaiting coroutine can tell
// a timeout from other errors with expired(). Destroying (or disarm()ing) it first means on_expiry never
// runs. Why not awaitable_operators' `op || timer`: with GCC 12 that form corrupted coroutine frames here
// (UBSan: misaligned `this` after the parallel group completed); a plain timer has no such trouble.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace cachelab {

class Deadline {
 public:
  Deadline(boost::asio::any_io_executor ex, std::chrono::steady_clock::time_point when,
           std::function<void()> on_expiry)
      : state_(std::make_shared<State>(ex, std::move(on_expiry))) {
    state_->timer.expires_at(when);
    state_->timer.async_wait([s = state_](const boost::system::error_code& ec) {
      if (ec || !s->armed) return;
      s->expired = true;
      s->armed = false;
      if (s->on_expiry) s->on_expiry();
    });
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;
  ~Deadline() { disarm(); }

  void disarm() {
    if (!state_->armed) return;
    state_->armed = false;
    state_->on_expiry = nullptr;
    state_->timer.cancel();
  }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    State(boost::asio::any_io_executor ex, std::function<void()> f) : timer(ex), on_expiry(std::move(f)) {}
    boost::asio::steady_timer timer;
    std::function<void()> on_expiry;
    bool armed = true;
    bool expired = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace cachelab

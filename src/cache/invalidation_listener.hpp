// cache/invalidation_listener: the Redis connection that receives client-side-caching invalidations for the
// whole process (RESP2: `SUBSCRIBE __redis__:invalidate`, the data connections' `CLIENT TRACKING on
// REDIRECT <its id>`) and publishes them to the InvalidationLog every NearCache applies.
// Owns one RedisConnection in subscribed mode and the redirect id the data connections must name. Never
// serves anything: while it is not subscribed the log is blind, so no NearCache serves or stores; each
// (re)subscription gets a new epoch so that data connections turn tracking on again with the new id.
// It also measures the invalidation lag: once a second a probe connection, tracking its own probe key in
// BCAST mode with the same redirect, writes that key, and the time until the listener hears of it is
// recorded (the probe key lies outside cachelab's key space, so nothing else sees it). The probe is also the
// listener's proof of hearing: when `ProbeWatch::deaf_after` probes in a row were written but never heard
// (a subscription that looks alive but delivers nothing, or delivers seconds late), the log goes blind as if
// the connection had dropped, and sight comes back with the next probe heard.
#pragma once

#include "cache/near_cache.hpp"
#include "cache/redis_connection.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cachelab::cache {

// Whether the listener still hears Redis, judged from the probes: written but unheard `deaf_after` times in a
// row is deaf; one heard is hearing again. Pure bookkeeping, so the rule is tested without a network.
class ProbeWatch {
 public:
  static constexpr int deaf_after = 2;
  enum class Change { none, went_deaf, hears_again };
  // A probe written a tick ago was not heard by the next tick.
  Change unheard() {
    if (++unheard_ < deaf_after || deaf_) return Change::none;
    deaf_ = true;
    return Change::went_deaf;
  }
  // The probe's invalidation arrived.
  Change heard() {
    unheard_ = 0;
    if (!deaf_) return Change::none;
    deaf_ = false;
    return Change::hears_again;
  }
  // A new subscription (or none): nothing is known about it yet.
  void reset() {
    unheard_ = 0;
    deaf_ = false;
  }
  bool deaf() const { return deaf_; }
  int unheard_in_a_row() const { return unheard_; }

 private:
  int unheard_ = 0;
  bool deaf_ = false;
};

class InvalidationListener : public std::enable_shared_from_this<InvalidationListener> {
 public:
  InvalidationListener(boost::asio::any_io_executor ex, RedisEndpoint endpoint,
                       std::shared_ptr<InvalidationLog> log);
  ~InvalidationListener();

  // Connects and keeps reconnecting until stop(). Call once, from the executor's thread.
  void start();
  void stop();

  // Whom CLIENT TRACKING must redirect to, and the subscription it belongs to (0: not subscribed).
  struct Redirect {
    std::int64_t client_id = 0;
    std::uint64_t epoch = 0;
  };
  Redirect redirect() const;
  // A data connection's CLIENT TRACKING REDIRECT to this subscription was refused: the listener is not on the
  // data connection's server (a Redis Cluster moved cachelab's slot, and only the data connection followed).
  // Resubscribes on the server the slot is served from now; callable from any thread, once per epoch.
  void redirect_refused(std::uint64_t epoch) const;

  // Invalidation messages received (a message may name several keys), and keys named in them.
  std::uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  std::uint64_t keys() const { return keys_.load(std::memory_order_relaxed); }

  // The invalidation lag, from the probe's write being sent to its invalidation being received, over the
  // last `lag_window` probes; `lost`: probes written whose invalidation had not come a second later;
  // `deaf_periods`: times the listener was judged deaf (ProbeWatch) and the near caches went blind for it.
  struct Lag {
    std::int64_t samples = 0, lost = 0, deaf_periods = 0;
    double last_ms = 0, p50_ms = 0, max_ms = 0;
  };
  Lag lag() const;
  static constexpr std::size_t lag_window = 128;

 private:
  void on_message(RedisReply reply);
  boost::asio::awaitable<void> probe_loop();
  void record_lag(std::chrono::steady_clock::duration d);

  std::shared_ptr<InvalidationLog> log_;
  std::shared_ptr<RedisConnection> conn_;
  std::atomic<std::int64_t> client_id_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::uint64_t next_epoch_ = 0;
  std::atomic<std::uint64_t> messages_{0}, keys_{0};

  // The lag probe (its loop and on_message run on the listener's executor).
  std::shared_ptr<RedisConnection> probe_;
  std::string probe_key_;
  std::optional<std::chrono::steady_clock::time_point> probe_sent_;
  ProbeWatch watch_;
  bool stopped_ = false;
  boost::asio::steady_timer probe_timer_;
  mutable std::mutex lag_mu_;
  std::vector<double> lag_ms_;  // a ring of the last lag_window samples
  std::int64_t lag_samples_ = 0, lag_lost_ = 0, deaf_periods_ = 0;
  double lag_last_ms_ = 0;
};

}  // namespace cachelab::cache

// cache/invalidation_listener: the Redis connection that receives client-side-caching invalidations for the
// whole process (RESP2: `SUBSCRIBE __redis__:invalidate`, the data connections' `CLIENT TRACKING on
// REDIRECT <its id>`) and publishes them to the InvalidationLog every NearCache applies.
// Owns one RedisConnection in subscribed mode and the redirect id the data connections must name. Never
// serves anything: while it is not subscribed the log is blind, so no NearCache serves or stores; each
// (re)subscription gets a new epoch so that data connections turn tracking on again with the new id.
#pragma once

#include "cache/near_cache.hpp"
#include "cache/redis_connection.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

namespace cachelab::cache {

class InvalidationListener {
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

  // Invalidation messages received (a message may name several keys), and keys named in them.
  std::uint64_t messages() const { return messages_.load(std::memory_order_relaxed); }
  std::uint64_t keys() const { return keys_.load(std::memory_order_relaxed); }

 private:
  void on_message(RedisReply reply);

  std::shared_ptr<InvalidationLog> log_;
  std::shared_ptr<RedisConnection> conn_;
  std::atomic<std::int64_t> client_id_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::uint64_t next_epoch_ = 0;
  std::atomic<std::uint64_t> messages_{0}, keys_{0};
};

}  // namespace cachelab::cache

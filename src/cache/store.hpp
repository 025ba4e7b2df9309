// cache/store: the narrow interface service/ uses to talk to the cache, and the Redis implementation's
// factory. Owns the Redis commands of the request path (GET+PTTL, SET PX, INFO, SCAN, UNLINK).
// Never decides what to cache or for how long (service/ does), never blocks Redis (no KEYS, no FLUSHALL).
// Fails with `unavailable`/`timeout`; a miss is an empty optional, never an error.
#pragma once

#include "core/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cachelab::cache {

struct CachedValue {
  std::string value;
  std::int64_t ttl_ms = -1;  // milliseconds left; -1 when the key has no expiry
};

// INFO's "field:value" lines.
using ServerInfo = std::map<std::string, std::string, std::less<>>;

class Store {
 public:
  virtual ~Store() = default;
  // The value and its remaining TTL, in one round trip.
  virtual boost::asio::awaitable<Result<std::optional<CachedValue>>> get(std::string_view key) = 0;
  virtual boost::asio::awaitable<Result<void>> set(std::string_view key, std::string_view value,
                                                   std::chrono::milliseconds ttl) = 0;
  virtual boost::asio::awaitable<Result<ServerInfo>> info() = 0;
  // Keys matching `pattern`, counted with SCAN (never KEYS): each step is short, so Redis never stalls.
  virtual boost::asio::awaitable<Result<std::int64_t>> count(std::string_view pattern) = 0;
  // Deletes keys matching `pattern` with SCAN + UNLINK (memory is freed off Redis's main thread).
  virtual boost::asio::awaitable<Result<std::int64_t>> remove(std::string_view pattern) = 0;
  virtual bool connected() const = 0;
};

class RedisConnection;
std::shared_ptr<Store> make_redis_store(std::shared_ptr<RedisConnection> connection);

// Parses INFO's text into fields (pure; unit-tested).
ServerInfo parse_info(std::string_view text);

}  // namespace cachelab::cache

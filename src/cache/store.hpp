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
#include <vector>

namespace cachelab::cache {

struct CachedValue {
  std::string value;
  std::int64_t ttl_ms = -1;  // milliseconds left; -1 when the key has no expiry
};

// What a lookup saw, atomically: the generation at that moment, the resolved key, and the value if present.
struct Lookup {
  std::string generation;
  std::string key;
  std::optional<CachedValue> value;
};

// One key as the cache browser shows it.
struct KeyInfo {
  std::string key;
  std::string type;              // string, hash, … ("none" if it vanished meanwhile)
  std::int64_t size_bytes = -1;  // MEMORY USAGE
  std::int64_t ttl_ms = -1;      // -1: no expiry
};

struct KeyPage {
  std::string cursor;  // "0" when the walk is complete
  std::vector<KeyInfo> keys;
};

struct KeyValue {
  std::string type;
  std::string value;  // the string value; empty for other types
  std::int64_t ttl_ms = -1;
};

// INFO's "field:value" lines.
using ServerInfo = std::map<std::string, std::string, std::less<>>;

class Store {
 public:
  virtual ~Store() = default;
  // The generation, the resolved key, the value and its remaining TTL: one round trip (one Lua script).
  // A "{gen}" in `key` is replaced by the current catalog generation inside Redis (see keys.hpp).
  virtual boost::asio::awaitable<Result<Lookup>> lookup(std::string_view key) = 0;
  // SET key value PX ttl — only if the generation is still `generation`. A write committed since our lookup
  // bumped it, and the value we loaded may predate that write: then nothing is stored (returns false).
  virtual boost::asio::awaitable<Result<bool>> store(std::string_view key, std::string_view value,
                                                     std::chrono::milliseconds ttl,
                                                     std::string_view generation) = 0;
  // After a write commits: UNLINK `keys` and bump the generation, atomically. Returns the new generation.
  virtual boost::asio::awaitable<Result<std::string>> invalidate(const std::vector<std::string>& keys) = 0;
  // A short lease (SET NX PX) so that, across processes, one caller loads a cold key while others wait.
  virtual boost::asio::awaitable<Result<bool>> acquire_lease(std::string_view lease_key,
                                                             std::string_view token,
                                                             std::chrono::milliseconds ttl) = 0;
  // Deletes the lease only if we still own it (compare-and-delete).
  virtual boost::asio::awaitable<Result<void>> release_lease(std::string_view lease_key,
                                                             std::string_view token) = 0;
  // How many keys matching `pattern` have a remaining TTL under each of `upper_edges_ms` (ascending); one
  // more bucket at the end counts the rest (including keys without a TTL).
  virtual boost::asio::awaitable<Result<std::vector<std::int64_t>>> ttl_histogram(
      std::string_view pattern, const std::vector<std::int64_t>& upper_edges_ms) = 0;
  virtual boost::asio::awaitable<Result<ServerInfo>> info() = 0;
  // Keys matching `pattern`, counted with SCAN (never KEYS): each step is short, so Redis never stalls.
  virtual boost::asio::awaitable<Result<std::int64_t>> count(std::string_view pattern) = 0;
  // Deletes keys matching `pattern` with SCAN + UNLINK (memory is freed off Redis's main thread).
  virtual boost::asio::awaitable<Result<std::int64_t>> remove(std::string_view pattern) = 0;
  // One SCAN step over `pattern` from `cursor`, with each key's type, memory usage and TTL (one pipeline).
  virtual boost::asio::awaitable<Result<KeyPage>> browse(std::string_view pattern, std::string_view cursor,
                                                         int count) = 0;
  // One key's type, string value and TTL; empty when it does not exist.
  virtual boost::asio::awaitable<Result<std::optional<KeyValue>>> read(std::string_view key) = 0;
  // UNLINK one exact key; true when it existed.
  virtual boost::asio::awaitable<Result<bool>> erase(std::string_view key) = 0;
  virtual bool connected() const = 0;
};

class RedisConnection;
std::shared_ptr<Store> make_redis_store(std::shared_ptr<RedisConnection> connection);

// Parses INFO's text into fields (pure; unit-tested).
ServerInfo parse_info(std::string_view text);

}  // namespace cachelab::cache

// cache/inspector: the narrow interface for looking at and managing the cache off the request path — Redis's
// INFO, our keys counted, browsed, read, deleted and flushed, their TTLs — and the Redis implementation's
// factory. Never blocks Redis: every walk is SCAN (bounded steps), never KEYS or FLUSHALL; deletes are UNLINK
// (memory is freed off Redis's main thread). Knows nothing of what the keys mean (service/ does).
// Fails with `unavailable`/`timeout` (Backend::cache); a missing key is an empty optional.
#pragma once

#include "core/error.hpp"
#include "model/inspection.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::cache {

// INFO's "field:value" lines.
using ServerInfo = std::map<std::string, std::string, std::less<>>;

// On a Redis Cluster, info() sums these fields over the masters (memory, evictions and traffic are per node);
// the others are the slot's node's. `masters_field` then says how many masters answered.
inline constexpr std::string_view summed_info_fields[] = {
    "used_memory",   "maxmemory",       "evicted_keys",      "expired_keys",
    "keyspace_hits", "keyspace_misses", "connected_clients", "total_commands_processed"};
inline constexpr std::string_view masters_field = "cachelab_masters";

class Inspector {
 public:
  virtual ~Inspector() = default;
  // INFO. On a Redis Cluster, the slot's node's, with summed_info_fields summed over every master of the slot
  // map (each asked on a short-lived connection within the command timeout; one that does not answer is left
  // out, and masters_field counts the ones that did).
  virtual boost::asio::awaitable<Result<ServerInfo>> info() = 0;
  // Keys matching `pattern`, counted with SCAN.
  virtual boost::asio::awaitable<Result<std::int64_t>> count(std::string_view pattern) = 0;
  // Deletes keys matching `pattern` (SCAN + UNLINK); returns how many went.
  virtual boost::asio::awaitable<Result<std::int64_t>> remove(std::string_view pattern) = 0;
  // How many keys matching `pattern` have a remaining TTL under each of `upper_edges_ms` (ascending); one
  // more bucket at the end counts the rest (including keys without a TTL).
  virtual boost::asio::awaitable<Result<std::vector<std::int64_t>>> ttl_histogram(
      std::string_view pattern, const std::vector<std::int64_t>& upper_edges_ms) = 0;
  // One SCAN step over `pattern` from `cursor`, with each key's type, memory usage and TTL (one pipeline).
  virtual boost::asio::awaitable<Result<model::KeyPage>> browse(std::string_view pattern,
                                                                std::string_view cursor, int count) = 0;
  // One key's type, string value and TTL; empty when it does not exist.
  virtual boost::asio::awaitable<Result<std::optional<model::KeyValue>>> read(std::string_view key) = 0;
  // UNLINK one exact key; true when it existed.
  virtual boost::asio::awaitable<Result<bool>> erase(std::string_view key) = 0;
  // CONFIG GET / CONFIG SET of one parameter (the load lab's experiments: maxmemory, maxmemory-policy).
  virtual boost::asio::awaitable<Result<std::string>> config_get(std::string_view name) = 0;
  virtual boost::asio::awaitable<Result<void>> config_set(std::string_view name, std::string_view value) = 0;
  // Whether the connection to Redis is up right now (no round trip).
  virtual bool connected() const = 0;
};

class RedisConnection;
std::shared_ptr<Inspector> make_redis_inspector(std::shared_ptr<RedisConnection> connection);

// Parses INFO's text into fields (pure; unit-tested).
ServerInfo parse_info(std::string_view text);
// Adds `other`'s summed_info_fields to `total`'s (a missing field counts 0) and writes used_memory_human
// again from the sum, as Redis writes it ("1.50M"). Pure; unit-tested.
void add_info(ServerInfo& total, const ServerInfo& other);

}  // namespace cachelab::cache

// cache/store: the narrow interface the cache-aside policy (service/) uses on the request path, and the Redis
// implementation's factory: look a key up, read the catalog generation, store a value guarded by it,
// invalidate after a write, and take or give back a cold key's lease. Six calls; everything else is
// cache/inspector. Never decides what to cache or for how long (service/ does). Fails with
// `unavailable`/`timeout` (Backend::cache); a miss is an empty optional, never an error.
#pragma once

#include "core/error.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::cache {

// The code of an `unavailable` error from a Redis Cluster that is moving or failing over the slot (MOVED,
// ASK, TRYAGAIN, CLUSTERDOWN): worth trying again in a moment, unlike an outage.
inline constexpr std::string_view cluster_moving = "cluster_moving";

struct CachedValue {
  std::string value;
  std::int64_t ttl_ms = -1;  // milliseconds left; -1 when the key has no expiry
};

// The catalog generation, and (with a read replica) the WAL fence read with it: see keys::wal_fence().
struct Generation {
  std::string value;
  std::uint64_t wal_fence = 0;
};

// What a lookup saw: the catalog generation, the key with the generation filled in, and the value if present.
// The generation and the value are read in one pipeline, not atomically: see Store::lookup.
struct Lookup {
  std::string generation;
  std::string key;
  std::optional<CachedValue> value;
  // With a read replica, where the generation is read: the WAL position a load must read at or past (0: any).
  // Read after the generation in the same pipeline, so it is never older than the generation it comes with.
  std::uint64_t wal_fence = 0;
  // Redis tracks these reads for this process (client-side caching): a change to the keys will be announced
  // to the InvalidationListener, so the value may be kept in the near cache.
  bool tracked = false;
};

class RedisConnection;

// What an invalidation did: the new generation, and whether the replicas it was asked to wait for (WAIT) have
// it. An unreplicated invalidation went through on the master but could be lost with it in a failover, and
// the promoted replica would serve the old value until its TTL: worth sending again.
struct Invalidated {
  std::int64_t generation = 0;
  bool replicated = true;
};

class Store {
 public:
  virtual ~Store() = default;
  // The resolved key, the value and its remaining TTL, and the generation when a store may follow. A derived
  // key ("{gen}" in `key`, replaced by the generation, see keys.hpp) is read in one pipelined round trip (GET
  // generation, GET key, PTTL key); when the generation has moved since this connection last saw it, a second
  // round trip reads the key under the new one. A plain key (a product) is read with GET key, PTTL key alone;
  // only on a miss is the generation read, in a second round trip, before anything is loaded. So a hit on a
  // plain key leaves `generation` empty (current_generation() reads it when it is needed after all). Not
  // atomic, and it need not be: a write landing between the reads is concurrent with this lookup, and the
  // store that may follow is guarded by a generation read before the database was.
  virtual boost::asio::awaitable<Result<Lookup>> lookup(std::string_view key) = 0;
  // The catalog generation now (GET generation; then GET wal-fence with a read replica).
  virtual boost::asio::awaitable<Result<Generation>> current_generation() = 0;
  // SET key value PX ttl — only if the generation is still `generation` (one Lua script, atomic). A write
  // committed since our lookup bumped it, and the value we loaded may predate that write: then nothing is
  // stored (returns false).
  virtual boost::asio::awaitable<Result<bool>> store(std::string_view key, std::string_view value,
                                                     std::chrono::milliseconds ttl,
                                                     std::string_view generation) = 0;
  // After a write commits: UNLINK `keys`, bump the generation and raise the WAL fence to `wal_fence` (never
  // lower it; 0 leaves it), atomically (one Lua script); then, when told to (WriteOptions), WAIT for
  // replicas. Returns the new generation and whether the replicas have it.
  virtual boost::asio::awaitable<Result<Invalidated>> invalidate(const std::vector<std::string>& keys,
                                                                 std::uint64_t wal_fence = 0) = 0;
  // A short lease (SET NX PX) so that, across processes, one caller loads a cold key while others wait.
  // True when we hold it now, false when someone else does; an error reply (OOM, READONLY) is an error.
  // With `unless_present` (the key the lease is for), the lease is refused while that key holds a value, in
  // the same atomic step (one Lua script): a caller whose lookup missed just before another caller stored the
  // value and released the lease must not load it a second time; it waits and reads the value instead.
  virtual boost::asio::awaitable<Result<bool>> acquire_lease(std::string_view lease_key,
                                                             std::string_view token,
                                                             std::chrono::milliseconds ttl,
                                                             std::string_view unless_present = {}) = 0;
  // Deletes the lease only if we still own it (compare-and-delete, one Lua script).
  virtual boost::asio::awaitable<Result<void>> release_lease(std::string_view lease_key,
                                                             std::string_view token) = 0;
};

class InvalidationListener;
// Where invalidations go. With `wait_replicas` > 0, each is followed by WAIT <wait_replicas> <wait_timeout>
// on `connection` — a connection of their own, as WAIT holds the connection it is sent on until the replicas
// answer, and the read connection carries every request of its thread. Empty: the read connection, no WAIT.
struct WriteOptions {
  std::shared_ptr<RedisConnection> connection;
  int wait_replicas = 0;
  std::chrono::milliseconds wait_timeout{100};
};

// With a listener, lookups turn Redis's tracking on for the connection (CLIENT TRACKING on REDIRECT
// <listener> NOLOOP, again after a reconnect or a new subscription) and say whether a read was tracked.
// With `read_wal_fence` (a read replica is configured), every read of the generation reads the fence too.
std::shared_ptr<Store> make_redis_store(std::shared_ptr<RedisConnection> connection,
                                        std::shared_ptr<const InvalidationListener> tracking = nullptr,
                                        bool read_wal_fence = false, WriteOptions writes = {});

}  // namespace cachelab::cache

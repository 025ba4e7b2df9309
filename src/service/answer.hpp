// service/answer: what a read or a write through the cache hands back to api/: the data, where it came from,
// how long each backend took, and what the cache did. Plain structs; no behaviour.
#pragma once

#include "model/product.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cachelab::service {

// memory: the process's near cache (no Redis round trip); cache: Redis; database: PostgreSQL.
enum class Source { memory, cache, database };
enum class CacheMode { use, bypass };  // bypass: read PostgreSQL, leave Redis untouched

struct Timings {
  double redis_ms = 0;
  double db_ms = 0;
};

// One read's outcome: the data serialised once, and where it came from.
struct Answer {
  // What a body copied from the near cache is given beyond its value: room for the fields api/render splices
  // in (source, fetch_time_ms, ttl_remaining_s, cache), so that the copy is the answer's only allocation.
  static constexpr std::size_t spliced_room = 128;

  std::string body;  // a JSON object: the cached value itself on a hit; empty when not_found
  Source source = Source::database;
  bool not_found = false;              // the thing does not exist (possibly a cached "not found")
  std::optional<std::int64_t> ttl_ms;  // hit: what the key has left; stored miss: the TTL it got
  bool cache_unavailable = false;      // Redis failed during this request; the data came from PostgreSQL
  bool bypassed = false;
  bool collapsed = false;  // waited for another caller's load instead of querying (single-flight or lease)
  bool stored = false;     // the loaded value was written to Redis
  bool stale = false;      // served past its soft TTL (stale-while-revalidate); a refresh is under way
  Timings timings;
};

// What a write did to the cache, after PostgreSQL committed it.
struct Invalidation {
  std::string dropped_key;       // the written product's own key, deleted
  std::string retired_pattern;   // the derived keys retired by the generation bump (cachelab:{v1}:g{old}:*)
  bool pending = false;          // Redis was unavailable: queued and retried until it goes through
  bool written_through = false;  // write-through stored the committed value under the product's key
};

// The outcome of a write, after it committed.
struct WriteOutcome {
  std::optional<model::Product> product;  // as committed (empty for a delete)
  Invalidation cache;
};

}  // namespace cachelab::service

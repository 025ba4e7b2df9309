// model/inspection: what the cache browser and the query inspector show — a key of ours with its type, size
// and TTL; a key's value; a statement with its EXPLAIN plan. Plain structs, produced by cache/ and db/,
// passed through service/ and rendered by api/. Never talks to Redis or PostgreSQL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cachelab::model {

// One key as the cache browser lists it.
struct KeyInfo {
  std::string key;
  std::string type;              // string, hash, … ("none" if it vanished meanwhile)
  std::int64_t size_bytes = -1;  // MEMORY USAGE
  std::int64_t ttl_ms = -1;      // -1: no expiry
};

// One SCAN step: its keys and the cursor to continue from ("0" when the walk is complete).
struct KeyPage {
  std::string cursor;
  std::vector<KeyInfo> keys;
};

// One key's contents.
struct KeyValue {
  std::string type;
  std::string value;  // the string value; empty for other types
  std::int64_t ttl_ms = -1;
};

// A statement the server runs, the sample parameters it was explained with, and its EXPLAIN output.
struct QueryPlan {
  std::string sql;
  std::vector<std::string> params;
  std::string plan;
};

}  // namespace cachelab::model

// cache/keys: the one place that builds Redis key names. Every key cachelab writes starts with
// `cachelab:{v1}:` (or `cachelab:meta:{v1}:`), so clearing, counting and browsing touch our namespace only,
// and bumping the version retires every old entry at once when a value's shape changes. `{v1}` is also a
// Redis Cluster hash tag: every key cachelab uses hashes to one slot, because the guarded store, the
// invalidation and the lease are atomic scripts over several keys (the generation, the fence, the key), which
// a cluster runs only within one slot. The price, a single node holding all of them, is in docs/scale-out.md.
// Owns the names only; never talks to Redis.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cachelab::cache::keys {

inline constexpr std::string_view prefix = "cachelab:{v1}:";
// Stands for the current catalog generation in derived keys; cache::Store::lookup resolves it.
inline constexpr std::string_view generation_placeholder = "{gen}";

// Two kinds of keys:
//  - a product's own key, deleted explicitly when that product is written;
//  - derived keys (pages, categories, searches, top products), which any write may change. Their names
//    carry the catalog generation, "g{gen}": a write bumps the generation, and every derived key is retired
//    at once, with no SCAN on the write path. Old generations expire by TTL (or are evicted first by LRU).

// cachelab:meta:{v1}:generation — the catalog generation (an integer; absent means 0). Deliberately outside
// the `cachelab:{v1}:*` namespace: a flush must never reset it, or a load that started before the flush could
// find the same number again after later writes and store a stale value (an ABA). A flush bumps it instead.
inline constexpr std::string_view generation() {
  return "cachelab:meta:{v1}:generation";
}
// cachelab:meta:{v1}:wal-fence — with a PostgreSQL read replica: the primary's WAL position past the last
// write that was invalidated (a decimal integer; absent means 0). A load after a miss reads the replica only
// once it has replayed that far (db/pg_catalog). Outside `cachelab:{v1}:*` for the generation's reason: a
// flush must keep it.
inline constexpr std::string_view wal_fence() {
  return "cachelab:meta:{v1}:wal-fence";
}
// cachelab:{v1}:product:{id}
std::string product(std::int64_t id);
// cachelab:{v1}:g{gen}:products:limit={limit}:offset={offset}
std::string products_page(int limit, std::int64_t offset);
// cachelab:{v1}:g{gen}:categories
std::string categories();
// cachelab:{v1}:g{gen}:search:limit={limit}:offset={offset}:q={normalised query}
// (the query comes last because it may hold ':')
std::string search(std::string_view normalised_query, int limit, std::int64_t offset);
// cachelab:{v1}:g{gen}:top-products:limit={limit}:min_reviews={n}
std::string top_products(int limit, int min_reviews);
// cachelab:{v1}:g{generation}:* — every derived key of one generation (what a write retires).
std::string derived_pattern(std::int64_t generation);
// A resolved derived key with its generation written as "{gen}" again (cachelab:{v1}:g42:categories →
// cachelab:{v1}:g{gen}:categories), as the near cache names entries; other keys unchanged.
std::string unresolve(std::string_view resolved_key);
// cachelab:{v1}:lease:{resolved key without the prefix} — who is loading that key right now.
std::string lease(std::string_view resolved_key);
// The SCAN MATCH pattern that covers every key of ours: cachelab:{v1}:*
std::string namespace_pattern();

}  // namespace cachelab::cache::keys

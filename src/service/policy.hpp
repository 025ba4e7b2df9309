// service/policy: the knobs of the caching policy — how long each kind of answer stays cached, how TTLs are
// spread, how long a cold key's lease lasts, what a write does to the cache, and stale-while-revalidate.
// Plain data, filled once at start-up (app/policy_from); never changed while serving.
#pragma once

#include <chrono>
#include <set>
#include <string>

namespace cachelab::service {

using namespace std::chrono_literals;

enum class WritePolicy { invalidate, write_through };

struct Policy {
  std::chrono::milliseconds product_ttl = 60s;   // GET /products/{id}
  std::chrono::milliseconds products_ttl = 60s;  // GET /products pages
  std::chrono::milliseconds categories_ttl = 60s;
  std::chrono::milliseconds search_ttl = 60s;
  std::chrono::milliseconds top_products_ttl = 60s;
  std::chrono::milliseconds negative_ttl = 10s;  // a cached "product not found"
  double ttl_jitter = 0.10;                      // each TTL is spread by ±this fraction
  std::chrono::milliseconds lease_ttl = 3s;      // how long one loader may hold a cold key's lease
  std::chrono::milliseconds lease_poll = 10ms;   // how often a waiter looks for the loader's value
  WritePolicy write_policy = WritePolicy::invalidate;
  std::chrono::milliseconds invalidation_retry = 500ms;  // while Redis is unreachable after a write
  // While a Redis Cluster moves cachelab's slot, a write's invalidation is tried again this often, for up to
  // the budget, before its answer (after that it is queued like an outage's).
  std::chrono::milliseconds cluster_moving_retry = 20ms;
  std::chrono::milliseconds cluster_moving_budget = 2000ms;
  // An invalidation that the replicas did not acknowledge in time (WAIT, cache::WriteOptions) went through on
  // the master but dies with it in a failover, and the promoted replica would serve the old value until its
  // TTL: it is sent again every invalidation_retry, until acknowledged, for up to this long after the last
  // such write — longer than a failover (cluster-node-timeout, 15 s by default, plus the election).
  std::chrono::milliseconds unreplicated_resend_for = 30s;
  // Stale-while-revalidate: for these endpoints, keep entries `swr` longer than their TTL; a read in that
  // window is served at once (marked stale) and one caller refreshes the entry in the background. 0 = off.
  std::chrono::milliseconds swr = 0ms;
  std::set<std::string> swr_endpoints;  // "product", "products", "categories", "search", "top-products"
};

}  // namespace cachelab::service

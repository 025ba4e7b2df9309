// loadgen/server: what the load generator asks the server itself, over HTTP like everything else it does —
// a number from a JSON answer (the app's query counter in /api/stats) and the catalog's size (for workloads
// whose keys are "catalog"). Blocking calls with a short deadline, for command-line tools and the lab's own
// thread.
#pragma once

#include "loadgen/runner.hpp"

#include <initializer_list>
#include <optional>
#include <string_view>

namespace cachelab::loadgen {

// The integer at `keys` (e.g. {"app", "db_queries"}) in the JSON answer to GET `path`, when there is one.
std::optional<std::int64_t> json_number(const Target& t, std::string_view path,
                                        std::initializer_list<std::string_view> keys);

// How many products the catalog holds (GET /products?limit=1 → total).
std::optional<std::int64_t> catalog_size(const Target& t);

}  // namespace cachelab::loadgen

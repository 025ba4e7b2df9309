// db/seed: the deterministic demo data set (10 categories, 500 products x scale, 5,000 reviews x scale).
// Owns the generator and the COPY loading. Runs from the `cachelab seed` command, never inside the server.
// Idempotent: the seed_state row records the scale loaded; the same scale again is a no-op, another scale
// (or --force) reloads everything in one transaction, so a failure leaves the previous data set intact.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace cachelab::db {

struct SeedCounts {
  std::int64_t categories = 0;
  std::int64_t products = 0;
  std::int64_t reviews = 0;
  bool already_loaded = false;
};

// Called as rows are written: (rows done, rows in all).
using SeedProgress = std::function<void(std::int64_t done, std::int64_t total)>;

Result<SeedCounts> seed(const std::string& conninfo, int scale, bool force, const SeedProgress& progress);

// The numbers a given scale loads; pure, used by tests and by the progress bar.
SeedCounts seed_counts(int scale);

}  // namespace cachelab::db

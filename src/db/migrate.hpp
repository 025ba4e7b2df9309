// db/migrate: versioned SQL migrations compiled into the binary from sql/migrations/, applied in name order.
// Owns the schema_migrations bookkeeping table. Runs before any I/O thread starts (a blocking libpq
// connection is fine there); a PostgreSQL advisory lock lets several replicas start at once safely.
// Fails with a message naming the migration that did not apply; each migration is one transaction.
#pragma once

#include "core/error.hpp"

#include <string>
#include <vector>

namespace cachelab::db {

struct Migration {
  const char* name;
  const char* sql;
};

const std::vector<Migration>& migrations();

// Applies what is missing; returns how many migrations ran.
Result<int> migrate(const std::string& conninfo);

}  // namespace cachelab::db

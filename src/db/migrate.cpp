#include "db/migrate.hpp"

#include "db/sync_pg.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace cachelab::db {

Result<int> migrate(const std::string& conninfo) {
  auto conn = SyncPg::open(conninfo);
  if (!conn) return conn.error();
  auto& pg = *conn;
  // Any 64-bit constant will do; it only has to be the same in every cachelab process.
  if (auto r = pg.exec("SELECT pg_advisory_lock(7305016215)"); !r) return r.error();
  if (auto r = pg.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                       " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
      !r) {
    return r.error();
  }
  auto applied_rows = pg.query("SELECT name FROM schema_migrations");
  if (!applied_rows) return applied_rows.error();
  std::set<std::string> applied;
  for (const auto& row : *applied_rows) applied.insert(row.at(0));

  int ran = 0;
  for (const auto& m : migrations()) {
    if (applied.contains(m.name)) continue;
    spdlog::info("event=migrate name={}", m.name);
    auto r = pg.exec(std::string("BEGIN;\n") + m.sql + "\n;INSERT INTO schema_migrations (name) VALUES ('" +
                     m.name + "');\nCOMMIT;");
    if (!r) {
      (void)pg.exec("ROLLBACK");
      return make_error(ErrorKind::internal,
                        std::string("migration ") + m.name + " failed: " + r.error().message,
                        Backend::database);
    }
    ++ran;
  }
  (void)pg.exec("SELECT pg_advisory_unlock(7305016215)");
  return ran;
}

}  // namespace cachelab::db

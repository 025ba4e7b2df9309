// db/sync_pg: a blocking libpq connection for the command-line tools (migrate, seed) and start-up migrations.
// Owns one PGconn. Never used on an I/O thread: the server's request path uses PgConnection.
// Fails by returning an Error carrying PostgreSQL's message.
#pragma once

#include "core/error.hpp"

#include <memory>
#include <string>
#include <vector>

struct pg_conn;

namespace cachelab::db {

class SyncPg {
 public:
  using Row = std::vector<std::string>;
  static Result<SyncPg> open(const std::string& conninfo);

  // Runs one or more statements, discarding rows.
  Result<void> exec(const std::string& sql);
  // Runs one statement and returns its rows as text (NULL becomes "").
  Result<std::vector<Row>> query(const std::string& sql);
  // COPY ... FROM STDIN, in chunks: begin, put any number of times, end.
  Result<void> copy_begin(const std::string& copy_sql);
  Result<void> copy_put(const std::string& data);
  Result<void> copy_end();

 private:
  explicit SyncPg(pg_conn* c);
  Error error(const std::string& what) const;
  std::shared_ptr<pg_conn> conn_;
};

}  // namespace cachelab::db

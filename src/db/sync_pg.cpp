#include "db/sync_pg.hpp"

#include <libpq-fe.h>

namespace cachelab::db {
namespace {
std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

SyncPg::SyncPg(pg_conn* c) : conn_(c, PQfinish) {}

Error SyncPg::error(const std::string& what) const {
  return make_error(ErrorKind::unavailable, what + ": " + trimmed(PQerrorMessage(conn_.get())),
                    Backend::database);
}

Result<SyncPg> SyncPg::open(const std::string& conninfo) {
  const char* keys[] = {"dbname", "application_name", "connect_timeout", nullptr};
  const char* values[] = {conninfo.c_str(), "cachelab", "10", nullptr};
  SyncPg pg(PQconnectdbParams(keys, values, 1));
  if (PQstatus(pg.conn_.get()) != CONNECTION_OK) return pg.error("cannot connect to PostgreSQL");
  (void)pg.exec("SET client_min_messages = warning");
  return pg;
}

Result<void> SyncPg::exec(const std::string& sql) {
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn_.get(), sql.c_str()), PQclear);
  auto st = PQresultStatus(res.get());
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return make_error(ErrorKind::internal, trimmed(PQresultErrorMessage(res.get())), Backend::database);
  }
  return {};
}

Result<std::vector<SyncPg::Row>> SyncPg::query(const std::string& sql) {
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn_.get(), sql.c_str()), PQclear);
  if (PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    return make_error(ErrorKind::internal, trimmed(PQresultErrorMessage(res.get())), Backend::database);
  }
  std::vector<Row> rows(PQntuples(res.get()));
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    for (int c = 0; c < PQnfields(res.get()); ++c) rows[r].emplace_back(PQgetvalue(res.get(), r, c));
  }
  return rows;
}

Result<void> SyncPg::copy_begin(const std::string& copy_sql) {
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn_.get(), copy_sql.c_str()), PQclear);
  if (PQresultStatus(res.get()) != PGRES_COPY_IN) {
    return make_error(ErrorKind::internal, trimmed(PQresultErrorMessage(res.get())), Backend::database);
  }
  return {};
}

Result<void> SyncPg::copy_put(const std::string& data) {
  if (PQputCopyData(conn_.get(), data.data(), static_cast<int>(data.size())) != 1)
    return error("COPY failed");
  return {};
}

Result<void> SyncPg::copy_end() {
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) return error("COPY end failed");
  for (PGresult* res; (res = PQgetResult(conn_.get())) != nullptr;) {
    std::unique_ptr<PGresult, void (*)(PGresult*)> owned(res, PQclear);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
      return make_error(ErrorKind::internal, trimmed(PQresultErrorMessage(res)), Backend::database);
    }
  }
  return {};
}

}  // namespace cachelab::db

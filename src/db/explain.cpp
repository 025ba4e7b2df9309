// `cachelab explain`: EXPLAIN (ANALYZE, BUFFERS) of the statements behind an endpoint, run exactly as the
// server runs them (same SQL text, sample parameters). Command-line only: uses a blocking connection.
#include "db/catalog.hpp"
#include "db/sync_pg.hpp"

namespace cachelab::db {

Result<std::string> explain(const std::string& conninfo, const std::string& endpoint) {
  auto conn = SyncPg::open(conninfo);
  if (!conn) return conn.error();
  std::string out;
  for (const auto& q : explainable_queries()) {
    if (endpoint != q.endpoint) continue;
    auto rows = conn->query(std::string("EXPLAIN (ANALYZE, BUFFERS) ") + q.sql, q.sample_params);
    if (!rows) return rows.error();
    out += "-- " + std::string(q.endpoint) + ":" + q.sql + "\n";
    if (!q.sample_params.empty()) {
      out += "-- parameters:";
      for (std::size_t i = 0; i < q.sample_params.size(); ++i) {
        out += " $" + std::to_string(i + 1) + "='" + q.sample_params[i] + "'";
      }
      out += "\n";
    }
    for (const auto& row : *rows) out += row.at(0) + "\n";
    out += "\n";
  }
  if (out.empty()) return make_error(ErrorKind::invalid_argument, "unknown endpoint '" + endpoint + "'");
  return out;
}

}  // namespace cachelab::db

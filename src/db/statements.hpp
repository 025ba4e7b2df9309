// db/statements: every SQL statement the server runs, in one table: its prepared name, its text and, for the
// reads behind an endpoint, the sample parameters the query inspector explains it with. The request path
// prepares exactly these on every connection and EXPLAIN reads the same entries, so the inspector always
// shows the SQL that runs. Never executes anything itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cachelab::db {

struct Statement {
  const char* name;      // the prepared statement's name
  const char* sql;       // $1, $2, … parameters
  const char* endpoint;  // the read endpoint it serves ("product", "search", …), or nullptr (writes, ping)
  std::vector<std::string> sample_params;  // what EXPLAIN runs it with
};

// Every statement, in a fixed order (an endpoint's statements in the order its request sends them).
const std::vector<Statement>& statements();

// The statements behind `endpoint` (empty for an unknown one), and the endpoints that have any.
std::vector<const Statement*> statements_for(std::string_view endpoint);
std::vector<std::string_view> explainable_endpoints();

// '%' + query with \, % and _ escaped + '%': an ILIKE pattern that matches `query` literally.
std::string literal_ilike_pattern(std::string_view query);

// The minimum number of reviews a product needs to be ranked in top products.
inline constexpr int top_products_min_reviews = 5;

}  // namespace cachelab::db

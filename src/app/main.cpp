// cachelab: a Redis cache-aside service in front of PostgreSQL, and the tools around it.
#include "app/commands.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  using namespace cachelab;
  CLI::App app{"cachelab: see what a Redis cache does to a PostgreSQL-backed API"};
  app.require_subcommand(1);

  config::ServeConfig serve;
  auto* serve_cmd = app.add_subcommand("serve", "Serve the dashboard (at /) and the HTTP API");
  config::add_options(*serve_cmd, serve);

  config::SeedConfig seed;
  auto* seed_cmd = app.add_subcommand("seed", "Apply migrations and load the deterministic demo data set");
  config::add_options(*seed_cmd, seed);

  config::MigrateConfig migrate;
  auto* migrate_cmd = app.add_subcommand("migrate", "Apply pending SQL migrations");
  config::add_options(*migrate_cmd, migrate);

  config::ExplainConfig explain;
  auto* explain_cmd = app.add_subcommand(
      "explain", "EXPLAIN (ANALYZE, BUFFERS) the SQL behind an endpoint, as the server runs it");
  config::add_options(*explain_cmd, explain);

  config::HealthcheckConfig healthcheck;
  auto* healthcheck_cmd =
      app.add_subcommand("healthcheck", "Exit 0 when the local server answers GET /health with 200");
  config::add_options(*healthcheck_cmd, healthcheck);

  config::LoadConfig load;
  auto* load_cmd = app.add_subcommand(
      "load", "Send load to a server and report throughput, latency percentiles, errors and the hit ratio");
  config::add_options(*load_cmd, load);

  auto* routes_cmd =
      app.add_subcommand("routes", "List the HTTP endpoints (method, path, summary), one per line");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help exits 0; any other mistake on the command line exits 2, with CLI11's one-line message.
    const int printed = app.exit(e);
    return printed == 0 ? 0 : 2;
  }
  if (routes_cmd->parsed()) return app::run_routes();
  if (healthcheck_cmd->parsed()) return app::run_healthcheck(healthcheck);
  if (explain_cmd->parsed()) return app::run_explain(explain);
  if (serve_cmd->parsed()) return app::run_serve(serve);
  if (seed_cmd->parsed()) return app::run_seed(seed);
  if (migrate_cmd->parsed()) return app::run_migrate(migrate);
  if (load_cmd->parsed()) return app::run_load(load);
  return 2;
}

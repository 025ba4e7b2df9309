// app/commands: the subcommands of the `cachelab` binary. Owns turning a parsed configuration into a
// running program and an exit code. main.cpp only parses flags and dispatches here.
#pragma once

#include "config/config.hpp"

namespace cachelab::app {

int run_serve(const config::ServeConfig& c);
int run_seed(const config::SeedConfig& c);
int run_migrate(const config::MigrateConfig& c);
int run_explain(const config::ExplainConfig& c);
// Prints the endpoint table: what deploy manifests and docs are checked against.
int run_routes();
// GET /health on the local server; exit status 0 when it answers 200 (the container health check).
int run_healthcheck(const config::HealthcheckConfig& c);
// Load against a server; exit status 0, 1 (error rate over --max-error-rate) or 2 (bad input, unreachable).
int run_load(const config::LoadConfig& c);

}  // namespace cachelab::app

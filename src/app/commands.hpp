// app/commands: the subcommands of the `cachelab` binary. Owns turning a parsed configuration into a
// running program and an exit code. main.cpp only parses flags and dispatches here.
#pragma once

#include "config/config.hpp"

namespace cachelab::app {

int run_serve(const config::ServeConfig& c);
int run_seed(const config::SeedConfig& c);
int run_migrate(const config::MigrateConfig& c);
int run_explain(const config::ExplainConfig& c);

}  // namespace cachelab::app

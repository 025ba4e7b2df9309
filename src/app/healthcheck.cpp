// `cachelab healthcheck`: GET http://HOST:PORT/PATH and exit 0 on a 200 — the container HEALTHCHECK, so the
// runtime image needs no curl. A command-line tool: it waits on its own thread, never longer than
// --timeout-seconds in all (http/probe), so a server that accepts and never answers cannot hang the check.
#include "app/commands.hpp"
#include "http/probe.hpp"

#include <fmt/format.h>

namespace cachelab::app {

int run_healthcheck(const config::HealthcheckConfig& c) {
  auto answer = http::probe(c.host, c.port, c.path, std::chrono::seconds(c.timeout_seconds));
  if (!answer) {
    fmt::print(stderr, "unhealthy: {}\n", answer.error());
    return 1;
  }
  if (answer->status != 200) {
    fmt::print(stderr, "unhealthy: {} answered {}\n", c.path, answer->status);
    return 1;
  }
  return 0;
}

}  // namespace cachelab::app

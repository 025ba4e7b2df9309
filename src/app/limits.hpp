// app/limits: the process's descriptor budget and the connection limit derived from it. Owns the
// RLIMIT_NOFILE raise at start-up; never sets a limit below the one the process was given.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cachelab::app {

// Raises the soft descriptor limit to the hard one (as nginx's worker_rlimit_nofile and Redis do) and returns
// the soft limit in force afterwards.
std::uint64_t raise_descriptor_limit();

// The default --max-connections for a descriptor limit: what is left after a reserve for everything else the
// process opens (PostgreSQL and Redis connections, the lab's client connections, files): 10% of the limit,
// at least 64; never below 16.
std::size_t default_max_connections(std::uint64_t descriptor_limit);

}  // namespace cachelab::app

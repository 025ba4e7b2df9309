// app/process_metrics: what /metrics reads at scrape time rather than records: the process (memory,
// descriptors, CPU, threads, start time), the build, the HTTP server's connections and the near cache's
// figures. Owns only the collectors it adds to the registry. Never runs on a request path but the scrape's.
// The process's size is read by one function, which the heap trimmer (app/heap_trim) reads it with too.
#pragma once

#include "core/metrics.hpp"

#include <memory>

namespace cachelab::http {
class Server;
}
namespace cachelab::service {
class Counters;
}

namespace cachelab::app {

// The process's size now, from /proc/self/statm (zeros when it cannot be read).
struct ProcessMemory {
  double virtual_bytes = 0;
  double resident_bytes = 0;
};
ProcessMemory process_memory();

// process_* (the names Prometheus's own clients use) and cachelab_build_info.
void add_process_metrics(metrics::Registry& registry);

// Connections open, shed and refused. `server` must outlive every scrape (the I/O threads stop first).
void add_server_metrics(metrics::Registry& registry, const http::Server& server);

// The near cache's entries, bytes, hits, evictions, invalidations and lag (nothing while it is off).
void add_near_cache_metrics(metrics::Registry& registry, std::shared_ptr<const service::Counters> counters);

}  // namespace cachelab::app

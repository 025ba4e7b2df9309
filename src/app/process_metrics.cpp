#include "app/process_metrics.hpp"

#include "http/server.hpp"
#include "service/counters.hpp"

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/resource.h>
#include <unistd.h>

namespace cachelab::app {
namespace {

// Entries in a /proc directory (descriptors, threads); 0 when it cannot be read.
double entries_in(const char* dir) {
  std::error_code ec;
  double n = 0;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) ++n;
  return n;
}

}  // namespace

ProcessMemory process_memory() {
  const auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
  double size_pages = 0, resident_pages = 0;
  std::ifstream statm("/proc/self/statm");
  statm >> size_pages >> resident_pages;
  return {.virtual_bytes = size_pages * page, .resident_bytes = resident_pages * page};
}

void add_process_metrics(metrics::Registry& registry) {
  const double started =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  registry.collect([started](metrics::Writer& w) {
    const ProcessMemory memory = process_memory();
    w.single("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge",
             memory.resident_bytes);
    w.single("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", memory.virtual_bytes);
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    w.single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
             seconds(usage.ru_utime) + seconds(usage.ru_stime));
    w.single("process_open_fds", "Number of open file descriptors.", "gauge",
             entries_in("/proc/self/fd") - 1);  // less the one listing them
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    w.single("process_max_fds", "Maximum number of open file descriptors.", "gauge",
             static_cast<double>(files.rlim_cur));
    w.single("process_start_time_seconds", "When the server started, in seconds since the Unix epoch.",
             "gauge", started);
    w.single("cachelab_process_threads", "Threads of the process.", "gauge", entries_in("/proc/self/task"));
    const std::array<metrics::Writer::Label, 1> version = {{{"version", CACHELAB_VERSION}}};
    w.family("cachelab_build_info", "Always 1; the labels say which build this is.", "gauge");
    w.sample("cachelab_build_info", std::int64_t{1}, version);
  });
}

void add_server_metrics(metrics::Registry& registry, const http::Server& server) {
  registry.collect([&server](metrics::Writer& w) {
    w.single("cachelab_http_connections_open", "Client connections open now.", "gauge",
             static_cast<double>(server.open_connections()));
    w.single("cachelab_http_connections_max", "The most connections allowed at once (--max-connections).",
             "gauge", static_cast<double>(server.max_connections()));
    w.single("cachelab_http_connections_shed_total", "Idle keep-alive connections closed to make room.",
             "counter", static_cast<double>(server.shed_connections()));
    w.single("cachelab_http_connections_refused_total",
             "Connections refused at the limit or without a descriptor left.", "counter",
             static_cast<double>(server.refused_connections()));
  });
}

void add_near_cache_metrics(metrics::Registry& registry, std::shared_ptr<const service::Counters> counters) {
  registry.collect([counters = std::move(counters)](metrics::Writer& w) {
    const auto near = counters->snapshot().near;
    if (!near) return;
    w.single("cachelab_l1_listening",
             "1 while invalidations are heard and the near cache serves; 0 while blind.", "gauge",
             near->listening ? 1 : 0);
    w.single("cachelab_l1_max_bytes", "The near cache's budget (--l1-max-bytes).", "gauge",
             static_cast<double>(near->max_bytes));
    w.single(
        "cachelab_l1_bytes",
        "Bytes the near cache's live entries take of its segments (its memory is the budget, mapped whole).",
        "gauge", static_cast<double>(near->bytes));
    w.single("cachelab_l1_entries", "Entries in the near cache.", "gauge",
             static_cast<double>(near->entries));
    w.single("cachelab_l1_hits_total", "Near-cache lookups that found a live entry.", "counter",
             static_cast<double>(near->hits));
    w.single("cachelab_l1_misses_total", "Near-cache lookups that went on to Redis.", "counter",
             static_cast<double>(near->misses));
    w.single("cachelab_l1_evictions_total", "Entries evicted to stay within the budget.", "counter",
             static_cast<double>(near->evictions));
    w.single("cachelab_l1_invalidated_total", "Entries dropped by an invalidation from Redis.", "counter",
             static_cast<double>(near->invalidated));
    w.single("cachelab_l1_refused_total", "Redis answers not kept: an invalidation overtook them, or blind.",
             "counter", static_cast<double>(near->refused));
    w.single("cachelab_l1_flushes_total", "Whole near-cache drops (FLUSHALL, a lost connection, deafness).",
             "counter", static_cast<double>(near->flushes));
    w.single("cachelab_l1_invalidation_messages_total", "Invalidation messages received from Redis.",
             "counter", static_cast<double>(near->invalidation_messages));
    w.single("cachelab_l1_deaf_periods_total",
             "Times the listener stopped hearing its probes (near cache blind).", "counter",
             static_cast<double>(near->deaf_periods));
    w.single("cachelab_l1_invalidation_lag_seconds",
             "From a probe write to its invalidation's arrival, the last one measured.", "gauge",
             near->lag_last_ms / 1e3);
  });
}

}  // namespace cachelab::app

// loadgen/runner: drives HTTP load at a server and measures what comes back — the engine behind `cachelab
// load` and the dashboard's load lab. Sees the server only through HTTP. Owns its threads (one io_context
// each), keep-alive connections spread over them, and per-thread histograms and counters, merged once a
// second for the progress report and at the end for the final one. Two ways to load:
//  - closed loop (`rate` 0): every connection sends its next request as soon as the previous answer
//    arrived; the latency is send → answer. A stalled server slows the senders down, so a closed loop
//    under-reports stalls.
//  - open loop (`rate` > 0): requests are due at a constant schedule (each connection a share of the rate),
//    and every latency is measured from the request's *intended* send time, so a stall counts in full for
//    every request that should have been sent during it (coordinated omission corrected, as wrk2 does).
// Never allocates on the measuring path (histograms are fixed arrays; request and buffer strings keep their
// capacity). How it fails: a connection that cannot connect, times out or breaks counts an error and
// reconnects; the run goes on.
#pragma once

#include "core/error.hpp"
#include "loadgen/histogram.hpp"
#include "loadgen/workload.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace cachelab::loadgen {

struct Target {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
};
// http://host[:port][/] (no path: a workload or --target names the paths).
Result<Target> parse_target_url(std::string_view url);

struct LoadOptions {
  Target target;
  std::optional<Workload> workload;  // what to send; without one, GET `path` every time
  std::string path = "/";
  std::int64_t key_space = 500;  // the workload's keys, resolved ("catalog" already replaced by a number)
  int connections = 64;
  double rate = 0;  // requests per second in all; 0: closed loop
  std::chrono::milliseconds warmup{0};
  std::chrono::milliseconds duration{10'000};
  int threads = 1;
  std::chrono::milliseconds request_timeout{10'000};
  std::string admin_token;  // sent with writes as a bearer token when set
};

struct Errors {
  std::int64_t connect = 0, timeout = 0, status_4xx = 0, status_5xx = 0, io = 0;
  std::int64_t total() const { return connect + timeout + status_4xx + status_5xx + io; }
  void add(const Errors& o);
};

// Counts over some stretch of the run (one second, or all of it after the warm-up).
struct Tally {
  std::int64_t requests = 0;  // answered (any status)
  std::int64_t hits = 0, misses = 0,
               collapsed = 0;  // from X-Cache and Cache-Status, on answers that have them
  std::int64_t writes = 0;
  Errors errors;
  void add(const Tally& o);
  std::optional<double> hit_ratio() const;  // hits / (hits + misses), when any answer said
};

// Once a second while the run goes on.
struct Progress {
  double elapsed_s = 0;     // since the start, warm-up included
  bool warming_up = false;  // this second belongs to the warm-up (not in the final report)
  Tally second;             // this second only
  Histogram latency;        // this second only
};

struct Report {
  double seconds = 0;  // measured time (after the warm-up)
  Tally tally;
  Histogram latency;
  double requests_per_second() const {
    return seconds > 0 ? static_cast<double>(tally.requests) / seconds : 0;
  }
};

class LoadRun {
 public:
  // Starts the threads at once. From wait(), on its caller's thread: `on_second` once a second, and
  // `on_measuring` once, when the warm-up ends and measuring begins (to read the server's own counters then).
  static std::unique_ptr<LoadRun> start(LoadOptions options,
                                        std::function<void(const Progress&)> on_second = {},
                                        std::function<void()> on_measuring = {});
  ~LoadRun();
  // Ends the run early (any thread); wait() then returns what was measured so far.
  void stop();
  // Reports progress once a second until the run ends, joins the threads and returns the final report.
  Report wait();

  struct Shared;

 private:
  LoadRun() = default;
  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> threads_;
  std::function<void(const Progress&)> on_second_;
  std::function<void()> on_measuring_;
};

}  // namespace cachelab::loadgen

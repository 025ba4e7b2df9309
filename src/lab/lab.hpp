// lab/lab: the dashboard's load lab. Runs the load generator (loadgen/) in threads of its own — never on the
// server's I/O threads — against the server's own public port, one run or experiment at a time, and keeps
// what they measured: a point per second (throughput, p50/p99, hit ratio, database queries/s, Redis memory
// and evictions), each run's final report and latency distribution, and a history of results to compare.
// Experiments change Redis settings (CONFIG SET) or the TTL, and always put back what they changed — when a
// run ends, fails or is stopped, and when the server shuts down. Sees the server only through HTTP and the
// Hooks the composition root gives it; every hook has a deadline.
#pragma once

#include "core/error.hpp"
#include "loadgen/runner.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cachelab::lab {

// What the lab needs from the server it lives in. Called from the lab's own thread.
struct Hooks {
  struct Figures {
    std::int64_t db_queries = 0;              // the app's counter
    std::optional<std::int64_t> used_memory;  // Redis INFO, when Redis answers
    std::optional<std::int64_t> evicted_keys;
  };
  std::function<Figures()> figures;
  std::function<Result<std::string>(const std::string& name)> redis_setting;
  std::function<Result<void>(const std::string& name, const std::string& value)> change_redis_setting;
  std::function<void(std::chrono::milliseconds)> override_ttl;  // 0: back to the configured TTLs
  std::function<Result<std::int64_t>()> flush;                  // empty the cache before a comparable run
};

struct RunRequest {
  std::string workload;
  std::chrono::seconds duration{10};
  std::optional<int> connections;
  std::optional<double> rate;  // open loop
};

struct Point {
  double t = 0;  // seconds since the run began measuring
  double rps = 0;
  double p50_ms = 0, p99_ms = 0;
  std::optional<double> hit_ratio;
  double db_qps = 0;
  std::optional<std::int64_t> used_memory, evicted_keys;
};

// One finished run: what it was, its figures, its latency distribution (percentile → ms).
struct RunResult {
  std::uint64_t job = 0;
  std::string label;  // "zipf-0.99", or the experiment's step: "uniform-large, maxmemory 8 MB"
  std::string workload;
  std::int64_t key_space = 0;  // how many keys the workload drew from
  double rps = 0, p50_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  std::optional<double> hit_ratio;
  double db_qps = 0;
  std::int64_t evicted = 0;  // keys Redis evicted during the run
  std::int64_t errors = 0;
  std::vector<std::pair<double, double>> percentiles;
  std::string report_json;  // loadgen's full report
};

struct ExperimentInfo {
  std::string_view name, title, explanation;
};
const std::vector<ExperimentInfo>& experiments();

// The workloads a lab run may use (the built-in ones), with their descriptions.
struct WorkloadInfo {
  std::string name, description;
};
std::vector<WorkloadInfo> workloads();

// Everything a page needs to show the lab; replaced as a whole on each change (readers copy a pointer).
struct State {
  std::uint64_t version = 0;
  std::uint64_t job = 0;  // bumps with every run or experiment started
  bool running = false;
  std::string kind;                // "run", or an experiment's name
  std::string step;                // the run under way
  std::vector<Point> points;       // of the run under way
  std::vector<RunResult> results;  // every finished run, newest last (at most 60 kept)
  std::string error;               // why the last job ended early, if it did
};

class Lab {
 public:
  Lab(loadgen::Target self, Hooks hooks, std::string admin_token);
  ~Lab();
  // Where the server listens, once it does, and how to reach its internals (both before any job starts).
  void aim(loadgen::Target self);
  void set_hooks(Hooks hooks);

  // A single run. conflict (code lab_busy) while another job runs; invalid_argument for bad input.
  Result<void> start_run(const RunRequest& request);
  // An experiment by name (experiments()); `per_run` is each of its runs' measured time.
  Result<void> start_experiment(std::string_view name, std::chrono::seconds per_run);
  // Ends the job under way early (settings are put back); false when nothing ran.
  bool stop();
  // Stops, waits for the lab's thread and drops the hooks: call before the server's I/O threads stop (so the
  // hooks still answer while settings are put back) and before their io_contexts are destroyed.
  void shutdown();
  bool busy() const;

  std::shared_ptr<const State> state() const;

  struct Job;

 private:
  Result<void> launch(std::string kind, std::function<void(Job&)> body);
  void publish(const std::function<void(State&)>& change);
  RunResult run_once(Job& job, const std::string& label, const loadgen::Workload& w,
                     const RunRequest& request);

  loadgen::Target self_;
  Hooks hooks_;
  std::string admin_token_;
  mutable std::mutex m_;
  std::shared_ptr<const State> state_ = std::make_shared<State>();
  std::shared_ptr<Job> job_;
  std::thread thread_;
};

}  // namespace cachelab::lab

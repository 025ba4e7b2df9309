// tests/support/harness: what integration tests need to drive the real binary and look behind it.
// Owns child processes (the server under test), a small blocking HTTP client, and direct PostgreSQL and
// Redis connections used to check the server's work independently. Test code only: blocking is fine here.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachelab::test {

std::string env(const char* name, const std::string& fallback = "");
std::string database_url();  // the private test PostgreSQL
std::string redis_url();     // the private test Redis (or, under CACHELAB_TEST_CLUSTER, the test cluster)
// CACHELAB_TEST_CLUSTER set: the suite runs against the private Redis Cluster (`backends.sh start cluster`)
// instead of the single Redis; redis() and redis_pid() then reach the master that serves cachelab's slot.
bool on_cluster();
int redis_port();          // the single Redis, or the cluster master serving cachelab's slot
int cluster_first_port();  // the private cluster's first node (backends.sh: REDIS_CLUSTER_PORT, six in a row)

// Runs scripts/backends.sh <action> <which> against the test backends; returns its exit status.
int backends(const std::string& action, const std::string& which);
// Stops or starts the Redis the servers use: the single one, or under CACHELAB_TEST_CLUSTER=1 the whole
// cluster (started again, it is a new cluster: new node ids, the slots assigned afresh).
int redis_backend(const std::string& action);

// Starts the test backends (reusing running ones) and loads the data set with `cachelab seed` (idempotent).
// Returns false when either step failed.
bool start_backends_and_seed();

// `cachelab serve` on a free port, stopped (SIGTERM, then waited for) when destroyed.
class ServerProcess {
 public:
  explicit ServerProcess(std::vector<std::string> extra_args = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  unsigned short port() const { return port_; }
  int pid() const { return pid_; }
  // Sends SIGTERM (with `repeat`, again every 10 ms until it exits) and returns the exit status (-1 if it was
  // killed, by a signal or because it outlived `wait`).
  int stop(std::chrono::seconds wait = std::chrono::seconds(20), bool repeat = false);
  // Every line the server wrote to stdout after its "listening on" line, so far (its logs).
  std::string output() const;

 private:
  struct Output;
  int pid_ = -1;
  unsigned short port_ = 0;
  std::shared_ptr<Output> output_;
};

// How many servers exited with a non-zero status (a sanitizer report, a crash) when stopped.
int unclean_server_exits();

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  boost::json::value json() const;
  std::string header(const std::string& name) const;
};

// One request on a fresh connection. `raw_headers` are added as given.
HttpResponse http(unsigned short port, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::map<std::string, std::string>& raw_headers = {});

// `n` GETs of `target` at once, from `n` threads released together, spread over `ports` in turn; how many
// answers `ok` accepted. For stampedes.
int concurrent_gets(const std::vector<unsigned short>& ports, int n, const std::string& target,
                    const std::function<bool(const HttpResponse&)>& ok);
// One of `/api/stats`' `app` figures, summed over the servers on `ports`.
// The value of the sample `series` (its name and labels exactly as exposed) in a /metrics text; -1 when it
// is absent.
double metric_sample(const std::string& text, const std::string& series);

std::int64_t app_stat_total(const std::vector<unsigned short>& ports, const std::string& name);

// Direct Redis access: one command, reply as text (integers as decimal, nil as nullopt). Every cachelab key
// lives in one slot, so on a cluster one node (the slot's master) answers for all of them.
std::optional<std::string> redis(const std::vector<std::string>& argv);

// Direct PostgreSQL access: rows of text. On the test PostgreSQL, or on the server at `url`.
std::vector<std::vector<std::string>> sql(const std::string& query, const std::string& url = "");
// The streaming replica `backends.sh start replica` runs (port PG_REPLICA_PORT, default PG_PORT + 1).
std::string replica_url();

// The test Redis server's process id (for SIGSTOP/SIGCONT), from INFO.
int redis_pid();

// The test PostgreSQL's processes: the postmaster (from postmaster.pid in its data directory) and its
// children.
std::vector<int> postgres_pids();

// Runs `cachelab <args>` to completion; its exit status and everything it printed (stdout and stderr).
struct CommandResult {
  int status = -1;
  std::string output;
};
CommandResult run_cachelab(const std::vector<std::string>& args);

// Retries `check` every 100 ms until it returns true or `timeout` passes.
template <class F>
bool eventually(F check, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (check()) return true;
    struct timespec ts {
      0, 100'000'000
    };
    nanosleep(&ts, nullptr);
  }
  return check();
}

}  // namespace cachelab::test

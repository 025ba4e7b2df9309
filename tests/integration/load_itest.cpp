// `cachelab load` against the real server: every built-in workload, the JSON report a script relies on, bad
// input (exit 2, one line), the error-rate exit (1), and the reason open loops exist: a 300 ms Redis stall
// (SIGSTOP) shows in an open loop's tail and is mostly hidden by a closed loop.
#include "support/harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace cachelab::test {
namespace {

class LoadTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
  static std::string url(const ServerProcess& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }
  static boost::json::object report(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return boost::json::parse(text.str()).as_object();
  }
};

TEST_F(LoadTest, EveryBuiltInWorkloadRunsAndReportsWhatScriptsRelyOn) {
  ServerProcess server;
  for (const char* workload : {"hot-product", "zipf-0.99", "uniform-large", "read-write-90-10"}) {
    const std::string json = std::string("/tmp/cachelab-load-") + workload + ".json";
    auto r = run_cachelab({"load", "--url", url(server), "--workload", workload, "--duration", "1s",
                           "--warmup", "0s", "--connections", "8", "--threads", "2", "--json", json});
    ASSERT_EQ(r.status, 0) << workload << ": " << r.output;
    EXPECT_NE(r.output.find("latency ms"), std::string::npos) << r.output;
    auto j = report(json);
    EXPECT_GT(j.at("requests").as_int64(), 0) << workload;
    EXPECT_GT(j.at("requests_per_second").as_double(), 0);
    for (const char* e : {"connect", "timeout", "status_4xx", "status_5xx"}) {
      EXPECT_EQ(j.at("errors").at(e).as_int64(), 0) << workload << " " << e;
    }
    for (const char* p : {"p50", "p90", "p99", "p999", "max"})
      EXPECT_GT(j.at("latency_ms").at(p).as_double(), 0) << p;
    EXPECT_LE(j.at("latency_ms").at("p50").as_double(), j.at("latency_ms").at("p99").as_double());
    EXPECT_TRUE(j.at("hit_ratio").is_double()) << workload;
    EXPECT_TRUE(j.at("database_queries_per_second").is_double()) << workload;
    EXPECT_FALSE(j.at("histogram").as_array().empty());
  }
  // A single hot key is a hit after its first read; writes (read-write-90-10) were really sent.
  EXPECT_GT(report("/tmp/cachelab-load-hot-product.json").at("hit_ratio").as_double(), 0.99);
  EXPECT_GT(report("/tmp/cachelab-load-read-write-90-10.json").at("writes").as_int64(), 0);
}

TEST_F(LoadTest, BadInputIsOneLineAndExit2) {
  ServerProcess server;
  const std::string bad_file = "/tmp/cachelab-bad-workload.json";
  std::ofstream(bad_file) << R"({"name":"x","description":"y","mix":{"product":1},)"
                             R"("keys":{"distribution":"uniform","key_space":5},"colour":"red"})";
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--workload", bad_file}, "unknown field 'colour'"},
      {{"--target", "/health", "--rate", "0"}, "--rate must be above 0"},
      {{"--target", "/health", "--rate", "-5"}, "--rate must be above 0"},
      {{"--target", "/health", "--rate", "lots"}, "--rate"},
      {{"--workload", "hot-product", "--target", "/health"}, "either --workload"},
      {{}, "either --workload"},
      {{"--target", "/health", "--duration", "soon"}, "--duration"},
      {{"--workload", "no-such-workload"}, "neither a workload file nor a built-in"},
  };
  for (const auto& [args, says] : cases) {
    std::vector<std::string> full = {"load", "--url", url(server)};
    full.insert(full.end(), args.begin(), args.end());
    auto r = run_cachelab(full);
    EXPECT_EQ(r.status, 2) << says << ": " << r.output;
    EXPECT_NE(r.output.find(says), std::string::npos) << r.output;
  }
  auto unreachable = run_cachelab({"load", "--url", "http://127.0.0.1:1", "--target", "/health"});
  EXPECT_EQ(unreachable.status, 2);
  EXPECT_NE(unreachable.output.find("cannot reach http://127.0.0.1:1"), std::string::npos)
      << unreachable.output;
  EXPECT_EQ(std::count(unreachable.output.begin(), unreachable.output.end(), '\n'), 1) << "one line";
}

TEST_F(LoadTest, AnErrorRateAboveTheLimitExits1) {
  ServerProcess server;
  auto r = run_cachelab(
      {"load", "--url", url(server), "--target", "/no-such-path", "--duration", "1s", "--connections", "2"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("above --max-error-rate"), std::string::npos) << r.output;
  auto allowed = run_cachelab({"load", "--url", url(server), "--target", "/no-such-path", "--duration", "1s",
                               "--connections", "2", "--max-error-rate", "1"});
  EXPECT_EQ(allowed.status, 0) << allowed.output;
}

// Stops Redis for 300 ms one second into a 3-second run of cache hits, and returns the run's report.
boost::json::object run_with_redis_stall(const ServerProcess& server, std::vector<std::string> mode) {
  const int pid = redis_pid();
  EXPECT_GT(pid, 0);
  std::vector<std::string> args = {"load",
                                   "--url",
                                   "http://127.0.0.1:" + std::to_string(server.port()),
                                   "--target",
                                   "/products/1",
                                   "--duration",
                                   "3s",
                                   "--threads",
                                   "2",
                                   "--json",
                                   "/tmp/cachelab-load-stall.json",
                                   "--max-error-rate",
                                   "1"};
  args.insert(args.end(), mode.begin(), mode.end());
  std::thread stall([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    kill(pid, SIGSTOP);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGCONT);
  });
  auto r = run_cachelab(args);
  stall.join();
  EXPECT_EQ(r.status, 0) << r.output;
  std::ifstream in("/tmp/cachelab-load-stall.json");
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str()).as_object();
}

TEST_F(LoadTest, AnOpenLoopShowsARedisStallThatAClosedLoopHides) {
  ServerProcess server({"--l1-max-bytes", "0"});  // every hit from Redis: a near cache would hide the stall
  http(server.port(), "GET", "/products/1");      // cached: the runs measure hits
  auto open = run_with_redis_stall(server, {"--rate", "1000", "--connections", "16"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the breaker closes again
  auto closed = run_with_redis_stall(server, {"--connections", "16"});
  const auto ms = [](const boost::json::object& j, const char* p) {
    return j.at("latency_ms").at(p).as_double();
  };
  // Open loop: every request due during the stall waits for it, measured from when it was due.
  EXPECT_GE(ms(open, "max"), 200) << boost::json::serialize(open.at("latency_ms"));
  EXPECT_GE(ms(open, "p99"), 100) << boost::json::serialize(open.at("latency_ms"));
  // Closed loop: the 16 connections each wait once, and send nothing meanwhile, so the stall is a handful of
  // samples among tens of thousands; its p99 stays far below the open loop's.
  EXPECT_LT(ms(closed, "p99"), ms(open, "p99") / 4) << boost::json::serialize(closed.at("latency_ms"));
}

// The server stops answering for 1.2 s (SIGSTOP) in a run whose requests may take 300 ms: each connection's
// request is cut at its deadline and counted as a timeout (not an I/O error), the connection is replaced, and
// the run still ends on time and serves again once the server is back.
TEST_F(LoadTest, ARequestPastItsDeadlineIsATimeoutAndTheRunGoesOn) {
  ServerProcess server;
  const int pid = server.pid();
  std::thread stall([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    kill(pid, SIGSTOP);
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    kill(pid, SIGCONT);
  });
  const auto started = std::chrono::steady_clock::now();
  auto r = run_cachelab({"load", "--url", url(server), "--target", "/health", "--duration", "3s",
                         "--connections", "4", "--timeout", "300ms", "--max-error-rate", "1", "--json",
                         "/tmp/cachelab-load-timeout.json"});
  stall.join();
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(6));
  const auto j = report("/tmp/cachelab-load-timeout.json");
  const auto& errors = j.at("errors").as_object();
  EXPECT_GE(errors.at("timeout").as_int64(), 4) << boost::json::serialize(errors);
  EXPECT_EQ(errors.at("io").as_int64(), 0) << boost::json::serialize(errors);
  EXPECT_GT(j.at("requests").as_int64(), 100) << "served before and after the stall";
}

}  // namespace
}  // namespace cachelab::test

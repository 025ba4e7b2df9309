// GET /metrics against the real binary: the figures match what was sent, `promtool check metrics` (Debian's
// prometheus package) accepts the exposition, and a real Prometheus server scrapes it and answers PromQL.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cachelab::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Runs `command` with `input` on its standard input; its exit status and what it printed.
CommandResult run_with_input(const std::string& command, const std::string& input) {
  const auto in = fs::temp_directory_path() / ("metrics-" + std::to_string(getpid()) + ".txt");
  std::ofstream(in) << input;
  CommandResult r;
  FILE* p = popen((command + " < " + in.string() + " 2>&1").c_str(), "r");
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p)) r.output += buf;
  const int status = p ? pclose(p) : -1;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  fs::remove(in);
  return r;
}

unsigned short free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

// The PromQL of every panel of the provisioned Grafana dashboard (deploy/grafana/cachelab-dashboard.json).
std::vector<std::string> dashboard_queries() {
  std::ifstream f(env("CACHELAB_SOURCE_DIR") + "/deploy/grafana/cachelab-dashboard.json");
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> out;
  const auto dashboard = boost::json::parse(text);
  for (const auto& panel : dashboard.at("panels").as_array()) {
    for (const auto& target : panel.at("targets").as_array()) out.emplace_back(target.at("expr").as_string());
  }
  return out;
}

class MetricsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
  void SetUp() override {
    ASSERT_EQ(backends("start", "all"), 0);
    redis({"FLUSHALL"});
    unclean_before_ = unclean_server_exits();
  }
  void TearDown() override { EXPECT_EQ(unclean_server_exits(), unclean_before_); }
  int unclean_before_ = 0;
};

TEST_F(MetricsTest, CountsWhatWasServedAndPromtoolAcceptsIt) {
  ServerProcess server({"--l1-max-bytes", "0"});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http(server.port(), "GET", "/products/5").status, 200);
  ASSERT_EQ(http(server.port(), "GET", "/products/5?cache=bypass").status, 200);
  ASSERT_EQ(http(server.port(), "GET", "/products/abc").status, 400);
  ASSERT_EQ(http(server.port(), "GET", "/no/such/path").status, 404);
  ASSERT_EQ(http(server.port(), "GET", "/").status, 200);

  const auto m = http(server.port(), "GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(m.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const auto& t = m.body;
  EXPECT_EQ(
      metric_sample(t, R"(cachelab_http_requests_total{route="/products/{id}",method="GET",status="200"})"),
      4);
  EXPECT_EQ(
      metric_sample(t, R"(cachelab_http_requests_total{route="/products/{id}",method="GET",status="400"})"),
      1);
  EXPECT_EQ(metric_sample(t, R"(cachelab_http_requests_total{route="unmatched",method="GET",status="404"})"),
            1);
  EXPECT_EQ(metric_sample(t, R"(cachelab_http_requests_total{route="static",method="GET",status="200"})"), 1);
  EXPECT_EQ(metric_sample(t, R"(cachelab_http_request_duration_seconds_count{route="/products/{id}"})"), 5);
  EXPECT_EQ(
      metric_sample(t, R"(cachelab_http_request_duration_seconds_bucket{route="/products/{id}",le="+Inf"})"),
      5);
  EXPECT_EQ(
      metric_sample(t, R"(cachelab_cache_lookups_total{endpoint="product",outcome="miss",tier="none"})"), 1);
  EXPECT_EQ(
      metric_sample(t, R"(cachelab_cache_lookups_total{endpoint="product",outcome="hit",tier="redis"})"), 2);
  EXPECT_EQ(
      metric_sample(t, R"(cachelab_cache_lookups_total{endpoint="product",outcome="bypass",tier="none"})"),
      1);
  EXPECT_EQ(metric_sample(t, R"(cachelab_cache_reads_total{outcome="miss",tier="none"})"), 1);
  EXPECT_EQ(metric_sample(t, "cachelab_db_query_duration_seconds_count"), 2);  // the miss and the bypass
  EXPECT_GE(metric_sample(t, "cachelab_redis_command_duration_seconds_count"), 3);
  EXPECT_GE(metric_sample(t, "cachelab_db_connections_opened_total"), 1);
  EXPECT_EQ(metric_sample(t, "cachelab_db_connections_in_use"), 0);
  EXPECT_EQ(metric_sample(t, "cachelab_db_batches_total"), 2);  // one per request, each written alone
  EXPECT_EQ(metric_sample(t, "cachelab_db_batch_writes_total"), 2);
  EXPECT_EQ(metric_sample(t, "cachelab_redis_up"), 1);
  EXPECT_GT(metric_sample(t, "cachelab_redis_used_memory_bytes"), 0);
  EXPECT_GT(metric_sample(t, "process_resident_memory_bytes"), 1e6);
  EXPECT_GT(metric_sample(t, "process_open_fds"), 3);
  EXPECT_EQ(metric_sample(t, "cachelab_http_connections_open"), 1);  // this scrape's own
  EXPECT_NE(t.find("\ncachelab_build_info{version=\""), std::string::npos);
  EXPECT_EQ(t.find("cachelab_l1_"), std::string::npos) << "the near cache is off";

  const auto check = run_with_input("promtool check metrics", t);
  EXPECT_EQ(check.status, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool's lint found problems";

  // A flush starts /api/stats's figures again; Prometheus counters never go back.
  ASSERT_EQ(http(server.port(), "DELETE", "/cache/clear").status, 200);
  const auto after = http(server.port(), "GET", "/metrics").body;
  EXPECT_EQ(metric_sample(after, R"(cachelab_cache_reads_total{outcome="miss",tier="none"})"), 1);
  EXPECT_EQ(http(server.port(), "GET", "/api/stats").json().at("app").at("misses").as_int64(), 0);
}

TEST_F(MetricsTest, TheNearCacheAndAnOutageShowUp) {
  ServerProcess server({"--l1-max-bytes", "1048576"});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http(server.port(), "GET", "/products/6").status, 200);
  ASSERT_TRUE(eventually(
      [&] {
        return metric_sample(http(server.port(), "GET", "/metrics").body,
                             R"(cachelab_cache_lookups_total{endpoint="product",outcome="hit",tier="l1"})") >=
                   1 ||
               (http(server.port(), "GET", "/products/6"), false);
      },
      5s));
  auto t = http(server.port(), "GET", "/metrics").body;
  EXPECT_EQ(metric_sample(t, "cachelab_l1_listening"), 1);
  EXPECT_GE(metric_sample(t, "cachelab_l1_entries"), 1);
  EXPECT_GE(metric_sample(t, "cachelab_l1_hits_total"), 1);

  // Redis stops answering: the scrape still answers, says Redis is down, and counts the failed calls.
  ASSERT_EQ(redis_backend("stop"), 0);
  for (int i = 0; i < 5; ++i) http(server.port(), "GET", "/products/7");
  t = http(server.port(), "GET", "/metrics").body;
  EXPECT_EQ(metric_sample(t, "cachelab_redis_up"), 0);
  EXPECT_GE(metric_sample(t, "cachelab_redis_errors_total"), 1);
  EXPECT_GE(metric_sample(t, "cachelab_redis_disconnects_total"), 1);
  EXPECT_GE(metric_sample(
                t, R"(cachelab_cache_lookups_total{endpoint="product",outcome="unavailable",tier="none"})"),
            1);
  EXPECT_EQ(metric_sample(t, "cachelab_l1_listening"), 0);
  EXPECT_EQ(run_with_input("promtool check metrics", t).status, 0);
  ASSERT_EQ(redis_backend("start"), 0);
}

// Concurrent database reads on one pooled connection: by default (--db-pipeline-depth 4) their batches share
// the connection and some go out in the same write; at depth 1 each batch has the connection to itself, so
// there are as many writes as batches. Counted by /metrics, which is how an operator would see it.
TEST_F(MetricsTest, ByDefaultConcurrentReadsArePipelinedOnABusyConnection) {
  const auto burst = [](ServerProcess& server) {
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int t = 0; t < 16; ++t) {
      clients.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          const auto target = "/products/" + std::to_string(1 + (t * 20 + i) % 50) + "?cache=bypass";
          if (http(server.port(), "GET", target).status == 200) ++ok;
        }
      });
    }
    for (auto& c : clients) c.join();
    EXPECT_EQ(ok.load(), 320);
    return http(server.port(), "GET", "/metrics").body;
  };
  ServerProcess pipelined({"--threads", "1", "--db-pool-size", "1"});
  const auto t = burst(pipelined);
  EXPECT_EQ(metric_sample(t, "cachelab_db_connections_opened_total"), 1);
  EXPECT_EQ(metric_sample(t, "cachelab_db_batches_total"), 320);
  EXPECT_LT(metric_sample(t, "cachelab_db_batch_writes_total"), 320) << "no two batches shared a write";

  ServerProcess one_each({"--threads", "1", "--db-pool-size", "1", "--db-pipeline-depth", "1"});
  const auto u = burst(one_each);
  EXPECT_EQ(metric_sample(u, "cachelab_db_batches_total"), 320);
  EXPECT_EQ(metric_sample(u, "cachelab_db_batch_writes_total"), 320);
}

// Every query of the Grafana dashboard parses (promtool check rules) and asks only for series the server
// exposes, so a renamed metric cannot leave a panel silently empty.
TEST_F(MetricsTest, TheGrafanaDashboardAsksOnlyForExposedSeries) {
  const auto queries = dashboard_queries();
  ASSERT_GE(queries.size(), 8u);
  ServerProcess server;
  ASSERT_EQ(http(server.port(), "GET", "/products/2").status, 200);
  const auto exposed = http(server.port(), "GET", "/metrics").body;
  const std::regex name(R"((cachelab|process)_[a-z0-9_]+)");
  std::string rules = "groups:\n  - name: dashboard\n    rules:\n";
  int n = 0;
  for (const auto& q : queries) {
    for (std::sregex_iterator it(q.begin(), q.end(), name), end; it != end; ++it) {
      std::string series = it->str();
      for (const char* suffix : {"_bucket", "_count", "_sum"}) {
        if (series.ends_with(suffix) && exposed.find("# TYPE " + series + " ") == std::string::npos) {
          series.resize(series.size() - std::string_view(suffix).size());
        }
      }
      EXPECT_NE(exposed.find("# TYPE " + series + " "), std::string::npos)
          << series << " (in the dashboard's " << q << ") is not exposed";
    }
    std::string quoted;
    for (char c : q) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    rules += "      - record: dashboard:query_" + std::to_string(++n) + "\n        expr: '" + quoted + "'\n";
  }
  const auto check = run_with_input("promtool check rules /dev/stdin", rules);
  EXPECT_EQ(check.status, 0) << check.output << rules;
}

// A real Prometheus (Debian's) scrapes the server every second; PromQL over its API sees the request rate.
TEST_F(MetricsTest, ARealPrometheusScrapesItAndAnswersPromQL) {
  ServerProcess server;
  const auto dir = fs::temp_directory_path() / ("prometheus-itest-" + std::to_string(getpid()));
  fs::create_directories(dir);
  const auto port = free_port();
  std::ofstream(dir / "prometheus.yml") << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                           "scrape_configs:\n  - job_name: cachelab\n    static_configs:\n"
                                           "      - targets: ['127.0.0.1:"
                                        << server.port() << "']\n";
  const pid_t prom = fork();
  if (prom == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int log = open((dir / "prometheus.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    const auto config = "--config.file=" + (dir / "prometheus.yml").string();
    const auto storage = "--storage.tsdb.path=" + (dir / "data").string();
    const auto listen = "--web.listen-address=127.0.0.1:" + std::to_string(port);
    execl("/usr/bin/prometheus", "prometheus", config.c_str(), storage.c_str(), listen.c_str(), nullptr);
    _exit(127);
  }
  const auto query = [&](const std::string& promql) {
    return http(port, "GET",
                "/api/v1/query?query=" + boost::urls::encode(promql, boost::urls::unreserved_chars));
  };
  const auto ready = [&] {
    try {
      return http(port, "GET", "/-/ready").status == 200;
    } catch (const std::exception&) {
      return false;  // not listening yet
    }
  };
  ASSERT_TRUE(eventually(ready, 30s)) << "prometheus did not start; see " << (dir / "prometheus.log");

  // Traffic while Prometheus scrapes, until the rate over the last 30 s is seen.
  double rate = 0;
  const bool seen = eventually(
      [&] {
        for (int i = 0; i < 20; ++i) http(server.port(), "GET", "/products/3");
        const auto r = query(R"(sum(rate(cachelab_http_requests_total{route="/products/{id}"}[30s])))");
        if (r.status != 200) return false;
        const auto doc = r.json();
        const auto& result = doc.at("data").at("result").as_array();
        if (result.empty()) return false;
        rate = std::stod(std::string(result[0].at("value").as_array()[1].as_string()));
        return rate > 0;
      },
      30s);
  EXPECT_TRUE(seen) << "no rate in PromQL; see " << (dir / "prometheus.log");
  EXPECT_GT(rate, 0);

  // The target is healthy, and a histogram quantile over the scraped buckets is a number of seconds.
  const auto up = query(R"(up{job="cachelab"})");
  ASSERT_EQ(up.status, 200);
  EXPECT_EQ(up.json().at("data").at("result").as_array().at(0).at("value").as_array()[1].as_string(), "1");
  const auto p99 = query(
      R"(histogram_quantile(0.99, sum by (le) (rate(cachelab_http_request_duration_seconds_bucket{route="/products/{id}"}[30s]))))");
  ASSERT_EQ(p99.status, 200);
  const auto p99_doc = p99.json();
  const auto& p99_result = p99_doc.at("data").at("result").as_array();
  ASSERT_FALSE(p99_result.empty());
  const double seconds = std::stod(std::string(p99_result[0].at("value").as_array()[1].as_string()));
  EXPECT_GT(seconds, 0);
  EXPECT_LT(seconds, 5);

  // Every panel of the Grafana dashboard is a query this Prometheus evaluates.
  for (const auto& q : dashboard_queries()) {
    const auto r = query(q);
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    EXPECT_EQ(r.json().at("status"), "success") << q;
  }

  kill(prom, SIGTERM);
  int status = 0;
  waitpid(prom, &status, 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cachelab::test

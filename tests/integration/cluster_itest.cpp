// A real Redis Cluster (`backends.sh start cluster`: 3 masters, 3 replicas, 1 s node timeout) behind the real
// binary, with --redis-url redis+cluster://<two nodes that do not hold cachelab's slot>: the connection finds
// the slot's master itself. Proves on the cluster what the single-node suites prove: hits, invalidation on
// write, one database query for a stampede across three processes, a write in one process retiring the
// others' near caches; and a failover (the slot's master SIGKILLed under steady reads) that no client sees as
// an error, after which the hits come back.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <thread>

namespace cachelab::test {
namespace {

using namespace std::chrono_literals;

const std::map<std::string, std::string> json_type = {{"Content-Type", "application/json"}};

// redis-cli's output for one command (following MOVED with -c), trimmed.
std::string cli(int port, const std::string& args) {
  std::string out;
  FILE* p =
      popen(("redis-cli -c -h 127.0.0.1 -p " + std::to_string(port) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  while (p && fgets(buf, sizeof buf, p)) out += buf;
  if (p) pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// A node that answers (a failover test kills one).
int live_port() {
  for (int p = cluster_first_port(); p < cluster_first_port() + 6; ++p) {
    if (cli(p, "ping") == "PONG") return p;
  }
  return cluster_first_port();
}

// The master serving cachelab's slot: its port, from CLUSTER NODES.
int owner_port() {
  const int any = live_port();
  const int slot = std::stoi(cli(any, "cluster keyslot 'cachelab:{v1}:x'"));
  std::istringstream nodes(cli(any, "cluster nodes"));
  std::string line;
  while (std::getline(nodes, line)) {
    std::istringstream f(line);
    std::string id, addr, flags, master, ping, pong, epoch, link, range;
    f >> id >> addr >> flags >> master >> ping >> pong >> epoch >> link;
    if (flags.find("master") == std::string::npos || flags.find("fail") != std::string::npos) continue;
    while (f >> range) {
      const auto dash = range.find('-');
      const int lo = std::stoi(range.substr(0, dash));
      const int hi = dash == std::string::npos ? lo : std::stoi(range.substr(dash + 1));
      if (lo <= slot && slot <= hi) return std::stoi(addr.substr(addr.find(':') + 1, addr.find('@')));
    }
  }
  return -1;
}

// Two seed nodes, neither of them the slot's master.
std::string cluster_url() {
  const int owner = owner_port();
  std::string url = "redis+cluster://";
  int named = 0;
  for (int p = cluster_first_port(); p < cluster_first_port() + 6 && named < 2; ++p) {
    if (p == owner) continue;
    url += (named++ ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(p);
  }
  return url;
}

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
  void SetUp() override {
    ASSERT_EQ(backends("start", "all"), 0);
    ASSERT_EQ(backends("start", "cluster"), 0);  // rebuilt when a failover test left it short of a node
    for (int p = cluster_first_port(); p < cluster_first_port() + 6; ++p)
      cli(p, "flushall");  // replicas refuse: fine
    url = cluster_url();
  }
  std::vector<std::string> on_cluster(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--redis-url", url});
    return args;
  }
  std::string url;
};

TEST_F(ClusterTest, HitsAndInvalidationOnAWriteWorkThroughTheCluster) {
  ServerProcess server(on_cluster({"--l1-max-bytes", "0"}));
  auto miss = http(server.port(), "GET", "/products/4");
  ASSERT_EQ(miss.status, 200) << miss.body;
  EXPECT_EQ(miss.header("x-cache"), "MISS");
  auto hit = http(server.port(), "GET", "/products/4");
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_EQ(cli(owner_port(), "exists 'cachelab:{v1}:product:4'"), "1");
  const double before = miss.json().at("price").to_number<double>();
  const std::string after = before == 321.5 ? "321.75" : "321.5";
  ASSERT_EQ(http(server.port(), "PATCH", "/products/4", "{\"price\": " + after + "}", json_type).status, 200);
  auto fresh = http(server.port(), "GET", "/products/4");
  EXPECT_EQ(fresh.json().at("price").to_number<double>(), std::stod(after));
  EXPECT_EQ(fresh.header("x-cache"), "MISS");
}

TEST_F(ClusterTest, ThreeProcessesCollapseAStampedeIntoOneQuery) {
  ServerProcess a(on_cluster({"--db-delay-ms", "300"}));
  ServerProcess b(on_cluster({"--db-delay-ms", "300"}));
  ServerProcess c(on_cluster({"--db-delay-ms", "300"}));
  const std::vector<unsigned short> ports = {a.port(), b.port(), c.port()};
  for (auto port : ports) ASSERT_EQ(http(port, "DELETE", "/cache/clear").status, 200);
  constexpr int n = 300;
  const int correct = concurrent_gets(ports, n, "/products/43", [](const HttpResponse& r) {
    return r.status == 200 && r.json().at("id") == 43;
  });
  EXPECT_EQ(correct, n);
  EXPECT_EQ(app_stat_total(ports, "db_queries"), 1)
      << app_stat_total(ports, "redis_errors") << " Redis errors during the burst";
}

TEST_F(ClusterTest, AWriteInOneProcessRetiresTheOthersNearCaches) {
  ServerProcess a(on_cluster());
  ServerProcess b(on_cluster());
  ServerProcess c(on_cluster());
  for (auto port : {b.port(), c.port()}) {
    ASSERT_TRUE(eventually(
        [&] {
          return http(port, "GET", "/products/6").header("cache-status").find("detail=l1") !=
                 std::string::npos;
        },
        5s))
        << "no near-cache hit on the cluster";
  }
  const double before = http(a.port(), "GET", "/products/6").json().at("price").to_number<double>();
  const std::string after = before == 654.25 ? "654.5" : "654.25";
  ASSERT_EQ(http(a.port(), "PATCH", "/products/6", "{\"price\": " + after + "}", json_type).status, 200);
  for (auto port : {b.port(), c.port()}) {
    EXPECT_TRUE(eventually(
        [&] {
          return http(port, "GET", "/products/6").json().at("price").to_number<double>() == std::stod(after);
        },
        1s));
    // And never the old price again.
    for (int i = 0; i < 20; ++i)
      EXPECT_EQ(http(port, "GET", "/products/6").json().at("price").to_number<double>(), std::stod(after));
  }
}

TEST_F(ClusterTest, AFailoverOfTheSlotsMasterIsNoErrorAndHitsComeBack) {
  ServerProcess server(on_cluster({"--l1-max-bytes", "0"}));
  ASSERT_EQ(http(server.port(), "GET", "/products/5").status, 200);
  const int owner = owner_port();
  const int pid = std::stoi(cli(owner, "info server | grep process_id").substr(11));
  std::atomic<bool> done{false};
  std::atomic<int> requests{0}, errors{0}, late_hits{0};
  std::atomic<bool> killed{false};
  std::thread reader([&] {
    while (!done) {
      auto r = http(server.port(), "GET", "/products/5");
      ++requests;
      if (r.status != 200) ++errors;
      if (killed && r.header("x-cache") == "HIT") ++late_hits;
      std::this_thread::sleep_for(5ms);
    }
  });
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  killed = true;
  // The replica is promoted after the 1 s node timeout; the server finds it and hits resume.
  const bool back = eventually([&] { return late_hits > 10; }, 15s);
  done = true;
  reader.join();
  EXPECT_TRUE(back) << "no hits after the failover; the server said:\n" << server.output();
  EXPECT_EQ(errors.load(), 0) << "of " << requests << " requests";
  EXPECT_NE(owner_port(), owner);
}

// Redis replicates asynchronously: an invalidation the slot's master took but its replica never got dies with
// the master, and the promoted replica serves the old value for a whole TTL. Here the replica is frozen
// (SIGSTOP) and its link closed while process A writes — A's WAIT 1 falls short — then the master is killed
// and the replica, still holding the old price, is promoted. A sends the unacknowledged invalidation again,
// so B's reads from Redis turn fresh at once (2–3 old answers measured) and stay fresh.
// CACHELAB_TEST_NO_WAIT=1 runs A with --redis-wait-replicas 0, to see the failure this prevents: B was then
// served the old price from Redis 98 times over the test's 10 s and in all 20 reads after (until the TTL).
TEST_F(ClusterTest, AnInvalidationLostInAFailoverIsSentAgain) {
  const bool no_wait = !env("CACHELAB_TEST_NO_WAIT").empty();
  ServerProcess a(on_cluster(no_wait ? std::vector<std::string>{"--redis-wait-replicas", "0"}
                                     : std::vector<std::string>{}));
  ServerProcess b(on_cluster());
  ASSERT_EQ(http(a.port(), "GET", "/products/3").status, 200);
  ASSERT_EQ(http(b.port(), "GET", "/products/3").header("x-cache"), "HIT");
  const int master = owner_port();
  const std::string master_id = cli(master, "cluster myid");
  int replica = -1;
  for (int p = cluster_first_port(); p < cluster_first_port() + 6; ++p) {
    if (cli(p, "cluster myid") != master_id && cli(p, "role").starts_with("slave") &&
        cli(p, "info replication | grep master_port").find(std::to_string(master)) != std::string::npos)
      replica = p;
  }
  ASSERT_NE(replica, -1);
  const auto pid_of = [](int port) {
    return std::stoi(cli(port, "info server | grep process_id").substr(11));
  };
  const int master_pid = pid_of(master), replica_pid = pid_of(replica);

  // Frozen, and cut off: what the master had sent but the replica not read would still reach it from the
  // socket's buffer after the master dies, so the link is closed first and the replica cannot reconnect.
  ASSERT_EQ(kill(replica_pid, SIGSTOP), 0);
  cli(master, "client kill type replica");
  // A price this run has not seen (the database outlives runs), exact in binary.
  const double new_price =
      std::floor(http(a.port(), "GET", "/products/3?cache=bypass").json().at("price").to_number<double>()) +
      1.5;
  const auto w =
      http(a.port(), "PATCH", "/products/3", "{\"price\": " + std::to_string(new_price) + "}", json_type);
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(http(a.port(), "GET", "/products/3").json().at("price").to_number<double>(), new_price);
  if (!no_wait) {
    EXPECT_GE(metric_sample(http(a.port(), "GET", "/metrics").body,
                            "cachelab_cache_invalidations_unreplicated_total"),
              1);
  }
  ASSERT_EQ(kill(master_pid, SIGKILL), 0);
  ASSERT_EQ(kill(replica_pid, SIGCONT), 0);
  ASSERT_TRUE(eventually([&] { return owner_port() == replica; }, 15s)) << "the replica was not promoted";
  // B's reads go to PostgreSQL until its connection has found the new master; what counts is what Redis
  // serves once it has.
  int stale = 0;
  const auto redis_serves_new_price = [&] {
    const auto r = http(b.port(), "GET", "/products/3");
    const double price = r.json().at("price").to_number<double>();
    if (r.json().at("source") == "database") return false;
    stale += price != new_price;
    return price == new_price;
  };
  const bool fresh = eventually(redis_serves_new_price, 10s);
  std::printf(
      "B was served the old price from Redis %d times after the promotion, before the invalidation "
      "was sent again\n",
      stale);
  EXPECT_TRUE(fresh) << "the promoted replica kept serving the price the failover brought back";
  stale = 0;
  for (int i = 0; i < 20; ++i) {
    const auto r = http(b.port(), "GET", "/products/3");
    stale += r.json().at("price").to_number<double>() != new_price;
  }
  EXPECT_EQ(stale, 0);
}

// The stats' Redis figures are summed over the three masters (memory, evictions and traffic are per node),
// not the slot's node's alone: with a different maxmemory on each master, /api/stats and /metrics show their
// sum.
TEST_F(ClusterTest, RedisFiguresAreSummedOverTheMasters) {
  std::vector<int> masters;
  for (int p = cluster_first_port(); p < cluster_first_port() + 6; ++p) {
    if (cli(p, "role").starts_with("master")) masters.push_back(p);
  }
  ASSERT_EQ(masters.size(), 3u);
  const std::string was = cli(masters[0], "config get maxmemory").substr(std::string("maxmemory\n").size());
  std::int64_t want = 0;
  for (std::size_t i = 0; i < masters.size(); ++i) {
    const std::int64_t bytes = (static_cast<std::int64_t>(i) + 1) * 100 * 1024 * 1024;
    cli(masters[i], "config set maxmemory " + std::to_string(bytes));
    want += bytes;
  }
  ServerProcess a(on_cluster());
  const auto redis = http(a.port(), "GET", "/api/stats").json().at("redis");
  const auto metrics = http(a.port(), "GET", "/metrics").body;
  for (int p : masters) cli(p, "config set maxmemory " + was);
  EXPECT_EQ(redis.at("masters").to_number<int>(), 3);
  EXPECT_EQ(redis.at("maxmemory").to_number<std::int64_t>(), want);
  EXPECT_EQ(metric_sample(metrics, "cachelab_redis_maxmemory_bytes"), static_cast<double>(want));
  EXPECT_EQ(metric_sample(metrics, "cachelab_redis_masters"), 3);
  // Each master counts its own clients; the sum is at least one per master (this process's own connections
  // are on the slot's node).
  EXPECT_GE(redis.at("connected_clients").to_number<int>(), 3);
}

// Moves cachelab's slot from its master to another one the way `redis-cli --cluster reshard` does
// (IMPORTING/MIGRATING, MIGRATE key by key, then SETSLOT NODE everywhere), slowly, while process A writes and
// process B reads. The move lasts about 4 s, longer than the 2 s a write waits out a moving slot
// (Policy::cluster_moving_*), so A's invalidations must go through during the move: key by key, following ASK
// to the importing node. No request may fail; A's read after its own write is never stale; B sees each write
// within a second and never the old price after it.
TEST_F(ClusterTest, MovingTheSlotUnderReadsAndWritesIsNoErrorAndNoStaleRead) {
  ServerProcess a(on_cluster());
  ServerProcess b(on_cluster());
  const int src = owner_port();
  const int dst = src == cluster_first_port() + 1 ? cluster_first_port() + 2
                                                  : cluster_first_port() + 1;  // another master
  ASSERT_NE(cli(dst, "role").find("master"), std::string::npos);
  const std::string slot = cli(src, "cluster keyslot 'cachelab:{v1}:x'");
  const std::string src_id = cli(src, "cluster myid"), dst_id = cli(dst, "cluster myid");
  for (int id = 1; id <= 20; ++id) {
    ASSERT_EQ(http(a.port(), "GET", "/products/" + std::to_string(id)).status, 200);
    ASSERT_EQ(http(b.port(), "GET", "/products/" + std::to_string(id)).status, 200);
  }
  std::atomic<bool> done{false};
  std::atomic<int> moved_keys{0};
  std::thread migrate([&] {
    cli(dst, "cluster setslot " + slot + " importing " + src_id);
    cli(src, "cluster setslot " + slot + " migrating " + dst_id);
    for (;;) {
      std::istringstream keys(cli(src, "cluster getkeysinslot " + slot + " 5"));
      std::string key;
      int n = 0;
      while (std::getline(keys, key)) {
        if (key.empty()) continue;
        cli(src, "migrate 127.0.0.1 " + std::to_string(dst) + " '" + key + "' 0 5000");
        ++n;
        ++moved_keys;
        std::this_thread::sleep_for(200ms);  // slowly: writes and reads land in the middle of the move
      }
      if (n == 0) break;
    }
    for (int p = cluster_first_port(); p < cluster_first_port() + 6; ++p)
      cli(p, "cluster setslot " + slot + " node " + dst_id);
    done = true;
  });
  std::atomic<int> errors{0};
  std::thread reader([&] {
    for (int i = 0; !done || i < 50; ++i) {
      auto r = http(b.port(), "GET", "/products/" + std::to_string(1 + i % 5));
      if (r.status != 200) ++errors;
    }
  });
  int writes = 0, stale_own = 0, stale_other = 0;
  for (int i = 0; !done || i < 20; ++i, ++writes) {
    const std::string id = std::to_string(1 + i % 5);
    const double price = 500 + writes;
    auto w =
        http(a.port(), "PATCH", "/products/" + id, "{\"price\": " + std::to_string(price) + "}", json_type);
    ASSERT_EQ(w.status, 200) << w.body;
    if (http(a.port(), "GET", "/products/" + id).json().at("price").to_number<double>() != price) ++stale_own;
    auto price_on_b = [&] {
      return http(b.port(), "GET", "/products/" + id).json().at("price").to_number<double>();
    };
    if (!eventually([&] { return price_on_b() == price; }, 1s)) ++stale_other;
    for (int k = 0; k < 3; ++k) stale_other += price_on_b() != price;
  }
  migrate.join();
  reader.join();
  EXPECT_GT(moved_keys.load(), 0);
  // The move was felt: B's misses met refusals (the lease and the store are scripts over several keys, which
  // a moving slot refuses) and went to PostgreSQL.
  const auto b_errors =
      http(b.port(), "GET", "/api/stats").json().at("app").at("redis_errors").to_number<int>();
  std::printf("moved %d keys under %d writes; B's Redis errors (answered from PostgreSQL): %d\n",
              moved_keys.load(), writes, b_errors);
  const auto asked = [](const ServerProcess& p) {
    return metric_sample(http(p.port(), "GET", "/metrics").body, "cachelab_redis_ask_redirects_total");
  };
  std::printf("commands sent again with ASKING: A (writes, reads) %.0f, B (reads) %.0f\n", asked(a),
              asked(b));
  EXPECT_GT(asked(a), 0) << "the invalidations never followed an ASK: the test did not test the move";
  EXPECT_GT(asked(b), 0) << "the reads never followed an ASK";
  EXPECT_EQ(owner_port(), dst);
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(stale_own, 0) << "of " << writes << " writes";
  EXPECT_EQ(stale_other, 0) << "of " << writes << " writes";
  // After the move, hits come back on the new master.
  EXPECT_TRUE(
      eventually([&] { return http(b.port(), "GET", "/products/5").header("x-cache") == "HIT"; }, 5s));
}

}  // namespace
}  // namespace cachelab::test

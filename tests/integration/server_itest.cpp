// End-to-end tests of `cachelab serve` against the private PostgreSQL and Redis: the real binary, spoken
// to over HTTP, with Redis and PostgreSQL checked directly to prove what the server did behind its answers.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <regex>

#include <signal.h>
#include <fstream>
#include <thread>

namespace cachelab::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
  void SetUp() override {
    ASSERT_EQ(backends("start", "all"), 0);
    redis({"FLUSHALL"});  // the test Redis is ours alone; the server itself never flushes
    unclean_before_ = unclean_server_exits();
  }
  void TearDown() override {
    EXPECT_EQ(unclean_server_exits(), unclean_before_)
        << "a server exited non-zero: sanitizer report or crash";
  }
  int unclean_before_ = 0;
};

// The product's data without the per-response fields, for comparing a miss with a hit.
json::object data_of(const HttpResponse& r) {
  auto o = r.json().as_object();
  o.erase("source");
  o.erase("fetch_time_ms");
  o.erase("ttl_remaining_s");
  o.erase("cache");
  return o;
}

TEST_F(ServerTest, MissThenHitReturnIdenticalDataMatchingTheDatabase) {
  ServerProcess server;
  auto miss = http(server.port(), "GET", "/products/7");
  ASSERT_EQ(miss.status, 200) << miss.body;
  EXPECT_EQ(miss.header("x-cache"), "MISS");
  EXPECT_EQ(miss.header("cache-status"), "cachelab; fwd=miss; stored");
  EXPECT_NE(miss.header("server-timing").find("db;dur="), std::string::npos);
  EXPECT_EQ(miss.json().at("source"), "database");
  EXPECT_TRUE(miss.json().at("fetch_time_ms").is_double());

  auto hit = http(server.port(), "GET", "/products/7");
  ASSERT_EQ(hit.status, 200);
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_EQ(hit.header("cache-status").rfind("cachelab; hit; ttl=", 0), 0u) << hit.header("cache-status");
  EXPECT_EQ(hit.json().at("source"), "cache");
  EXPECT_EQ(data_of(miss), data_of(hit));

  // Independently of the server: the same row straight from PostgreSQL.
  auto row =
      sql("SELECT p.name, p.description, p.price::text, c.name FROM products p JOIN categories c "
          "ON c.id = p.category_id WHERE p.id = 7");
  ASSERT_EQ(row.size(), 1u);
  auto d = data_of(hit);
  EXPECT_EQ(d.at("id"), 7);
  EXPECT_EQ(d.at("name"), row[0][0].c_str());
  EXPECT_EQ(d.at("description"), row[0][1].c_str());
  EXPECT_DOUBLE_EQ(d.at("price").to_number<double>(), std::stod(row[0][2]));
  EXPECT_EQ(d.at("category"), row[0][3].c_str());
  EXPECT_EQ(redis({"EXISTS", "cachelab:{v1}:product:7"}), "1");
}

TEST_F(ServerTest, EntriesExpireAfterTheTtl) {
  ServerProcess server({"--cache-ttl-seconds", "1", "--ttl-jitter", "0"});
  EXPECT_EQ(http(server.port(), "GET", "/products/3").header("x-cache"), "MISS");
  EXPECT_EQ(http(server.port(), "GET", "/products/3").header("x-cache"), "HIT");
  auto pttl = std::stoll(redis({"PTTL", "cachelab:{v1}:product:3"}).value());
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 1000);
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(http(server.port(), "GET", "/products/3").header("x-cache"), "MISS");
}

TEST_F(ServerTest, BypassReadsTheDatabaseAndLeavesNoKey) {
  ServerProcess server;
  auto r = http(server.port(), "GET", "/products/11?cache=bypass");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json().at("source"), "database");
  EXPECT_EQ(r.header("x-cache"), "BYPASS");
  EXPECT_EQ(redis({"EXISTS", "cachelab:{v1}:product:11"}), "0");
  // A bypass after the key exists still goes to the database and does not touch the key's TTL.
  http(server.port(), "GET", "/products/11");
  EXPECT_EQ(http(server.port(), "GET", "/products/11?cache=bypass").json().at("source"), "database");
}

TEST_F(ServerTest, ClearDeletesOnlyOurNamespaceAndResetsCounters) {
  ServerProcess server;
  // Another application's key, in our slot (the {v1} tag) so that on a cluster it sits on the same node.
  redis({"SET", "someone-else:{v1}:key", "keep me"});
  http(server.port(), "GET", "/products/1");
  http(server.port(), "GET", "/products/2");
  http(server.port(), "GET", "/products?limit=5");
  auto cleared = http(server.port(), "DELETE", "/cache/clear");
  ASSERT_EQ(cleared.status, 200);
  EXPECT_EQ(cleared.json().at("cleared_keys"), 3);
  EXPECT_EQ(redis({"GET", "someone-else:{v1}:key"}), "keep me");
  EXPECT_EQ(redis({"EXISTS", "cachelab:{v1}:product:1"}), "0");
  auto stats = http(server.port(), "GET", "/cache/stats").json();
  EXPECT_EQ(stats.at("app").at("hits"), 0);
  EXPECT_EQ(stats.at("app").at("misses"), 0);
  EXPECT_EQ(stats.at("cache_stats").at("keys"), 0);
}

TEST_F(ServerTest, CountersAddUp) {
  ServerProcess server;
  for (int id : {1, 2, 3}) http(server.port(), "GET", "/products/" + std::to_string(id));
  for (int i = 0; i < 5; ++i) http(server.port(), "GET", "/products/2");
  http(server.port(), "GET", "/products/4?cache=bypass");
  auto stats = http(server.port(), "GET", "/cache/stats");
  ASSERT_EQ(stats.status, 200);
  auto s = stats.json();
  EXPECT_EQ(s.at("app").at("hits"), 5);
  EXPECT_EQ(s.at("app").at("misses"), 3);
  EXPECT_EQ(s.at("app").at("db_queries"), 4);  // three misses and one bypass
  EXPECT_EQ(s.at("app").at("redis_errors"), 0);
  EXPECT_DOUBLE_EQ(s.at("app").at("hit_rate").as_double(), 0.625);
  const auto& c = s.at("cache_stats");
  EXPECT_EQ(c.at("keys"), 3);
  // backends.sh gives each Redis 64 MB; on a cluster the figure is summed over the masters.
  EXPECT_EQ(c.at("maxmemory"), 64 * 1024 * 1024 * c.at("masters").to_number<std::int64_t>());
  EXPECT_EQ(c.at("masters"), on_cluster() ? 3 : 1);
  EXPECT_EQ(c.at("maxmemory_policy"), "allkeys-lru");
  for (const char* field :
       {"keyspace_hits", "keyspace_misses", "hit_rate", "used_memory", "used_memory_human", "evicted_keys",
        "expired_keys", "connected_clients", "total_commands_processed"}) {
    EXPECT_TRUE(c.as_object().contains(field)) << field;
  }
}

TEST_F(ServerTest, ListsAPageWithTheTotal) {
  ServerProcess server;
  auto r = http(server.port(), "GET", "/products?limit=3&offset=5");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = r.json();
  const auto& items = j.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].at("id"), 6);
  EXPECT_EQ(items[2].at("id"), 8);
  EXPECT_EQ(j.at("total"), std::stoll(sql("SELECT count(*) FROM products")[0][0]));
  EXPECT_EQ(j.at("limit"), 3);
  EXPECT_EQ(j.at("offset"), 5);
  EXPECT_EQ(http(server.port(), "GET", "/products").json().at("items").as_array().size(), 10u);
  auto again = http(server.port(), "GET", "/products?limit=3&offset=5");
  EXPECT_EQ(again.header("x-cache"), "HIT");
  EXPECT_EQ(data_of(again), data_of(r));
}

struct BadCase {
  const char* method;
  const char* target;
  int status;
  const char* code;
};

TEST_F(ServerTest, BadInputGetsAClearJsonError) {
  ServerProcess server;
  const BadCase cases[] = {
      {"GET", "/products/abc", 400, "invalid_id"},
      {"GET", "/products/-1", 400, "invalid_id"},
      {"GET", "/products/0", 400, "invalid_id"},
      {"GET", "/products/1.5", 400, "invalid_id"},
      {"GET", "/products/99999999999999999999", 400, "invalid_id"},
      {"GET", "/products/99999", 404, "not_found"},
      {"GET", "/products?limit=0", 400, "invalid_limit"},
      {"GET", "/products?limit=1000", 400, "invalid_limit"},
      {"GET", "/products?limit=abc", 400, "invalid_limit"},
      {"GET", "/products?offset=-1", 400, "invalid_offset"},
      {"GET", "/products/1?cache=maybe", 400, "invalid_cache"},
      {"GET", "/nope", 404, "not_found"},
      {"GET", "/products/1/extra", 404, "not_found"},
      {"POST", "/products/1", 405, "method_not_allowed"},
      {"PUT", "/health", 405, "method_not_allowed"},
      {"GET", "/cache/clear", 405, "method_not_allowed"},
      {"GET", "/products/%zz", 400, "invalid_target"},
  };
  for (const auto& c : cases) {
    auto r = http(server.port(), c.method, c.target);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << ": " << r.body;
    EXPECT_EQ(r.header("content-type"), "application/json") << c.target;
    auto j = r.json();
    EXPECT_EQ(j.at("error").at("code"), c.code) << c.target;
    EXPECT_FALSE(j.at("error").at("message").as_string().empty()) << c.target;
  }
  EXPECT_EQ(http(server.port(), "POST", "/products/1").header("allow"),
            "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(http(server.port(), "GET", "/cache/clear").header("allow"), "DELETE, OPTIONS");

  auto big_head = http(server.port(), "GET", "/health", "", {{"X-Filler", std::string(10000, 'a')}});
  EXPECT_EQ(big_head.status, 431);
  EXPECT_EQ(big_head.json().at("error").at("code"), "header_too_large");
  auto big_body = http(server.port(), "DELETE", "/cache/clear", std::string(70000, 'x'));
  EXPECT_EQ(big_body.status, 413);
  EXPECT_EQ(big_body.json().at("error").at("code"), "body_too_large");
  // After all that the server still answers.
  EXPECT_EQ(http(server.port(), "GET", "/health").status, 200);
}

TEST_F(ServerTest, RedisDownServesFromTheDatabaseAndRecovers) {
  ServerProcess server({"--redis-timeout-ms", "100"});
  ASSERT_EQ(http(server.port(), "GET", "/products/5").header("x-cache"), "MISS");
  ASSERT_EQ(redis_backend("stop"), 0);
  for (int i = 0; i < 5; ++i) {
    auto r = http(server.port(), "GET", "/products/5");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().at("source"), "database");
    EXPECT_EQ(r.json().at("cache"), "unavailable");
    EXPECT_EQ(r.header("x-cache"), "MISS");
  }
  auto ready = http(server.port(), "GET", "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.json().at("cache"), "degraded");
  auto stats = http(server.port(), "GET", "/cache/stats");
  EXPECT_EQ(stats.status, 200);
  EXPECT_TRUE(stats.json().at("cache_stats").is_null());
  EXPECT_GE(stats.json().at("app").at("redis_errors").to_number<int>(), 5);
  EXPECT_EQ(http(server.port(), "DELETE", "/cache/clear").status, 503);

  ASSERT_EQ(redis_backend("start"), 0);
  // The connection comes back by itself; then the next read is stored and the one after is a hit.
  EXPECT_TRUE(eventually(
      [&] {
        http(server.port(), "GET", "/products/5");
        return http(server.port(), "GET", "/products/5").header("x-cache") == "HIT";
      },
      10s));
  // Serving again, but it failed moments ago: shown as degraded until `degraded_for` (10 s) passes quietly.
  auto after = http(server.port(), "GET", "/ready");
  EXPECT_EQ(after.status, 200);
  EXPECT_EQ(after.json().at("cache"), "degraded");
  auto stats_after = http(server.port(), "GET", "/api/stats").json();
  EXPECT_EQ(stats_after.at("cache"), "degraded");
  EXPECT_GE(stats_after.at("app").at("ms_since_redis_error").to_number<int>(), 0);
}

TEST_F(ServerTest, SlowRedisTimesOutToTheDatabaseAndTheBreakerOpens) {
  ServerProcess server({"--redis-timeout-ms", "50"});
  ASSERT_EQ(http(server.port(), "GET", "/products/9").header("x-cache"), "MISS");
  // Redis stops answering (but keeps its connections open) for two seconds.
  ASSERT_EQ(redis({"CLIENT", "PAUSE", "2000", "ALL"}), "OK");
  for (int i = 0; i < 6; ++i) {
    auto r = http(server.port(), "GET", "/products/9");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json().at("source"), "database");
    EXPECT_EQ(r.json().at("cache"), "unavailable");
  }
  redis({"CLIENT", "UNPAUSE"});
  // Once Redis answers again, the breaker's probe closes it and hits resume.
  EXPECT_TRUE(
      eventually([&] { return http(server.port(), "GET", "/products/9").header("x-cache") == "HIT"; }, 10s));
}

// Redis full and refusing writes (maxmemory reached under noeviction): the lease's SET NX gets an OOM error
// reply. That is a Redis failure, so a miss goes to PostgreSQL at once; it must not wait out a lease nobody
// holds.
TEST_F(ServerTest, ARedisErrorReplyOnTheLeaseSendsTheMissToTheDatabaseAtOnce) {
  ServerProcess server;
  ASSERT_EQ(redis({"CONFIG", "SET", "maxmemory-policy", "noeviction"}), "OK");
  ASSERT_EQ(redis({"CONFIG", "SET", "maxmemory", "1"}),
            "OK");  // below what Redis already uses: every write is OOM
  const auto started = std::chrono::steady_clock::now();
  auto r = http(server.port(), "GET", "/products/77");
  const auto took = std::chrono::steady_clock::now() - started;
  redis({"CONFIG", "SET", "maxmemory", "64mb"});
  redis({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-cache"), "MISS");
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "waited for a lease nobody holds";
  EXPECT_GE(http(server.port(), "GET", "/api/stats").json().at("app").at("redis_errors").as_int64(), 1);
}

TEST_F(ServerTest, PostgresDownIs503AndRecovers) {
  ServerProcess server({"--db-timeout-ms", "2000"});
  ASSERT_EQ(http(server.port(), "GET", "/products/8?cache=bypass").status, 200);
  ASSERT_EQ(backends("stop", "pg"), 0);
  auto r = http(server.port(), "GET", "/products/8?cache=bypass");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.json().at("error").at("code"), "database_unavailable");
  EXPECT_EQ(http(server.port(), "GET", "/ready").status, 503);
  EXPECT_EQ(http(server.port(), "GET", "/health").status, 200);

  ASSERT_EQ(backends("start", "pg"), 0);
  EXPECT_TRUE(
      eventually([&] { return http(server.port(), "GET", "/products/8?cache=bypass").status == 200; }, 15s));
  // Each I/O thread has its own pool and breaker: the other thread's may stay open for up to a second more.
  EXPECT_TRUE(eventually([&] { return http(server.port(), "GET", "/ready").status == 200; }, 3s));
}

// pg_terminate_backend of every pooled connection (as an operator or a failover does): a read is idempotent,
// so the one that finds its connection broken is sent again on a fresh one, and nobody sees an error.
TEST_F(ServerTest, AReadWhoseConnectionWasTerminatedIsRetriedOnAFreshOne) {
  ServerProcess server({"--db-pool-size", "2"});
  for (int i = 0; i < 4; ++i) ASSERT_EQ(http(server.port(), "GET", "/products/5?cache=bypass").status, 200);
  const auto killed =
      sql("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
          "WHERE application_name = 'cachelab' AND pid <> pg_backend_pid()) t");
  ASSERT_GE(std::stoi(killed.at(0).at(0)), 1) << "no pooled connection to terminate";
  for (int i = 0; i < 4; ++i) {
    auto r = http(server.port(), "GET", "/products/5?cache=bypass");
    EXPECT_EQ(r.status, 200) << r.body;
  }
}

// PostgreSQL stopped: /ready answers within its own deadline (--ready-timeout-ms), not the query deadline,
// and a miss gets its 503 once connections have failed for --db-outage-wait-ms.
TEST_F(ServerTest, ReadinessAndMissesFailFastWhilePostgresIsDown) {
  ServerProcess server(
      {"--db-timeout-ms", "5000", "--ready-timeout-ms", "500", "--db-outage-wait-ms", "500"});
  ASSERT_EQ(http(server.port(), "GET", "/ready").status, 200);
  ASSERT_EQ(backends("stop", "pg"), 0);
  for (const char* target : {"/ready", "/products/8?cache=bypass"}) {
    const auto started = std::chrono::steady_clock::now();
    auto r = http(server.port(), "GET", target);
    const auto took = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(r.status, 503) << target << " " << r.body;
    EXPECT_LT(took, std::chrono::milliseconds(1500)) << target;
  }
  ASSERT_EQ(backends("start", "pg"), 0);
  EXPECT_TRUE(eventually([&] { return http(server.port(), "GET", "/ready").status == 200; }, 15s));
}

// PostgreSQL frozen (every process SIGSTOPped: connections stay open, nothing answers): /ready still answers
// 503 within its own deadline, and cached reads are untouched.
TEST_F(ServerTest, ReadinessHasItsOwnDeadlineWhenPostgresHangs) {
  ServerProcess server({"--db-timeout-ms", "5000", "--ready-timeout-ms", "400"});
  ASSERT_EQ(http(server.port(), "GET", "/products/12").status, 200);  // now cached
  const auto pids = postgres_pids();
  ASSERT_FALSE(pids.empty());
  for (int pid : pids) kill(pid, SIGSTOP);
  const auto started = std::chrono::steady_clock::now();
  auto ready = http(server.port(), "GET", "/ready");
  const auto took = std::chrono::steady_clock::now() - started;
  auto hit = http(server.port(), "GET", "/products/12");
  for (int pid : pids) kill(pid, SIGCONT);
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_LT(took, std::chrono::milliseconds(1500));
  EXPECT_EQ(hit.status, 200);
  EXPECT_EQ(hit.header("x-cache"), "HIT");
  EXPECT_TRUE(eventually([&] { return http(server.port(), "GET", "/ready").status == 200; }, 10s));
}

TEST_F(ServerTest, ConcurrentClientsGetCorrectAnswersAndTheServerStopsCleanly) {
  ServerProcess server;
  // Concurrent clients, each on its own connection, all get correct answers.
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = http(server.port(), "GET", "/products/" + std::to_string(1 + (t * 25 + i) % 50));
        if (r.status == 200 && r.json().at("id") == 1 + (t * 25 + i) % 50) ++ok;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ServerTest, SigtermFinishesTheRequestInFlightRefusesNewConnectionsAndExitsZero) {
  // A slow (simulated) database read keeps one request in flight while the server is told to stop.
  ServerProcess server({"--db-delay-ms", "1500", "--shutdown-grace-seconds", "10"});
  HttpResponse in_flight;
  std::thread client([&] { in_flight = http(server.port(), "GET", "/products/77?cache=bypass"); });
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(kill(server.pid(), SIGTERM), 0);
  std::this_thread::sleep_for(300ms);
  EXPECT_ANY_THROW(http(server.port(), "GET", "/health"));  // no longer accepting
  client.join();
  EXPECT_EQ(in_flight.status, 200) << in_flight.body;
  EXPECT_EQ(in_flight.json().at("id"), 77);
  EXPECT_EQ(in_flight.header("connection"), "close");
  EXPECT_EQ(server.stop(), 0);
}

// SIGTERM again and again through the whole shutdown (an impatient supervisor, a second Ctrl-C): the drain
// and the clean-up after it still end in exit 0, never in a death by the signal's default action.
TEST_F(ServerTest, RepeatedSigtermsDuringShutdownStillExitZero) {
  for (int round = 0; round < 3; ++round) {
    ServerProcess server({"--l1-max-bytes", "1048576"});
    ASSERT_EQ(http(server.port(), "GET", "/products/3").status, 200);
    EXPECT_EQ(server.stop(std::chrono::seconds(20), true), 0) << "round " << round;
  }
}

TEST_F(ServerTest, TheDashboardIsServedFromTheBinaryWithItsAssets) {
  ServerProcess server;
  auto page = http(server.port(), "GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(page.header("content-security-policy").find("default-src 'self'"), std::string::npos);
  EXPECT_NE(page.body.find("<title>cachelab"), std::string::npos);
  // Every asset the page references is served, content-hashed and cacheable for a year, gzip when asked.
  std::smatch m;
  std::string rest = page.body;
  int assets = 0;
  while (std::regex_search(rest, m, std::regex(R"re((?:src|href)="(/assets/[^"]+)")re"))) {
    auto asset = http(server.port(), "GET", m[1], "", {{"Accept-Encoding", "gzip"}});
    EXPECT_EQ(asset.status, 200) << m[1];
    EXPECT_EQ(asset.header("cache-control"), "public, max-age=31536000, immutable") << m[1];
    if (std::string(m[1]).ends_with(".js")) {
      EXPECT_EQ(asset.header("content-encoding"), "gzip");
    }
    ++assets;
    rest = m.suffix();
  }
  EXPECT_GE(assets, 3);  // script, stylesheet, licenses
  // Revalidation and HEAD.
  EXPECT_EQ(http(server.port(), "GET", "/", "", {{"If-None-Match", page.header("etag")}}).status, 304);
  auto head = http(server.port(), "HEAD", "/");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), std::to_string(page.body.size()));
  EXPECT_TRUE(head.body.empty());
  auto post = http(server.port(), "POST", "/");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.json().at("error").at("code"), "method_not_allowed");
  EXPECT_EQ(http(server.port(), "GET", "/assets/nope.js").status, 404);  // left to the API's router
  EXPECT_EQ(server.stop(), 0);
}

TEST_F(ServerTest, TheIndexListsEveryEndpointAndTheReadmeDocumentsEachOne) {
  ServerProcess server;
  auto index = http(server.port(), "GET", "/api");
  ASSERT_EQ(index.status, 200);
  std::ifstream readme_file(env("CACHELAB_SOURCE_DIR") + "/README.md");
  ASSERT_TRUE(readme_file) << "README.md not found";
  const std::string readme((std::istreambuf_iterator<char>(readme_file)), std::istreambuf_iterator<char>());
  const auto doc = index.json();
  const auto& endpoints = doc.at("endpoints").as_array();
  EXPECT_GE(endpoints.size(), 7u);
  for (const auto& e : endpoints) {
    const std::string row =
        "`" + std::string(e.at("method").as_string()) + " " + std::string(e.at("path").as_string()) + "`";
    EXPECT_NE(readme.find(row), std::string::npos) << row << " is served but not in README.md's API table";
  }
}

}  // namespace
}  // namespace cachelab::test

// A PostgreSQL streaming replica behind cache misses (--database-read-url), against the real thing: the
// replica `backends.sh start replica` makes with pg_basebackup, slowed with recovery_min_apply_delay so that
// it is seconds behind every write. The classic bug this guards against: after a write and its invalidation,
// a miss reads the lagging replica and puts the old row back in the cache for a whole TTL. The WAL fence (the
// write's WAL position, carried with the invalidation through Redis, db/catalog.hpp) sends such a miss to the
// primary.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace cachelab::test {
namespace {

using namespace std::chrono_literals;

const std::map<std::string, std::string> json_type = {{"Content-Type", "application/json"}};

double metric(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

double replica_reads(unsigned short port, const std::string& outcome) {
  return metric(http(port, "GET", "/metrics").body,
                "cachelab_db_replica_reads_total{outcome=\"" + outcome + "\"}");
}

std::string price_on(const std::string& url, int id) {
  return sql("SELECT price::text FROM products WHERE id = " + std::to_string(id), url).at(0).at(0);
}

// Applies a replay delay on the replica (0: none) and waits until it has replayed everything so far.
void set_replay_delay(const std::string& delay) {
  sql("ALTER SYSTEM SET recovery_min_apply_delay = '" + delay + "'", replica_url());
  sql("SELECT pg_reload_conf()", replica_url());
}

void wait_for_replica_to_catch_up() {
  const auto target = sql("SELECT pg_current_wal_insert_lsn()::text").at(0).at(0);
  ASSERT_TRUE(eventually(
      [&] {
        return sql("SELECT pg_last_wal_replay_lsn() >= '" + target + "'::pg_lsn", replica_url())
                   .at(0)
                   .at(0) == "t";
      },
      20s));
}

class ReplicaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(start_backends_and_seed());
    ASSERT_EQ(backends("start", "replica"), 0);
  }
  void SetUp() override {
    ASSERT_EQ(backends("start", "all"), 0);
    ASSERT_EQ(backends("start", "replica"), 0);
    set_replay_delay("0");
    wait_for_replica_to_catch_up();
    redis({"FLUSHALL"});
  }
  void TearDown() override { set_replay_delay("0"); }
  static std::vector<std::string> with_replica(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--database-read-url", replica_url(), "--l1-max-bytes", "0"});
    return args;
  }
};

TEST_F(ReplicaTest, MissesAreServedByTheReplicaWhenItIsCaughtUp) {
  ServerProcess server(with_replica());
  auto r = http(server.port(), "GET", "/products/3");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("x-cache"), "MISS");
  EXPECT_GE(replica_reads(server.port(), "served"), 1);
  EXPECT_EQ(replica_reads(server.port(), "behind"), 0);
}

// Process A writes, process B reads the same product in a tight loop while the replica is 3 s behind: not one
// answer may carry the old price, and none may come from a cache filled from the replica.
TEST_F(ReplicaTest, AMissAfterAWriteNeverFillsTheCacheFromALaggingReplica) {
  ServerProcess a(with_replica());
  ServerProcess b(with_replica());
  const std::string before = price_on("", 11);
  ASSERT_EQ(http(b.port(), "GET", "/products/11").status, 200);  // cached from the replica
  set_replay_delay("3s");
  const std::string after = before == "1234.50" ? "1234.75" : "1234.50";
  auto w = http(a.port(), "PATCH", "/products/11", "{\"price\": " + after + "}", json_type);
  ASSERT_EQ(w.status, 200) << w.body;
  EXPECT_EQ(price_on(replica_url(), 11), before) << "the replica should still lag";
  int stale = 0, reads = 0;
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    auto r = http(b.port(), "GET", "/products/11");
    ASSERT_EQ(r.status, 200) << r.body;
    ++reads;
    if (r.json().at("price").to_number<double>() != std::stod(after)) ++stale;
  }
  EXPECT_EQ(stale, 0) << "of " << reads << " reads after the write";
  EXPECT_GE(replica_reads(b.port(), "behind"), 1);  // the miss went to the primary, and the metrics say why
  // Once the replica has replayed the write, misses go back to it.
  set_replay_delay("0");
  wait_for_replica_to_catch_up();
  const auto served = replica_reads(b.port(), "served");
  redis({"FLUSHALL"});
  ASSERT_EQ(http(b.port(), "GET", "/products/11").status, 200);
  EXPECT_EQ(replica_reads(b.port(), "served"), served + 1);
}

// A derived answer (the category statistics include the price) follows the same rule.
TEST_F(ReplicaTest, DerivedAnswersAfterAWriteAreNotFilledFromALaggingReplica) {
  ServerProcess server(with_replica());
  ASSERT_EQ(http(server.port(), "GET", "/api/categories").status, 200);
  set_replay_delay("3s");
  const auto name = "replica-" + std::to_string(getpid());
  auto w = http(server.port(), "POST", "/products",
                R"({"name": ")" + name + R"(", "description": "d", "price": 1.00, "category": "Books"})",
                json_type);
  ASSERT_EQ(w.status, 201) << w.body;
  auto found = http(server.port(), "GET", "/api/products?q=" + name);
  // Other suites count on the seeded catalog: the product goes again whatever happened.
  const auto id = std::to_string(w.json().at("id").to_number<std::int64_t>());
  EXPECT_EQ(http(server.port(), "DELETE", "/products/" + id).status, 200);
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.json().at("total"), 1) << found.body;
}

TEST_F(ReplicaTest, AReplicaThatIsDownCostsNothingButAFallbackToThePrimary) {
  ServerProcess server(with_replica());
  ASSERT_EQ(backends("stop", "replica"), 0);
  for (int id : {21, 22, 23}) {
    auto r = http(server.port(), "GET", "/products/" + std::to_string(id));
    EXPECT_EQ(r.status, 200) << r.body;
  }
  EXPECT_GE(replica_reads(server.port(), "failed"), 1);
  ASSERT_EQ(backends("start", "replica"), 0);
}

}  // namespace
}  // namespace cachelab::test

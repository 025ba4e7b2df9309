// The near cache (L1) against the real Redis: kept correct by client-side-caching invalidations across two
// server processes, dropped whenever it could be blind (the invalidation connection killed, FLUSHALL, a
// Redis restart, a subscription that stays open but delivers nothing), and never serving a value older than
// one already seen after a write.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <list>
#include <mutex>
#include <thread>

namespace cachelab::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// The default budget, said out loud; two threads, the harness's default.
const std::vector<std::string> l1_args = {"--l1-max-bytes", "16777216"};
const std::map<std::string, std::string> json_type = {{"Content-Type", "application/json"}};

class NearCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
  void SetUp() override {
    ASSERT_EQ(backends("start", "all"), 0);
    redis({"FLUSHALL"});
  }
};

std::string source_of(const HttpResponse& r) {
  return std::string(r.json().at("source").as_string());
}
double price_of(const HttpResponse& r) {
  return r.json().at("price").to_number<double>();
}
json::value near_stats(unsigned short port) {
  return http(port, "GET", "/api/stats").json().at("app").at("near_cache");
}

// A TCP relay between a server and Redis that can black-hole the invalidation subscription: once deafened,
// what Redis sends on a connection that subscribed to __redis__:invalidate is read and dropped, while the
// connection stays open and every other connection is relayed as before. A network that loses one
// connection's traffic without a reset looks like this to the server.
class RedisRelay {
 public:
  RedisRelay() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listener_, 64) != 0 || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("relay: cannot listen");
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~RedisRelay() {
    stop_ = true;
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (auto& t : pumps_) t.join();
    ::close(listener_);
  }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  void deafen(bool on) { deaf_ = on; }
  int subscribers() const { return subscribers_; }

 private:
  static sockaddr_in loopback(unsigned short port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  void accept_loop() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(static_cast<unsigned short>(redis_port()));
      if (upstream < 0 || ::connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(client);
        if (upstream >= 0) ::close(upstream);
        continue;
      }
      std::lock_guard lock(mu_);
      pumps_.emplace_back([this, client, upstream] { pump(client, upstream); });
    }
  }
  // Relays both ways until either side closes or the relay stops.
  void pump(int client, int upstream) {
    bool subscriber = false;
    std::string seen;  // what the client sent, until it is known to be the subscription
    char buf[16384];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents != 0) {
        const auto n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0 || ::send(upstream, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
        if (!subscriber) {
          seen.append(buf, static_cast<std::size_t>(n));
          if (seen.find("__redis__:invalidate") != std::string::npos) {
            subscriber = true;
            ++subscribers_;
          }
        }
      }
      if (p[1].revents != 0) {
        const auto n = ::recv(upstream, buf, sizeof buf, 0);
        if (n <= 0) break;
        if (subscriber && deaf_) continue;  // read, and lost
        if (::send(client, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
      }
    }
    ::close(client);
    ::close(upstream);
  }

  int listener_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false}, deaf_{false};
  std::atomic<int> subscribers_{0};
  std::mutex mu_;
  std::list<std::thread> pumps_;
  std::thread acceptor_;
};

// Reads until the near cache answers (each thread of the server fills its own on its second Redis hit).
bool warm(unsigned short port, const std::string& target) {
  return eventually([&] { return source_of(http(port, "GET", target)) == "memory"; }, 3s);
}

TEST_F(NearCacheTest, ARepeatedReadIsServedFromMemoryWithTheTierSaid) {
  ServerProcess server(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(server.port()).at("listening").as_bool(); }, 3s));
  ASSERT_TRUE(warm(server.port(), "/products/7"));
  auto r = http(server.port(), "GET", "/products/7");
  EXPECT_EQ(r.header("x-cache"), "HIT");
  EXPECT_NE(r.header("cache-status").find("detail=l1"), std::string::npos) << r.header("cache-status");
  EXPECT_EQ(r.header("server-timing").find("redis"), std::string::npos) << r.header("server-timing");
  // The TTL it counts down is the Redis key's.
  const auto redis_ttl = std::stoll(redis({"PTTL", "cachelab:{v1}:product:7"}).value_or("-2"));
  const auto l1_ttl = r.json().at("ttl_remaining_s").as_int64();
  EXPECT_LE(l1_ttl * 1000, redis_ttl + 1000);
  EXPECT_GE(l1_ttl * 1000, redis_ttl - 1000);
  auto stats = near_stats(server.port());
  EXPECT_GT(stats.at("hits").as_int64(), 0);
  EXPECT_GT(stats.at("entries").as_int64(), 0);
  // The listener's probe measures the invalidation lag once a second.
  ASSERT_TRUE(eventually(
      [&] { return near_stats(server.port()).at("invalidation_lag").at("samples").as_int64() >= 2; }, 4s));
  const auto lag = near_stats(server.port()).at("invalidation_lag");
  EXPECT_GT(lag.at("p50_ms").to_number<double>(), 0.0);
  EXPECT_LT(lag.at("max_ms").to_number<double>(), 500.0);
  EXPECT_EQ(lag.at("lost").as_int64(), 0);
  EXPECT_EQ(lag.at("deaf_periods").as_int64(), 0) << "every probe heard: never deaf";
  // Off, as before: never "memory".
  ServerProcess off({"--l1-max-bytes", "0"});
  for (int i = 0; i < 6; ++i) EXPECT_NE(source_of(http(off.port(), "GET", "/products/7")), "memory");
  EXPECT_TRUE(http(off.port(), "GET", "/api/stats").json().at("app").at("near_cache").is_null());
}

// Process A writes; process B, whose near cache holds the product, must see the new price shortly after the
// write's answer and, once it has, never the old one again (a reply that an invalidation overtook is not
// kept). Also measures the staleness window: from A's answer to B's first fresh read.
TEST_F(NearCacheTest, AWriteInOneProcessRetiresTheOthersEntryAndNeverComesBack) {
  ServerProcess a(l1_args), b(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  std::atomic<bool> stop{false};
  std::atomic<int> regressions{0};
  std::atomic<double> floor_price{0};  // the newest price B has been seen to serve after its write
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto r = http(b.port(), "GET", "/products/5");
        if (r.status != 200) continue;
        if (price_of(r) + 1e-9 < floor_price.load()) ++regressions;
      }
    });
  }
  std::vector<double> windows_ms;
  double price = 700.00;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(warm(b.port(), "/products/5"));
    price += 1.25;
    auto w = http(a.port(), "PATCH", "/products/5", "{\"price\": " + std::to_string(price) + "}", json_type);
    ASSERT_EQ(w.status, 200) << w.body;
    const auto written = std::chrono::steady_clock::now();
    ASSERT_TRUE(eventually(
        [&] { return std::abs(price_of(http(b.port(), "GET", "/products/5")) - price) < 1e-9; }, 2s))
        << "write " << i << " never reached process B";
    windows_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - written).count());
    floor_price = price;
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(regressions.load(), 0) << "B served an older price after it had served the newer one";
  std::sort(windows_ms.begin(), windows_ms.end());
  std::printf("staleness window over %zu writes (poll, ms): p50 %.2f  max %.2f\n", windows_ms.size(),
              windows_ms[windows_ms.size() / 2], windows_ms.back());
  EXPECT_GT(near_stats(b.port()).at("invalidated_keys").as_int64(), 0);
}

TEST_F(NearCacheTest, OwnWritesAreFreshOnEveryThreadOfTheWritingProcess) {
  ServerProcess a({"--l1-max-bytes", "16777216", "--threads", "4"});
  ASSERT_TRUE(eventually([&] { return near_stats(a.port()).at("listening").as_bool(); }, 3s));
  double price = 300.00;
  for (int i = 0; i < 20; ++i) {
    for (int k = 0; k < 12; ++k) http(a.port(), "GET", "/products/6");  // fill every thread's L1
    price += 0.5;
    ASSERT_EQ(http(a.port(), "PATCH", "/products/6", "{\"price\": " + std::to_string(price) + "}", json_type)
                  .status,
              200);
    for (int k = 0; k < 8; ++k) {
      auto r = http(a.port(), "GET", "/products/6");
      EXPECT_DOUBLE_EQ(price_of(r), price) << "write " << i << " read " << k << " from " << source_of(r);
    }
  }
}

// Killing the invalidation connection blinds the near cache: it is dropped at once, and once it listens
// again (a new client id) the data connections redirect their tracking to it, so a later write still reaches.
TEST_F(NearCacheTest, AKilledInvalidationConnectionDropsEverythingAndTrackingFollowsTheNewOne) {
  ServerProcess a(l1_args), b(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  ASSERT_TRUE(warm(b.port(), "/products/8"));
  const auto flushes = near_stats(b.port()).at("flushes").as_int64();
  ASSERT_TRUE(redis({"CLIENT", "KILL", "TYPE", "pubsub"}));
  // Each thread drops its entries when it next looks (a read), without serving them.
  ASSERT_TRUE(eventually(
      [&] {
        http(b.port(), "GET", "/products/8");
        return near_stats(b.port()).at("flushes").as_int64() > flushes;
      },
      2s));
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  ASSERT_TRUE(warm(b.port(), "/products/8"));  // filled again under the new subscription
  const double price = price_of(http(b.port(), "GET", "/products/8")) + 3;
  ASSERT_EQ(
      http(a.port(), "PATCH", "/products/8", "{\"price\": " + std::to_string(price) + "}", json_type).status,
      200);
  EXPECT_TRUE(
      eventually([&] { return std::abs(price_of(http(b.port(), "GET", "/products/8")) - price) < 1e-9; }, 2s))
      << "the write's invalidation did not reach the re-subscribed listener";
}

// FLUSHALL and a Redis restart: the near cache must not outlive what it mirrored. The row is changed behind
// the cache's back (plain SQL), so only a dropped L1 can show the new value.
TEST_F(NearCacheTest, FlushallAndARedisRestartDropTheNearCache) {
  ServerProcess b(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
  const auto changed_behind = [&](double price) {
    sql("UPDATE products SET price = " + std::to_string(price) + " WHERE id = 9");
    return eventually([&] { return std::abs(price_of(http(b.port(), "GET", "/products/9")) - price) < 1e-9; },
                      2s);
  };
  ASSERT_TRUE(warm(b.port(), "/products/9"));
  redis({"FLUSHALL"});
  EXPECT_TRUE(changed_behind(111.11)) << "FLUSHALL did not drop the near cache";

  // Restarting Redis (on a cluster, all of it: it comes back as a new, empty cluster).
  ASSERT_TRUE(warm(b.port(), "/products/9"));
  ASSERT_EQ(redis_backend("stop"), 0);
  ASSERT_EQ(redis_backend("start"), 0);
  EXPECT_TRUE(changed_behind(222.22)) << "a Redis restart did not drop the near cache";
  ASSERT_TRUE(eventually([&] { return near_stats(b.port()).at("listening").as_bool(); }, 3s));
}

// The subscription stays open but nothing comes through it (black-holed): the process cannot see the other
// process's writes, and only its probes tell it so. Within two probe periods (1 s each) it goes blind, drops
// its entries and reads Redis; when the subscription delivers again it listens and fills again.
TEST_F(NearCacheTest, ASubscriptionThatDeliversNothingIsFoundDeafAndTheNearCacheDropped) {
  RedisRelay relay;
  std::vector<std::string> args = l1_args;
  args.insert(args.end(), {"--redis-url", relay.url()});
  ServerProcess a(args), b(l1_args);
  ASSERT_TRUE(eventually([&] { return near_stats(a.port()).at("listening").as_bool(); }, 3s));
  ASSERT_EQ(relay.subscribers(), 1);
  ASSERT_TRUE(warm(a.port(), "/products/10"));
  const double old_price = price_of(http(a.port(), "GET", "/products/10"));

  relay.deafen(true);
  const double price = old_price + 7;
  ASSERT_EQ(
      http(b.port(), "PATCH", "/products/10", "{\"price\": " + std::to_string(price) + "}", json_type).status,
      200);
  const auto written = std::chrono::steady_clock::now();
  // Until the probes find it deaf, A may serve what it holds; after that, only the new price.
  EXPECT_TRUE(eventually(
      [&] { return std::abs(price_of(http(a.port(), "GET", "/products/10")) - price) < 1e-9; }, 4s))
      << "a deaf subscription left the near cache serving a retired value";
  const double window_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - written).count();
  std::printf("stale for %.2f s behind a black-holed subscription\n", window_s);
  const auto stats = near_stats(a.port());
  EXPECT_FALSE(stats.at("listening").as_bool());
  EXPECT_GE(stats.at("invalidation_lag").at("deaf_periods").as_int64(), 1);
  for (int i = 0; i < 10; ++i) {
    auto r = http(a.port(), "GET", "/products/10");
    EXPECT_NE(source_of(r), "memory") << "served from memory while deaf";
    EXPECT_DOUBLE_EQ(price_of(r), price);
  }

  relay.deafen(false);
  ASSERT_TRUE(eventually([&] { return near_stats(a.port()).at("listening").as_bool(); }, 4s))
      << "hearing the probes again did not bring the near cache back";
  ASSERT_TRUE(warm(a.port(), "/products/10"));
  const double later = price + 5;
  ASSERT_EQ(
      http(b.port(), "PATCH", "/products/10", "{\"price\": " + std::to_string(later) + "}", json_type).status,
      200);
  EXPECT_TRUE(eventually(
      [&] { return std::abs(price_of(http(a.port(), "GET", "/products/10")) - later) < 1e-9; }, 2s))
      << "a write after hearing again did not reach the near cache";
}

}  // namespace
}  // namespace cachelab::test

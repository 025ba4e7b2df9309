// The logs of the real binary: JSON lines (--log-format json) with the request id of a W3C traceparent (or a
// made-up one) in every line written for a request, however long it waited on PostgreSQL; the access log's
// fields; the slow-query log; and no secret in a whole run's output.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <thread>

namespace cachelab::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::map<std::string, std::string> traced = {
    {"traceparent", std::string("00-") + trace_id + "-00f067aa0ba902b7-01"}};

// The server's JSON log lines; every line must be one JSON object with ts, level and msg.
std::vector<json::object> json_lines(const std::string& output) {
  std::vector<json::object> lines;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    EXPECT_FALSE(ec) << "not JSON: " << line;
    if (ec || !v.is_object()) continue;
    const auto& o = v.as_object();
    EXPECT_TRUE(o.contains("ts") && o.contains("level") && o.contains("msg")) << line;
    lines.push_back(o);
  }
  return lines;
}

// The first line whose msg is `msg` and, if given, whose request_id is `id`.
std::optional<json::object> find_line(const std::string& output, std::string_view msg,
                                      std::string_view id = {}) {
  for (auto& o : json_lines(output)) {
    const auto text = [&](const char* key) {
      const auto* v = o.if_contains(key);
      return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view{};
    };
    if (text("msg") != msg) continue;
    if (!id.empty() && text("request_id") != id) continue;
    return o;
  }
  return std::nullopt;
}

class LogsTest : public ::testing::Test {
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

TEST_F(LogsTest, JsonAccessLinesCarryTheTraceIdAndTheAnswerReturnsIt) {
  ServerProcess server({"--log-format", "json", "--access-log", "--log-level", "info"});
  const auto r = http(server.port(), "GET", "/products/4", "", traced);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-request-id"), trace_id);
  const std::regex traceparent(std::string("00-") + trace_id + "-[0-9a-f]{16}-01");
  EXPECT_TRUE(std::regex_match(r.header("traceparent"), traceparent)) << r.header("traceparent");
  EXPECT_EQ(r.header("traceparent").find("00f067aa0ba902b7"), std::string::npos) << "a span of our own";

  // No traceparent (or a malformed one): a new id each time.
  const auto a = http(server.port(), "GET", "/health");
  const auto b = http(server.port(), "GET", "/health", "", {{"traceparent", "00-zz-zz-01"}});
  const std::regex hex32("[0-9a-f]{32}");
  EXPECT_TRUE(std::regex_match(a.header("x-request-id"), hex32)) << a.header("x-request-id");
  EXPECT_TRUE(std::regex_match(b.header("x-request-id"), hex32)) << b.header("x-request-id");
  EXPECT_NE(a.header("x-request-id"), b.header("x-request-id"));

  std::optional<json::object> access;
  ASSERT_TRUE(
      eventually([&] { return (access = find_line(server.output(), "access", trace_id)).has_value(); }, 5s))
      << server.output();
  EXPECT_EQ(access->at("route"), "/products/{id}");
  EXPECT_EQ(access->at("method"), "GET");
  EXPECT_EQ(access->at("target"), "/products/4");
  EXPECT_EQ(access->at("status").as_int64(), 200);
  EXPECT_EQ(access->at("bytes").as_int64(), static_cast<std::int64_t>(r.body.size()));
  EXPECT_EQ(access->at("cache"), "MISS");
  EXPECT_EQ(access->at("peer"), "127.0.0.1");
  EXPECT_TRUE(access->at("ms").is_number());
  EXPECT_TRUE(find_line(server.output(), "access", a.header("x-request-id")).has_value());
  json_lines(server.output());  // every line so far is a JSON object
}

TEST_F(LogsTest, TheTextFormatNamesTheRequestToo) {
  ServerProcess server({"--log-format", "text", "--access-log", "--log-level", "info"});
  ASSERT_EQ(http(server.port(), "GET", "/products/4", "", traced).status, 200);
  ASSERT_TRUE(eventually(
      [&] {
        return server.output().find(std::string("request_id=") + trace_id +
                                    " event=access route=\"/products/{id}\"") != std::string::npos;
      },
      5s))
      << server.output();
}

// A request that waits on PostgreSQL is resumed many times on a thread that serves other connections in
// between; its slow-query line and its error line still name it.
TEST_F(LogsTest, EveryLineWrittenForARequestNamesIt) {
  ServerProcess server(
      {"--log-format", "json", "--slow-query-ms", "100", "--log-level", "info", "--threads", "1"});
  // A pooled connection first (opening one prepares the statements, which would wait for the lock instead).
  ASSERT_EQ(http(server.port(), "GET", "/products/8?cache=bypass").status, 200);
  // Hold the products table for 0.6 s, so a read of a product waits for it.
  std::thread holder(
      [] { sql("BEGIN; LOCK TABLE products IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0.6); COMMIT;"); });
  std::this_thread::sleep_for(150ms);
  std::thread other([&] {  // other requests on the same thread meanwhile
    for (int i = 0; i < 20; ++i) http(server.port(), "GET", "/health");
  });
  const auto slow = http(server.port(), "GET", "/products/8?cache=bypass", "", traced);
  holder.join();
  other.join();
  ASSERT_EQ(slow.status, 200);
  std::optional<json::object> line;
  ASSERT_TRUE(
      eventually([&] { return (line = find_line(server.output(), "slow_query", trace_id)).has_value(); }, 5s))
      << server.output();
  EXPECT_EQ(line->at("endpoint"), "product");
  EXPECT_EQ(line->at("statements"), "product_by_id");
  EXPECT_EQ(line->at("params"), "8");
  EXPECT_GE(line->at("ms").as_double(), 100);

  // PostgreSQL down: the error line of the request that met it carries that request's id.
  ASSERT_EQ(backends("stop", "pg"), 0);
  const auto failed = http(server.port(), "GET", "/products/9?cache=bypass");
  ASSERT_EQ(backends("start", "pg"), 0);
  EXPECT_EQ(failed.status, 503) << failed.body;
  ASSERT_TRUE(eventually(
      [&] {
        return find_line(server.output(), "backend_unavailable", failed.header("x-request-id")).has_value();
      },
      5s))
      << server.output();
  // Lines no request wrote have no request id.
  EXPECT_EQ(server.stop(), 0);
  const auto stopped = find_line(server.output(), "stopped");
  ASSERT_TRUE(stopped) << server.output();
  EXPECT_FALSE(stopped->contains("request_id"));
}

TEST_F(LogsTest, NoSecretAppearsInAWholeRunsOutput) {
  const std::string db_password = "pg-S3cret-pw", redis_password = "rd-S3cret-pw", token = "adm-S3cret-tk";
  auto db_url = database_url();  // the test PostgreSQL trusts loopback: a password is accepted and ignored
  db_url.insert(db_url.find('@'), ":" + db_password);
  auto redis_url = test::redis_url();  // the test Redis has no password: AUTH fails, and the cache is down
  redis_url.insert(redis_url.find("//") + 2, ":" + redis_password + "@");
  ServerProcess server({"--database-url", db_url, "--redis-url", redis_url, "--admin-token", token,
                        "--log-level", "debug", "--access-log", "--log-format", "json", "--slow-query-ms",
                        "1"});
  const auto product = http(server.port(), "GET", "/products/3");
  ASSERT_EQ(product.status, 200);
  // A write with the token (a product of its own, deleted again, so other tests' data stays as seeded).
  const std::map<std::string, std::string> admin = {{"Authorization", "Bearer " + token},
                                                    {"Content-Type", "application/json"}};
  const auto category = std::string(product.json().at("category").as_string());
  const auto created =
      http(server.port(), "POST", "/products",
           R"({"name": "secret test", "price": 1.5, "category": ")" + category + R"("})", admin);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto id = created.json().at("id").as_int64();
  EXPECT_EQ(http(server.port(), "DELETE", "/products/" + std::to_string(id), "", admin).status, 200);
  EXPECT_EQ(http(server.port(), "DELETE", "/cache/clear", "", {{"Authorization", "Bearer wrong"}}).status,
            401);
  ASSERT_EQ(backends("stop", "pg"), 0);
  http(server.port(), "GET", "/products/3?cache=bypass");
  ASSERT_EQ(backends("start", "pg"), 0);
  EXPECT_EQ(server.stop(), 0);
  const auto output = server.output();
  EXPECT_NE(output.find("redis_handshake_failed"), std::string::npos) << "the Redis password was tried";
  for (const auto& secret : {db_password, redis_password, token}) {
    EXPECT_EQ(output.find(secret), std::string::npos) << secret << " is in the log:\n" << output;
  }
}

}  // namespace
}  // namespace cachelab::test

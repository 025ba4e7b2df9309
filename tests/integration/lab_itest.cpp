// The load lab through its HTTP API against the real server: a run streams a point a second, its result and
// `done` over Server-Sent Events; a second start is a 409 in words; and an experiment's Redis settings are
// put back when it is stopped and when the server shuts down in the middle of it.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace cachelab::test {
namespace {

class LabTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
};

TEST_F(LabTest, ARunStreamsPointsAResultAndDoneAndASecondStartIsRefused) {
  ServerProcess server;
  auto started = http(server.port(), "POST", "/api/lab/runs",
                      R"({"workload":"hot-product","duration_seconds":3,"connections":4})");
  ASSERT_EQ(started.status, 202) << started.body;
  auto again =
      http(server.port(), "POST", "/api/lab/runs", R"({"workload":"zipf-0.99","duration_seconds":2})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.json().at("error").at("code"), "lab_busy");
  EXPECT_NE(again.json().at("detail").as_string().find("already under way"), std::string::npos);

  auto events = http(server.port(), "GET", "/api/lab/events");  // returns when the stream ends with `done`
  ASSERT_EQ(events.status, 200);
  EXPECT_EQ(events.header("content-type"), "text/event-stream");
  const auto& e = events.body;
  auto count = [&](std::string_view what) {
    int n = 0;
    for (auto at = e.find(what); at != std::string::npos; at = e.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_GE(count("event: point\n"), 2) << e;
  EXPECT_EQ(count("event: result\n"), 1) << e;
  EXPECT_EQ(count("event: done\n"), 1) << e;
  EXPECT_LT(e.find("event: point"), e.find("event: result"));
  EXPECT_LT(e.find("event: result"), e.find("event: done"));

  auto lab = http(server.port(), "GET", "/api/lab").json();
  EXPECT_FALSE(lab.at("state").at("running").as_bool());
  auto last = lab.at("results").as_array().back();
  EXPECT_EQ(last.at("workload"), "hot-product");
  EXPECT_GT(last.at("rps").as_double(), 0);
  EXPECT_GT(last.at("hit_ratio").as_double(), 0.99);
  EXPECT_EQ(last.at("errors"), 0);
  // Nothing runs now: the stream says so at once.
  EXPECT_NE(http(server.port(), "GET", "/api/lab/events").body.find("event: idle"), std::string::npos);
}

TEST_F(LabTest, BadRequestsAreRefusedInWords) {
  ServerProcess server;
  const std::pair<std::string, std::string> cases[] = {
      {R"({"workload":"nope"})", "invalid_workload"},
      {R"({"workload":"zipf-0.99","duration_seconds":0})", "invalid_duration_seconds"},
      {R"({"workload":"zipf-0.99","connections":0})", "invalid_connections"},
      {R"({"workload":"zipf-0.99","rate":-1})", "invalid_rate"},
      {R"({"workload":"zipf-0.99","colour":"red"})", "unknown_field"},
      {"not json", "invalid_json"},
  };
  for (const auto& [body, code] : cases) {
    auto r = http(server.port(), "POST", "/api/lab/runs", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.json().at("error").at("code").as_string(), code) << body << ": " << r.body;
  }
  EXPECT_EQ(http(server.port(), "POST", "/api/lab/experiments/nope").status, 404);
}

std::string maxmemory() {
  // CONFIG GET answers [name, value]; the harness's redis() returns only simple replies, so ask INFO.
  auto info = redis({"INFO", "memory"});
  auto at = info->find("maxmemory:");
  return info->substr(at + 10, info->find('\r', at) - at - 10);
}

TEST_F(LabTest, AnExperimentPutsRedisSettingsBackWhenStoppedAndWhenTheServerShutsDown) {
  const auto before = maxmemory();
  ASSERT_NE(before, "2097152");
  {
    ServerProcess server;
    ASSERT_EQ(
        http(server.port(), "POST", "/api/lab/experiments/maxmemory", R"({"seconds_per_run":30})").status,
        202);
    EXPECT_TRUE(eventually([] { return maxmemory() == "2097152"; }, std::chrono::seconds(10)));
    EXPECT_EQ(http(server.port(), "POST", "/api/lab/stop").json().at("stopped"), true);
    EXPECT_TRUE(eventually([&] { return maxmemory() == before; }, std::chrono::seconds(10)));

    ASSERT_EQ(
        http(server.port(), "POST", "/api/lab/experiments/maxmemory", R"({"seconds_per_run":30})").status,
        202);
    EXPECT_TRUE(eventually([] { return maxmemory() == "2097152"; }, std::chrono::seconds(10)));
    EXPECT_EQ(server.stop(), 0) << "SIGTERM in the middle of an experiment still exits cleanly";
  }
  EXPECT_EQ(maxmemory(), before);
}

}  // namespace
}  // namespace cachelab::test

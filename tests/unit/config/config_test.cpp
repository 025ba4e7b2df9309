#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace cachelab::config {
namespace {

TEST(Config, DefaultsMatchTheDocumentedOnes) {
  ServeConfig c;
  EXPECT_EQ(c.port, 8000);
  EXPECT_EQ(c.cache_ttl_seconds, 60);
  EXPECT_EQ(c.redis_url, "redis://127.0.0.1:63790/0");
  EXPECT_EQ(c.database_url, "postgresql://cachelab@127.0.0.1:54320/cachelab");
  EXPECT_EQ(c.heap_trim_seconds, 10);
  EXPECT_EQ(c.db_pool_size, 4);
  EXPECT_EQ(c.db_pipeline_depth, 4);  // requests pipelined on a busy connection (docs/performance.md item 7)
  EXPECT_EQ(validate(c), "");
}

TEST(Config, EnvironmentFillsWhatFlagsDoNotGive) {
  setenv("CACHE_TTL_SECONDS", "7", 1);
  setenv("PORT", "9001", 1);
  CLI::App app;
  ServeConfig c;
  add_options(app, c);
  const char* argv[] = {"serve", "--port", "9002"};
  app.parse(3, const_cast<char**>(argv));
  unsetenv("CACHE_TTL_SECONDS");
  unsetenv("PORT");
  EXPECT_EQ(c.cache_ttl_seconds, 7);
  EXPECT_EQ(c.port, 9002);  // a flag wins over the environment
}

TEST(Config, RejectsOutOfRangeAndMalformedValues) {
  CLI::App app;
  ServeConfig c;
  add_options(app, c);
  const char* argv[] = {"serve", "--cache-ttl-seconds", "0"};
  EXPECT_THROW(app.parse(3, const_cast<char**>(argv)), CLI::ValidationError);
  const char* trim_argv[] = {"serve", "--heap-trim-seconds", "3601"};
  EXPECT_THROW(app.parse(3, const_cast<char**>(trim_argv)), CLI::ValidationError);
  ServeConfig bad;
  bad.redis_url = "http://nope";
  EXPECT_NE(validate(bad), "");
}

TEST(Config, HelpNamesEveryEnvironmentVariable) {
  CLI::App app;
  ServeConfig c;
  add_options(app, c);
  const auto help = app.help();
  for (const char* var :
       {"DATABASE_URL", "REDIS_URL", "PORT", "CACHE_TTL_SECONDS", "LOG_LEVEL", "THREADS", "DB_POOL_SIZE",
        "REDIS_TIMEOUT_MS", "SHUTDOWN_GRACE_SECONDS", "HEAP_TRIM_SECONDS"}) {
    EXPECT_NE(help.find(std::string("Env:") + var), std::string::npos) << var;
  }
}

}  // namespace
}  // namespace cachelab::config

namespace cachelab::config {
namespace {

TEST(Duration, UnitsAndPlainSeconds) {
  using std::chrono::milliseconds;
  EXPECT_EQ(parse_duration("10s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("7"), milliseconds(7'000));
  for (const char* bad : {"", "s", "ten", "-1s", "5h", "1e99"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

}  // namespace
}  // namespace cachelab::config

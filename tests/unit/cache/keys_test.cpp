#include "cache/keys.hpp"

#include "cache/inspector.hpp"
#include "cache/redis_connection.hpp"

#include <gtest/gtest.h>

namespace cachelab::cache {
namespace {

TEST(Keys, AreVersionedAndNamespaced) {
  EXPECT_EQ(keys::product(42), "cachelab:{v1}:product:42");
  EXPECT_EQ(keys::products_page(10, 20), "cachelab:{v1}:g{gen}:products:limit=10:offset=20");
  EXPECT_EQ(keys::categories(), "cachelab:{v1}:g{gen}:categories");
  EXPECT_EQ(keys::search("a:b", 10, 0), "cachelab:{v1}:g{gen}:search:limit=10:offset=0:q=a:b");
  EXPECT_EQ(keys::generation(), "cachelab:meta:{v1}:generation");
  EXPECT_NE(keys::generation().rfind(keys::prefix, 0), 0u);  // outside the namespace a flush deletes
  EXPECT_EQ(keys::lease("cachelab:{v1}:product:4"), "cachelab:{v1}:lease:product:4");
  EXPECT_EQ(keys::namespace_pattern(), "cachelab:{v1}:*");
  EXPECT_EQ(keys::product(1).rfind(keys::prefix, 0), 0u);
  EXPECT_NE(keys::products_page(10, 0), keys::products_page(1, 0));  // limit is part of the key
}

TEST(RedisUrl, ParsesHostPortPasswordAndDb) {
  auto e = parse_redis_url("redis://:s3cret@cache.local:6380/2");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "cache.local");
  EXPECT_EQ(e->port, "6380");
  EXPECT_EQ(e->password, "s3cret");
  EXPECT_EQ(e->db, 2);
  auto d = parse_redis_url("redis://127.0.0.1");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, "6379");
  EXPECT_EQ(d->db, 0);
}

TEST(RedisUrl, RejectsWhatIsNotARedisUrl) {
  EXPECT_FALSE(parse_redis_url("http://127.0.0.1:6379"));
  EXPECT_FALSE(parse_redis_url("redis://127.0.0.1:6379/x"));
  EXPECT_FALSE(parse_redis_url("127.0.0.1:6379"));
  EXPECT_FALSE(parse_redis_url(""));
}

TEST(RedisUrl, AClusterUrlNamesItsSeedNodes) {
  auto e = parse_redis_url("redis+cluster://:p%40ss@10.0.0.1:7000,cache-b:7001/");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_TRUE(e->cluster);
  EXPECT_EQ(e->password, "p@ss");
  ASSERT_EQ(e->seeds.size(), 2u);
  EXPECT_EQ(e->seeds[0], (ClusterNode{"10.0.0.1", "7000"}));
  EXPECT_EQ(e->seeds[1], (ClusterNode{"cache-b", "7001"}));
  EXPECT_FALSE(parse_redis_url("redis://127.0.0.1:6379")->cluster);
  EXPECT_FALSE(parse_redis_url("redis+cluster://"));                     // no node
  EXPECT_FALSE(parse_redis_url("redis+cluster://10.0.0.1"));             // no port
  EXPECT_FALSE(parse_redis_url("redis+cluster://10.0.0.1:7000,:7001"));  // no host
  EXPECT_FALSE(parse_redis_url("redis+cluster://10.0.0.1:7000/3"));      // a cluster has database 0 only
  EXPECT_EQ(parse_node("127.0.0.1:30001"), (ClusterNode{"127.0.0.1", "30001"}));
  EXPECT_FALSE(parse_node("127.0.0.1:x"));
}

// Every key cachelab uses carries the same Redis Cluster hash tag, so one slot holds them all (the scripts
// over the generation, the fence and a key need that).
TEST(Keys, EveryKeySharesOneClusterHashTag) {
  const auto tag = [](std::string_view key) {
    const auto open = key.find('{');
    const auto close = key.find('}', open + 1);
    return std::string(key.substr(open + 1, close - open - 1));
  };
  for (const auto& k : {keys::product(1), keys::categories(), keys::products_page(1, 0),
                        keys::search("a{b}", 1, 0), keys::top_products(1, 5), std::string(keys::generation()),
                        std::string(keys::wal_fence()), keys::lease(keys::product(1))}) {
    EXPECT_EQ(tag(k), "v1") << k;
  }
}

// The slots a real Redis 7.0 gave for these keys (redis-cli CLUSTER KEYSLOT), hash tags and their edge cases
// included: an empty tag or an unclosed brace hashes the whole key.
TEST(ClusterSlot, IsTheOneRedisComputes) {
  EXPECT_EQ(key_slot("somekey"), 11058);
  EXPECT_EQ(key_slot("foo"), 12182);
  EXPECT_EQ(key_slot("foo{hash_tag}"), 2515);
  EXPECT_EQ(key_slot("{user1000}.following"), 3443);
  EXPECT_EQ(key_slot("{}x"), 10595);
  EXPECT_EQ(key_slot("a{}{b}"), 15033);
  EXPECT_EQ(key_slot("x{"), 3596);
  EXPECT_EQ(key_slot(""), 0);
  EXPECT_EQ(key_slot("cachelab:{v1}:x"), 1165);
  for (const auto& k : {keys::product(7), std::string(keys::generation()), std::string(keys::wal_fence()),
                        keys::lease(keys::product(7))})
    EXPECT_EQ(key_slot(k), 1165) << k;
}

TEST(Info, ParsesFieldsAndSkipsSectionHeaders) {
  auto info = parse_info(
      "# Memory\r\nused_memory:1024\r\nused_memory_human:1.00K\r\n\r\n# Stats\r\nevicted_keys:7\r\n");
  EXPECT_EQ(info.at("used_memory"), "1024");
  EXPECT_EQ(info.at("used_memory_human"), "1.00K");
  EXPECT_EQ(info.at("evicted_keys"), "7");
  EXPECT_EQ(info.size(), 3u);
}

TEST(Info, AddingAnotherMastersInfoSumsItsFiguresAndKeepsTheRest) {
  auto total = parse_info(
      "used_memory:1048576\r\nused_memory_human:1.00M\r\nevicted_keys:7\r\nmaxmemory_policy:allkeys-lru\r\n"
      "keyspace_hits:10\r\n");
  add_info(total, parse_info("used_memory:524288\r\nevicted_keys:5\r\nmaxmemory_policy:noeviction\r\n"
                             "keyspace_hits:3\r\nconnected_clients:4\r\n"));
  EXPECT_EQ(total.at("used_memory"), "1572864");
  EXPECT_EQ(total.at("used_memory_human"), "1.50M");
  EXPECT_EQ(total.at("evicted_keys"), "12");
  EXPECT_EQ(total.at("keyspace_hits"), "13");
  EXPECT_EQ(total.at("connected_clients"), "4");           // absent in the first: counted as 0
  EXPECT_EQ(total.at("maxmemory_policy"), "allkeys-lru");  // not a sum: the first node's
  add_info(total, parse_info("used_memory:100\r\n"));
  EXPECT_EQ(total.at("used_memory"), "1572964");
}

}  // namespace
}  // namespace cachelab::cache

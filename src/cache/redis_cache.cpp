#include "cache/keys.hpp"
#include "cache/redis_connection.hpp"
#include "cache/store.hpp"

#include <algorithm>
#include <string>

namespace cachelab::cache {
namespace {

constexpr std::string_view scan_batch = "1000";

// KEYS[1] generation key. ARGV: key, value, px, expected generation. Stores only if the generation is
// unchanged.
constexpr std::string_view store_script = R"lua(
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[4] then return 0 end
redis.call('SET', ARGV[1], ARGV[2], 'PX', ARGV[3])
return 1
)lua";

// KEYS[1] generation key, KEYS[2..] keys to drop. Returns the new generation.
constexpr std::string_view invalidate_script = R"lua(
for i = 2, #KEYS do redis.call('UNLINK', KEYS[i]) end
return redis.call('INCR', KEYS[1])
)lua";

// KEYS[1] lease key, ARGV[1] our token.
constexpr std::string_view release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

Error unexpected(const RedisReply& r) {
  return make_error(ErrorKind::internal,
                    r.type == RedisReply::Type::error ? "Redis error: " + r.str : "unexpected Redis reply");
}

class RedisStore final : public Store {
 public:
  explicit RedisStore(std::shared_ptr<RedisConnection> c) : conn_(std::move(c)) {}

  // The hit path, without Lua: one pipelined round trip of GET generation, GET key, PTTL key. A derived key's
  // name uses the generation this thread saw last; if the generation has moved on (a write happened), a
  // second round trip reads the key under the new generation. Reading the generation and the value in one
  // pipeline rather than atomically is safe: a write that lands in between is concurrent with this read, and
  // the value's later store is guarded by the generation read here.
  boost::asio::awaitable<Result<Lookup>> lookup(std::string_view key) override {
    const auto gen_key = keys::generation();
    const auto at = key.find(keys::generation_placeholder);
    auto resolve = [&](const std::string& gen) {
      std::string k(key);
      if (at != std::string_view::npos) k.replace(at, keys::generation_placeholder.size(), gen);
      return k;
    };
    Lookup out{known_generation_, resolve(known_generation_), std::nullopt};
    const RedisCommand cmds[] = {{"GET", gen_key}, {"GET", out.key}, {"PTTL", out.key}};
    auto r = co_await conn_->exec(cmds);
    if (!r) co_return r.error();
    out.generation = (*r)[0].type == RedisReply::Type::string ? (*r)[0].str : "0";
    std::size_t value_at = 1;
    if (at != std::string_view::npos && out.generation != known_generation_) {
      known_generation_ = out.generation;
      out.key = resolve(known_generation_);
      const RedisCommand again[] = {{"GET", out.key}, {"PTTL", out.key}};
      r = co_await conn_->exec(again);
      if (!r) co_return r.error();
      value_at = 0;
    }
    auto& value = (*r)[value_at];
    if (value.type == RedisReply::Type::string) {
      // PTTL -2: the key expired between the two commands (report 0 left).
      const auto ttl = (*r)[value_at + 1].integer;
      out.value = CachedValue{std::move(value.str), ttl == -2 ? 0 : ttl};
    } else if (value.type != RedisReply::Type::nil) {
      co_return unexpected(value);
    }
    co_return out;
  }

  boost::asio::awaitable<Result<bool>> store(std::string_view key, std::string_view value,
                                             std::chrono::milliseconds ttl,
                                             std::string_view generation) override {
    const auto gen_key = keys::generation();
    const std::string px = std::to_string(std::max<std::int64_t>(1, ttl.count()));
    const RedisCommand cmd[] = {{"EVAL", store_script, "1", gen_key, key, value, px, generation}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    if ((*r)[0].type != RedisReply::Type::integer) co_return unexpected((*r)[0]);
    co_return (*r)[0].integer == 1;
  }

  boost::asio::awaitable<Result<std::string>> invalidate(const std::vector<std::string>& drop) override {
    const auto gen_key = keys::generation();
    const std::string nkeys = std::to_string(drop.size() + 1);
    RedisCommand cmd{"EVAL", invalidate_script, nkeys, gen_key};
    for (const auto& k : drop) cmd.push_back(k);
    auto r = co_await conn_->exec({&cmd, 1});
    if (!r) co_return r.error();
    if ((*r)[0].type != RedisReply::Type::integer) co_return unexpected((*r)[0]);
    co_return std::to_string((*r)[0].integer);
  }

  boost::asio::awaitable<Result<bool>> acquire_lease(std::string_view lease_key, std::string_view token,
                                                     std::chrono::milliseconds ttl) override {
    const std::string px = std::to_string(ttl.count());
    const RedisCommand cmd[] = {{"SET", lease_key, token, "NX", "PX", px}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    co_return (*r)[0].type == RedisReply::Type::status;  // OK when set; nil when someone holds it
  }

  boost::asio::awaitable<Result<void>> release_lease(std::string_view lease_key,
                                                     std::string_view token) override {
    const RedisCommand cmd[] = {{"EVAL", release_script, "1", lease_key, token}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    co_return Result<void>{};
  }

  boost::asio::awaitable<Result<std::vector<std::int64_t>>> ttl_histogram(
      std::string_view pattern, const std::vector<std::int64_t>& edges) override {
    std::vector<std::int64_t> buckets(edges.size() + 1, 0);
    auto count_batch = [&](std::vector<RedisReply>& batch) -> boost::asio::awaitable<Result<void>> {
      if (batch.empty()) co_return Result<void>{};
      std::vector<RedisCommand> cmds;
      cmds.reserve(batch.size());
      for (const auto& k : batch) cmds.push_back({"PTTL", k.str});
      auto r = co_await conn_->exec(cmds);
      if (!r) co_return r.error();
      for (const auto& ttl : *r) {
        if (ttl.integer == -2) continue;  // gone meanwhile
        std::size_t b = 0;
        while (b < edges.size() && (ttl.integer < 0 || ttl.integer >= edges[b])) ++b;
        ++buckets[b];
      }
      co_return Result<void>{};
    };
    auto r = co_await scan(pattern, count_batch);
    if (!r) co_return r.error();
    co_return buckets;
  }

  boost::asio::awaitable<Result<ServerInfo>> info() override {
    const RedisCommand cmd[] = {{"INFO"}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    if ((*r)[0].type != RedisReply::Type::string) co_return unexpected((*r)[0]);
    co_return parse_info((*r)[0].str);
  }

  boost::asio::awaitable<Result<std::int64_t>> count(std::string_view pattern) override {
    std::int64_t n = 0;
    auto add = [&n](std::vector<RedisReply>& keys) -> boost::asio::awaitable<Result<void>> {
      n += static_cast<std::int64_t>(keys.size());
      co_return Result<void>{};
    };
    auto r = co_await scan(pattern, add);
    if (!r) co_return r.error();
    co_return n;
  }

  boost::asio::awaitable<Result<std::int64_t>> remove(std::string_view pattern) override {
    std::int64_t n = 0;
    auto unlink_batch = [&](std::vector<RedisReply>& keys) -> boost::asio::awaitable<Result<void>> {
      if (keys.empty()) co_return Result<void>{};
      RedisCommand unlink{"UNLINK"};
      for (const auto& k : keys) unlink.push_back(k.str);
      auto del = co_await conn_->exec({&unlink, 1});
      if (!del) co_return del.error();
      n += (*del)[0].integer;
      co_return Result<void>{};
    };
    auto r = co_await scan(pattern, unlink_batch);
    if (!r) co_return r.error();
    co_return n;
  }

  boost::asio::awaitable<Result<KeyPage>> browse(std::string_view pattern, std::string_view cursor,
                                                 int count) override {
    const std::string n = std::to_string(count);
    const RedisCommand scan_cmd[] = {{"SCAN", cursor, "MATCH", pattern, "COUNT", n}};
    auto r = co_await conn_->exec(scan_cmd);
    if (!r) co_return r.error();
    auto& reply = (*r)[0];
    if (reply.type != RedisReply::Type::array || reply.elements.size() != 2) co_return unexpected(reply);
    KeyPage page{reply.elements[0].str, {}};
    std::vector<RedisCommand> details;
    for (const auto& k : reply.elements[1].elements) {
      details.push_back({"TYPE", k.str});
      details.push_back({"MEMORY", "USAGE", k.str});
      details.push_back({"PTTL", k.str});
    }
    if (details.empty()) co_return page;
    auto d = co_await conn_->exec(details);
    if (!d) co_return d.error();
    for (std::size_t i = 0; i < reply.elements[1].elements.size(); ++i) {
      const auto& size = (*d)[3 * i + 1];
      page.keys.push_back(KeyInfo{reply.elements[1].elements[i].str, (*d)[3 * i].str,
                                  size.type == RedisReply::Type::integer ? size.integer : -1,
                                  (*d)[3 * i + 2].integer});
    }
    co_return page;
  }

  boost::asio::awaitable<Result<std::optional<KeyValue>>> read(std::string_view key) override {
    const RedisCommand cmds[] = {{"TYPE", key}, {"GET", key}, {"PTTL", key}};
    auto r = co_await conn_->exec(cmds);
    if (!r) co_return r.error();
    if ((*r)[0].str == "none") co_return std::optional<KeyValue>{};
    KeyValue v{(*r)[0].str, (*r)[1].type == RedisReply::Type::string ? std::move((*r)[1].str) : std::string(),
               (*r)[2].integer};
    co_return std::optional<KeyValue>{std::move(v)};
  }

  boost::asio::awaitable<Result<bool>> erase(std::string_view key) override {
    const RedisCommand cmd[] = {{"UNLINK", key}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    co_return (*r)[0].integer == 1;
  }

  bool connected() const override { return conn_->connected(); }

 private:
  // Walks SCAN's cursor to the end, handing each batch of keys to `visit`.
  template <class Visit>
  boost::asio::awaitable<Result<void>> scan(std::string_view pattern, Visit& visit) {
    std::string cursor = "0";
    do {
      const RedisCommand cmd[] = {{"SCAN", cursor, "MATCH", pattern, "COUNT", scan_batch}};
      auto r = co_await conn_->exec(cmd);
      if (!r) co_return r.error();
      auto& reply = (*r)[0];
      if (reply.type != RedisReply::Type::array || reply.elements.size() != 2) co_return unexpected(reply);
      cursor = reply.elements[0].str;
      if (auto v = co_await visit(reply.elements[1].elements); !v) co_return v.error();
    } while (cursor != "0");
    co_return Result<void>{};
  }

  std::shared_ptr<RedisConnection> conn_;
  std::string known_generation_ = "0";  // the catalog generation this thread saw last
};

}  // namespace

std::shared_ptr<Store> make_redis_store(std::shared_ptr<RedisConnection> connection) {
  return std::make_shared<RedisStore>(std::move(connection));
}

ServerInfo parse_info(std::string_view text) {
  ServerInfo out;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    out.emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return out;
}

}  // namespace cachelab::cache

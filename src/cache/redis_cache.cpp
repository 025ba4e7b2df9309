#include "cache/redis_connection.hpp"
#include "cache/store.hpp"

#include <string>

namespace cachelab::cache {
namespace {

constexpr std::string_view scan_batch = "1000";

Error unexpected(const RedisReply& r) {
  return make_error(ErrorKind::internal,
                    r.type == RedisReply::Type::error ? "Redis error: " + r.str : "unexpected Redis reply");
}

class RedisStore final : public Store {
 public:
  explicit RedisStore(std::shared_ptr<RedisConnection> c) : conn_(std::move(c)) {}

  boost::asio::awaitable<Result<std::optional<CachedValue>>> get(std::string_view key) override {
    const RedisCommand cmds[] = {{"GET", key}, {"PTTL", key}};
    auto r = co_await conn_->exec(cmds);
    if (!r) co_return r.error();
    auto& value = (*r)[0];
    if (value.type == RedisReply::Type::nil) co_return std::optional<CachedValue>{};
    if (value.type != RedisReply::Type::string) co_return unexpected(value);
    // PTTL: -1 no expiry; -2 the key expired between the two commands (report 0 left).
    auto ttl = (*r)[1].integer;
    co_return std::optional<CachedValue>{CachedValue{std::move(value.str), ttl == -2 ? 0 : ttl}};
  }

  boost::asio::awaitable<Result<void>> set(std::string_view key, std::string_view value,
                                           std::chrono::milliseconds ttl) override {
    std::string px = std::to_string(ttl.count());
    const RedisCommand cmd[] = {{"SET", key, value, "PX", px}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    if ((*r)[0].type != RedisReply::Type::status) co_return unexpected((*r)[0]);
    co_return Result<void>{};
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

// The cache browser's and the stats' Redis commands (cache/inspector.hpp): INFO, SCAN walks, TYPE, MEMORY
// USAGE, PTTL, UNLINK.
#include "cache/inspector.hpp"
#include "cache/redis_connection.hpp"

#include <fmt/format.h>

#include <charconv>
#include <string>

namespace cachelab::cache {
namespace {

constexpr std::string_view scan_batch = "1000";

class RedisInspector final : public Inspector {
 public:
  explicit RedisInspector(std::shared_ptr<RedisConnection> c) : conn_(std::move(c)) {}

  boost::asio::awaitable<Result<ServerInfo>> info() override {
    const RedisCommand cmd[] = {{"INFO"}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    if ((*r)[0].type != RedisReply::Type::string) co_return unexpected_reply((*r)[0]);
    auto info = parse_info((*r)[0].str);
    if (!conn_->cluster()) co_return info;
    // The other masters, one at a time: a dashboard poll or a scrape, not the request path.
    int answered = 1;
    const auto here = conn_->node();
    for (const auto& master : conn_->cluster_masters()) {
      if (master == here) continue;
      auto other = co_await conn_->exec_on(master, cmd);
      if (!other || (*other)[0].type != RedisReply::Type::string) continue;
      add_info(info, parse_info((*other)[0].str));
      ++answered;
    }
    info.insert_or_assign(std::string(masters_field), std::to_string(answered));
    co_return info;
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

  boost::asio::awaitable<Result<model::KeyPage>> browse(std::string_view pattern, std::string_view cursor,
                                                        int count) override {
    const std::string n = std::to_string(count);
    const RedisCommand scan_cmd[] = {{"SCAN", cursor, "MATCH", pattern, "COUNT", n}};
    auto r = co_await conn_->exec(scan_cmd);
    if (!r) co_return r.error();
    auto& reply = (*r)[0];
    if (reply.type != RedisReply::Type::array || reply.elements.size() != 2)
      co_return unexpected_reply(reply);
    model::KeyPage page{reply.elements[0].str, {}};
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
      page.keys.push_back(model::KeyInfo{reply.elements[1].elements[i].str, (*d)[3 * i].str,
                                         size.type == RedisReply::Type::integer ? size.integer : -1,
                                         (*d)[3 * i + 2].integer});
    }
    co_return page;
  }

  boost::asio::awaitable<Result<std::optional<model::KeyValue>>> read(std::string_view key) override {
    const RedisCommand cmds[] = {{"TYPE", key}, {"GET", key}, {"PTTL", key}};
    auto r = co_await conn_->exec(cmds);
    if (!r) co_return r.error();
    if ((*r)[0].str == "none") co_return std::optional<model::KeyValue>{};
    model::KeyValue v{(*r)[0].str,
                      (*r)[1].type == RedisReply::Type::string ? std::move((*r)[1].str) : std::string(),
                      (*r)[2].integer};
    co_return std::optional<model::KeyValue>{std::move(v)};
  }

  boost::asio::awaitable<Result<bool>> erase(std::string_view key) override {
    const RedisCommand cmd[] = {{"UNLINK", key}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    co_return (*r)[0].integer == 1;
  }

  boost::asio::awaitable<Result<std::string>> config_get(std::string_view name) override {
    const RedisCommand cmd[] = {{"CONFIG", "GET", name}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    auto& reply = (*r)[0];
    if (reply.type != RedisReply::Type::array || reply.elements.size() != 2)
      co_return unexpected_reply(reply);
    co_return std::move(reply.elements[1].str);
  }

  boost::asio::awaitable<Result<void>> config_set(std::string_view name, std::string_view value) override {
    const RedisCommand cmd[] = {{"CONFIG", "SET", name, value}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    if ((*r)[0].type != RedisReply::Type::status) co_return unexpected_reply((*r)[0]);
    co_return Result<void>{};
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
      if (reply.type != RedisReply::Type::array || reply.elements.size() != 2)
        co_return unexpected_reply(reply);
      cursor = reply.elements[0].str;
      if (auto v = co_await visit(reply.elements[1].elements); !v) co_return v.error();
    } while (cursor != "0");
    co_return Result<void>{};
  }

  std::shared_ptr<RedisConnection> conn_;
};

}  // namespace

std::shared_ptr<Inspector> make_redis_inspector(std::shared_ptr<RedisConnection> connection) {
  return std::make_shared<RedisInspector>(std::move(connection));
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

namespace {

std::int64_t field_int(const ServerInfo& info, std::string_view field) {
  const auto it = info.find(field);
  if (it == info.end()) return 0;
  std::int64_t v = 0;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

// Redis's own form (bytesToHuman): "512B", "1.50K", "2.00M", "3.25G".
std::string human_bytes(std::int64_t n) {
  const auto d = static_cast<double>(n);
  if (n < 1024) return fmt::format("{}B", n);
  if (n < 1024 * 1024) return fmt::format("{:.2f}K", d / 1024);
  if (n < 1024LL * 1024 * 1024) return fmt::format("{:.2f}M", d / (1024 * 1024));
  return fmt::format("{:.2f}G", d / (1024.0 * 1024 * 1024));
}

}  // namespace

void add_info(ServerInfo& total, const ServerInfo& other) {
  for (const auto field : summed_info_fields) {
    total.insert_or_assign(std::string(field),
                           std::to_string(field_int(total, field) + field_int(other, field)));
  }
  total.insert_or_assign("used_memory_human", human_bytes(field_int(total, "used_memory")));
}

}  // namespace cachelab::cache

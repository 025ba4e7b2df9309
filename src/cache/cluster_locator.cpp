// Which Redis Cluster node serves cachelab's slot (cache/cluster_locator.hpp).
#include "cache/cluster_locator.hpp"

#include "cache/redis_connection.hpp"  // append_command, connect_within
#include "cache/resp_reader.hpp"
#include "core/deadline.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

namespace cachelab::cache {
namespace asio = boost::asio;
asio::awaitable<std::optional<std::vector<RedisReply>>> exchange_once(asio::any_io_executor ex,
                                                                      const ClusterNode& node,
                                                                      const std::string& request,
                                                                      std::size_t replies,
                                                                      std::chrono::milliseconds within) {
  // The whole exchange within `within`: the connect, then the request and its replies in what is left.
  const auto by = std::chrono::steady_clock::now() + within;
  auto sock = co_await connect_within(ex, node.host, node.port, within);
  if (!sock) co_return std::nullopt;
  Deadline deadline(ex, by, [&sock] {
    boost::system::error_code ignored;
    sock->close(ignored);
  });
  boost::system::error_code ec;
  co_await asio::async_write(*sock, asio::buffer(request), asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;
  RespReader reader;
  std::vector<RedisReply> out;
  std::vector<char> buf(16 * 1024);
  while (out.size() < replies) {
    const auto n =
        co_await sock->async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return std::nullopt;
    reader.feed(std::string_view(buf.data(), n));
    while (auto reply = reader.next()) out.push_back(std::move(*reply));
    if (reader.failed()) co_return std::nullopt;
  }
  deadline.disarm();
  out.resize(replies);  // a node that sent more than it was asked for: the extra is not ours
  co_return out;
}

namespace {

std::optional<ClusterNode> node_of(const RedisReply& r) {
  // [host, port, id, …]; an empty host means "the address you reached me on", which a client cannot use here.
  if (r.type != RedisReply::Type::array || r.elements.size() < 2) return std::nullopt;
  const auto& host = r.elements[0];
  const auto& port = r.elements[1];
  if (host.type != RedisReply::Type::string || host.str.empty() || port.type != RedisReply::Type::integer)
    return std::nullopt;
  return ClusterNode{host.str, std::to_string(port.integer)};
}

}  // namespace

int key_slot(std::string_view key) {
  if (const auto open = key.find('{'); open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) key = key.substr(open + 1, close - open - 1);
  }
  std::uint16_t crc = 0;  // CRC16-XMODEM: polynomial 0x1021, initial value 0, no reflection
  for (const char c : key) {
    crc ^= static_cast<std::uint16_t>(static_cast<unsigned char>(c) << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = static_cast<std::uint16_t>(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc % 16384;
}

std::optional<ClusterNode> parse_node(std::string_view host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == host_port.size()) return std::nullopt;
  const auto port = host_port.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return ClusterNode{std::string(host_port.substr(0, colon)), std::string(port)};
}

ClusterLocator::ClusterLocator(std::vector<ClusterNode> seeds, std::string slot_key, std::string password)
    : nodes_(std::move(seeds)), slot_key_(std::move(slot_key)), password_(std::move(password)) {}

void ClusterLocator::remember(const ClusterNode& node, bool first) {
  auto it = std::find(nodes_.begin(), nodes_.end(), node);
  if (it != nodes_.end()) {
    if (!first) return;
    nodes_.erase(it);
  }
  if (first)
    nodes_.insert(nodes_.begin(), node);
  else
    nodes_.push_back(node);
}

void ClusterLocator::prefer(ClusterNode node) {
  remember(node, true);
}

asio::awaitable<std::optional<ClusterNode>> ClusterLocator::locate(asio::any_io_executor ex,
                                                                   std::chrono::milliseconds per_node) {
  std::string request;
  std::size_t replies = 1;
  if (!password_.empty()) {
    append_command(request, {"AUTH", password_});
    ++replies;
  }
  append_command(request, {"CLUSTER", "SLOTS"});
  const std::int64_t slot = key_slot(slot_key_);
  const auto candidates = nodes_;  // asking may add nodes
  for (const auto& node : candidates) {
    auto answer = co_await exchange_once(ex, node, request, replies, per_node);
    if (!answer) continue;
    const auto& map = (*answer)[replies - 1];
    if (map.type != RedisReply::Type::array) continue;
    std::optional<ClusterNode> owner;
    std::vector<ClusterNode> masters;
    for (const auto& range : map.elements) {
      if (range.type != RedisReply::Type::array || range.elements.size() < 3) continue;
      for (std::size_t i = 2; i < range.elements.size(); ++i) {
        if (auto n = node_of(range.elements[i])) remember(*n, false);
      }
      if (auto m = node_of(range.elements[2]);
          m && std::find(masters.begin(), masters.end(), *m) == masters.end())
        masters.push_back(std::move(*m));
      if (range.elements[0].integer <= slot && slot <= range.elements[1].integer)
        owner = node_of(range.elements[2]);
    }
    if (owner) {
      masters_ = std::move(masters);
      remember(*owner, true);
      co_return owner;
    }
  }
  co_return std::nullopt;
}

}  // namespace cachelab::cache

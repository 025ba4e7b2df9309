// cache/cluster_locator: finds the node of a Redis Cluster that serves one key's slot (cachelab keeps every
// key in one slot: cache/keys), and the one-shot exchange with a node that the locator and an ASK redirection
// use. Owns the list of nodes it has heard of, the masters of the last slot map, and those short-lived
// connections. The locator never sends a caller's command; nothing here blocks: each node gets a deadline,
// and a node that does not answer is passed over.
#pragma once

#include "cache/resp_reader.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::cache {

struct ClusterNode {
  std::string host;
  std::string port;
  bool operator==(const ClusterNode&) const = default;
};

class ClusterLocator {
 public:
  // `seeds`: the nodes the URL names. `slot_key`: a key whose slot is the one wanted.
  ClusterLocator(std::vector<ClusterNode> seeds, std::string slot_key, std::string password);

  // Asks the known nodes in turn (the most recently useful first) for CLUSTER SLOTS (after AUTH when there is
  // a password), and returns the master serving the slot of the key (key_slot);
  // every node its map names is remembered for the next time. Nothing when no node answered with a map
  // covering it.
  boost::asio::awaitable<std::optional<ClusterNode>> locate(boost::asio::any_io_executor ex,
                                                            std::chrono::milliseconds per_node);
  // A node a MOVED reply named: asked first next time.
  void prefer(ClusterNode node);

  const std::vector<ClusterNode>& known() const { return nodes_; }
  // The masters of the last slot map a node answered with (each once, in the map's order); empty before.
  const std::vector<ClusterNode>& masters() const { return masters_; }

 private:
  void remember(const ClusterNode& node, bool first);
  std::vector<ClusterNode> nodes_;
  std::vector<ClusterNode> masters_;
  std::string slot_key_;
  std::string password_;
};

// The Redis Cluster slot of `key`: CRC16 (XMODEM) of its hash tag — the part between the first `{` and the
// next
// `}`, when not empty — or of the whole key, modulo 16384; the same number CLUSTER KEYSLOT gives.
int key_slot(std::string_view key);

// "host:port" (the form MOVED replies use) as a node; nothing when it is not that.
std::optional<ClusterNode> parse_node(std::string_view host_port);

// One exchange on a short-lived connection: `request` (RESP, already formatted) to `node`, and its first
// `replies` replies, all within `within`; nothing when the node is unreachable, late, or speaks no RESP. The
// locator asks nodes where a slot is with it; a connection follows an ASK redirection with it.
boost::asio::awaitable<std::optional<std::vector<RedisReply>>> exchange_once(
    boost::asio::any_io_executor ex, const ClusterNode& node, const std::string& request, std::size_t replies,
    std::chrono::milliseconds within);

}  // namespace cachelab::cache

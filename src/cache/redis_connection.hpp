// cache/redis_connection: one pipelined Redis connection on an Asio executor, speaking RESP through
// cache/resp_reader (hiredis's reader). Owns the socket, the reader, the write buffer and the FIFO of callers
// waiting for replies; commands issued in the same turn of the event loop leave in one write.
// Never blocks and never waits past its command timeout: a caller whose reply is late gets `timeout` and
// the reply is discarded when it comes. Never retries a command.
// How it fails: while disconnected, or while its circuit breaker is open after repeated failures, every call
// fails at once with `unavailable` (so a dead Redis adds no latency); a background loop reconnects with
// backoff, and a single probe call closes the breaker again.
#pragma once

#include "cache/cluster_locator.hpp"
#include "cache/redis_metrics.hpp"
#include "cache/resp_reader.hpp"
#include "core/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/container/small_vector.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::cache {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct RedisEndpoint {
  std::string host = "127.0.0.1";
  std::string port = "6379";
  std::string password;
  int db = 0;
  // redis+cluster://: the nodes to ask where the slot is served (cache/cluster_locator); host and port are
  // then whichever master serves it, found again before every connect.
  bool cluster = false;
  std::vector<ClusterNode> seeds;
};

// redis://[:password@]host[:port][/db], or redis+cluster://[:password@]host:port[,host:port…][/]
Result<RedisEndpoint> parse_redis_url(std::string_view url);

// A reply of a type the caller did not expect (an error reply among them) as an `internal` cache error —
// except a Redis Cluster's redirections and refusals while it moves or fails over a slot (MOVED, ASK,
// TRYAGAIN, CLUSTERDOWN): `unavailable`, with code cache::cluster_moving (store.hpp), as they pass in
// moments.
Error unexpected_reply(const RedisReply& r);

// Whether the reply is `ASK <slot> host:port`: a Redis Cluster moving the slot, key by key, sends this one
// command to another node. A test of the reply's type and first bytes, for the hit path.
bool is_ask(const RedisReply& r);
// The node an ASK reply names; nothing for any other reply.
std::optional<ClusterNode> ask_target(const RedisReply& r);

// A command's words. Up to six are held in place (every command on the request path), so building one
// allocates nothing.
using RedisCommand = boost::container::small_vector<std::string_view, 6>;

// Appends `cmd` to `out` in RESP, as an array of bulk strings.
void append_command(std::string& out, const RedisCommand& cmd);

// A TCP connection to host:port, resolved and connected within `within`; nothing when either step fails or
// the time runs out.
asio::awaitable<std::optional<asio::ip::tcp::socket>> connect_within(asio::any_io_executor ex,
                                                                     const std::string& host,
                                                                     const std::string& port,
                                                                     std::chrono::milliseconds within);

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  struct Options {
    RedisEndpoint endpoint;
    std::chrono::milliseconds timeout{250};
    int breaker_threshold = 3;                     // consecutive failures that open the breaker
    std::chrono::milliseconds breaker_open{1000};  // how long it stays open before one probe
    std::size_t max_pending = 50000;               // callers waiting at once; past it, fail fast
    // A reply no caller waits for: a subscribed connection's messages. Without a handler it is a protocol
    // error and the connection is dropped.
    std::function<void(RedisReply)> on_push;
    // Run on every new connection after AUTH/SELECT and before any caller's command (e.g. SUBSCRIBE); false
    // drops the connection.
    std::function<asio::awaitable<bool>(RedisConnection&)> on_connect;
    // An established connection was lost or closed (what Redis tracked for it is gone with it).
    std::function<void()> on_disconnect;
    RedisMetrics metrics;  // round trips, connects and the breaker in /metrics
    // With a cluster endpoint: a key in the slot this connection must reach (every command it carries is for
    // that slot; empty: cachelab's, keys::prefix). A MOVED or CLUSTERDOWN reply drops the connection, and the
    // next connect looks again.
    std::string cluster_slot_key;
  };

  static std::shared_ptr<RedisConnection> create(asio::any_io_executor ex, Options options);
  ~RedisConnection();

  // Starts the connect/reconnect loop. Call once, from the executor's thread.
  void start();
  // Closes the socket and ends the loop; pending callers get `unavailable`.
  void stop();
  // Drops the connection (pending callers get `unavailable`) so that the loop connects again — to wherever
  // the cluster's slot is served now. Callable from any thread: it runs on the connection's executor, and
  // only if `still` (checked there) says the reason still holds.
  void reconnect(std::string why, std::function<bool()> still = nullptr);

  // Whether a caller's commands may be answered with another caller's replies (see exec).
  enum class Sharing {
    alone,  // always sent as the caller's own
    reads,  // read-only: one batch, byte for byte the same as the batch queued just before it and not yet
            // written, rides on that batch's replies instead of being sent again
  };

  // Sends the commands in one write and returns their replies in order. A Redis error reply (e.g. WRONGTYPE)
  // is a reply, not a failure; failures are connection loss, timeout and an open breaker.
  // With Sharing::reads, the same reads queued back to back in one turn of the event loop (many requests for
  // one hot key) go to Redis once and every caller gets a copy of the replies. That answers each of them as
  // its own commands would have been: the shared batch had not been written when the later caller asked, so
  // Redis runs it after everything that completed before either caller asked, and nothing this connection
  // sends comes between the two.
  asio::awaitable<Result<std::vector<RedisReply>>> exec(std::span<const RedisCommand> commands,
                                                        Sharing sharing = Sharing::alone);

  // Sends `commands` to another node of the cluster, `node`, on a short-lived connection (after AUTH when the
  // URL has a password) and returns their replies, within the command timeout; the caller's tracking, breaker
  // and pipeline are not involved. With `asking`, ASKING goes first: how an ASK redirection is followed (a
  // slot moves in moments, so nothing is kept open). Fails with `unavailable` (code cache::cluster_moving)
  // when the node does not answer or refuses AUTH or ASKING.
  asio::awaitable<Result<std::vector<RedisReply>>> exec_on(const ClusterNode& node,
                                                           std::span<const RedisCommand> commands,
                                                           bool asking = false);
  bool cluster() const { return locator_.has_value(); }
  // With a cluster endpoint: the node this connection goes to, and the masters of the last slot map.
  ClusterNode node() const { return {current_.host, current_.port}; }
  std::vector<ClusterNode> cluster_masters() const {
    return locator_ ? locator_->masters() : std::vector<ClusterNode>{};
  }

  bool connected() const { return connected_; }
  // Changes whenever the connection is made or lost: two equal readings mean one unbroken connection.
  std::uint64_t session() const { return generation_; }

 private:
  struct Pending;
  RedisConnection(asio::any_io_executor ex, Options options);
  asio::awaitable<void> maintain();
  asio::awaitable<bool> connect_once();
  asio::awaitable<void> read_loop(std::uint64_t generation);
  asio::awaitable<void> write_loop(std::uint64_t generation);
  void drop_connection(const std::string& why);
  bool admit();  // breaker check before a call
  void record(bool ok);

  asio::any_io_executor ex_;
  Options options_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer wake_;  // the maintain loop sleeps on it until the connection drops
  RespReader reader_;
  std::string write_buf_;
  std::deque<std::shared_ptr<Pending>> pending_;
  // The last batch in write_buf_ when it may be shared (Sharing::reads), and where its bytes begin there;
  // null once it is written or anything is queued after it.
  std::shared_ptr<Pending> open_reads_;
  std::size_t open_reads_at_ = 0;
  std::uint64_t generation_ = 0;
  bool connected_ = false;
  bool connecting_ = false;  // a connect attempt is under way: callers wait for it (up to their timeout)
  std::vector<std::shared_ptr<asio::steady_timer>> connect_waiters_;
  bool writing_ = false;
  bool stopped_ = false;
  // Circuit breaker.
  int failures_ = 0;
  Clock::time_point open_until_{};
  bool probing_ = false;
  void show_breaker(bool open);  // in the breakers_open gauge
  bool shown_open_ = false;
  std::optional<ClusterLocator> locator_;  // cluster endpoints only
  RedisEndpoint current_;                  // where the connection goes (or went) this time
};

}  // namespace cachelab::cache

// The request path's Redis commands (cache/store.hpp): lookups, guarded stores, invalidation, leases.
#include "cache/invalidation_listener.hpp"
#include "cache/keys.hpp"
#include "cache/redis_connection.hpp"
#include "cache/store.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace cachelab::cache {
namespace {

// KEYS[1] generation key. ARGV: key, value, px, expected generation. Stores only while the generation is
// the expected one.
constexpr std::string_view store_script = R"lua(
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[4] then return 0 end
redis.call('SET', ARGV[1], ARGV[2], 'PX', ARGV[3])
return 1
)lua";

// KEYS[1] generation key, KEYS[2] WAL fence key, KEYS[3..] keys to drop; ARGV[1] the write's WAL position
// ("0": none). Raises the fence, never lowers it (two writers may finish out of order). Returns the new
// generation. WAL positions stay below 2^53 (8 PiB of WAL), so Lua's numbers compare them exactly.
constexpr std::string_view invalidate_script = R"lua(
for i = 3, #KEYS do redis.call('UNLINK', KEYS[i]) end
local fence = tonumber(ARGV[1])
if fence > 0 and fence > (tonumber(redis.call('GET', KEYS[2]) or '0') or 0) then
  redis.call('SET', KEYS[2], ARGV[1])
end
return redis.call('INCR', KEYS[1])
)lua";

// KEYS[1] WAL fence key, ARGV[1] the write's WAL position: the fence raise of invalidate_script on its own,
// for a slot that is moving (see RedisStore::invalidate_key_by_key).
constexpr std::string_view raise_fence_script = R"lua(
if tonumber(ARGV[1]) > (tonumber(redis.call('GET', KEYS[1]) or '0') or 0) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
)lua";

// KEYS[1] lease key, KEYS[2] the key it is for; ARGV[1] our token, ARGV[2] px. No lease while the key has a
// value (it was loaded and stored since the caller's lookup). An error reply to the SET (OOM) stays an error.
constexpr std::string_view lease_script = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
)lua";

// KEYS[1] lease key, ARGV[1] our token.
constexpr std::string_view release_script = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

// A GET of the generation key: its value, or "0" before the first write.
std::string generation_of(const RedisReply& r) {
  return r.type == RedisReply::Type::string ? r.str : "0";
}

// A GET of the WAL fence: its value, or 0 before the first fenced write.
std::uint64_t fence_of(const RedisReply& r) {
  if (r.type != RedisReply::Type::string) return 0;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(r.str.data(), r.str.data() + r.str.size(), v);
  return ec == std::errc{} && end == r.str.data() + r.str.size() ? v : 0;
}

class RedisStore final : public Store {
 public:
  RedisStore(std::shared_ptr<RedisConnection> c, std::shared_ptr<const InvalidationListener> tracking,
             bool read_wal_fence, WriteOptions writes)
      : conn_(std::move(c)),
        tracking_(std::move(tracking)),
        read_wal_fence_(read_wal_fence),
        writes_(std::move(writes)) {}

  // GET generation (derived keys only), GET key, PTTL key in one pipeline. A derived key's name uses the
  // generation this connection saw last; if the generation has moved on (a write happened), a second round
  // trip reads the key under the new generation. A plain key's miss reads the generation in a second round
  // trip, before the caller loads anything. See Store::lookup for why reading them non-atomically is safe.
  boost::asio::awaitable<Result<Lookup>> lookup(std::string_view key) override {
    const auto at = key.find(keys::generation_placeholder);
    const bool derived = at != std::string_view::npos;
    auto resolve = [&](const std::string& gen) {
      std::string k(key);
      if (derived) k.replace(at, keys::generation_placeholder.size(), gen);
      return k;
    };
    Lookup out{{}, resolve(known_generation_), std::nullopt};  // the generation: filled in where it is read
    // Client-side caching: tracking goes first in the same pipeline when this connection (or the listener's
    // subscription) is new, so the reads after it are tracked.
    const auto redirect = tracking_ ? tracking_->redirect() : InvalidationListener::Redirect{};
    const auto session = conn_->session();
    const bool track =
        redirect.epoch != 0 && (session != tracked_session_ || redirect.epoch != tracked_epoch_);
    const std::string client_id = std::to_string(redirect.client_id);
    boost::container::small_vector<RedisCommand, 5> cmds;  // at most five: no allocation
    if (track) cmds.push_back({"CLIENT", "TRACKING", "on", "REDIRECT", client_id, "NOLOOP"});
    const auto gen_key = keys::generation();
    const auto fence_key = keys::wal_fence();
    if (derived) cmds.push_back({"GET", gen_key});
    if (derived && read_wal_fence_) cmds.push_back({"GET", fence_key});  // after the generation: see Lookup
    cmds.push_back({"GET", out.key});
    cmds.push_back({"PTTL", out.key});
    auto r = co_await conn_->exec(cmds, RedisConnection::Sharing::reads);
    if (!r) co_return r.error();
    bool asked = false;  // a reply came from another node (ASK)
    if (has_ask(*r)) {
      auto followed = co_await follow_asks(*conn_, cmds, *r);
      if (!followed) co_return followed.error();
      asked = *followed;
    }
    bool refused = false;
    if (track) {
      // Refused (an error reply): the listener is on another server than this connection, as after a cluster
      // moved the slot. The read goes on untracked (nothing is kept near) while the listener follows.
      if ((*r)[0].type == RedisReply::Type::error) {
        refused = true;
        tracking_->redirect_refused(redirect.epoch);
      } else if ((*r)[0].type != RedisReply::Type::status) {
        co_return unexpected_reply((*r)[0]);
      } else {
        tracked_session_ = conn_->session() == session ? session : 0;
        tracked_epoch_ = redirect.epoch;
      }
      r->erase(r->begin());
    }
    // Tracked when tracking was on for the connection these replies came over, under a live subscription.
    // A read another node answered (ASK) is not tracked: nothing of it may be kept near.
    out.tracked = !asked && !refused && redirect.epoch != 0 && tracked_session_ == session &&
                  conn_->session() == session && tracked_epoch_ == redirect.epoch;
    std::size_t value_at = 0;
    if (derived) {
      out.generation = generation_of((*r)[0]);
      value_at = 1;
      if (read_wal_fence_) out.wal_fence = fence_of((*r)[value_at++]);
    }
    if (derived && out.generation != known_generation_) {
      known_generation_ = out.generation;
      out.key = resolve(known_generation_);
      const RedisCommand again[] = {{"GET", out.key}, {"PTTL", out.key}};
      r = co_await conn_->exec(again, RedisConnection::Sharing::reads);
      if (!r) co_return r.error();
      if (has_ask(*r)) {
        auto followed = co_await follow_asks(*conn_, again, *r);
        if (!followed) co_return followed.error();
        asked = *followed;
      }
      out.tracked = out.tracked && !asked && conn_->session() == session;
      value_at = 0;
    }
    auto& value = (*r)[value_at];
    if (value.type == RedisReply::Type::string) {
      // PTTL -2: the key expired between the two commands (report 0 left).
      const auto ttl = (*r)[value_at + 1].integer;
      out.value = CachedValue{std::move(value.str), ttl == -2 ? 0 : ttl};
    } else if (value.type != RedisReply::Type::nil) {
      co_return unexpected_reply(value);
    }
    if (!derived && !out.value) {
      auto g = co_await current_generation();
      if (!g) co_return g.error();
      out.generation = std::move(g->value);
      out.wal_fence = g->wal_fence;
    }
    co_return out;
  }

  boost::asio::awaitable<Result<Generation>> current_generation() override {
    const auto gen_key = keys::generation();
    const auto fence_key = keys::wal_fence();
    const RedisCommand cmds[] = {{"GET", gen_key}, {"GET", fence_key}};
    const auto sent = std::span(cmds, read_wal_fence_ ? 2 : 1);
    auto r = co_await conn_->exec(sent, RedisConnection::Sharing::reads);
    if (!r) co_return r.error();
    if (has_ask(*r)) {
      if (auto followed = co_await follow_asks(*conn_, sent, *r); !followed) co_return followed.error();
    }
    Generation g{generation_of((*r)[0])};
    if (read_wal_fence_) g.wal_fence = fence_of((*r)[1]);
    co_return g;
  }

  boost::asio::awaitable<Result<bool>> store(std::string_view key, std::string_view value,
                                             std::chrono::milliseconds ttl,
                                             std::string_view generation) override {
    const auto gen_key = keys::generation();
    const std::string px = std::to_string(std::max<std::int64_t>(1, ttl.count()));
    const RedisCommand cmd[] = {{"EVAL", store_script, "1", gen_key, key, value, px, generation}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    if ((*r)[0].type != RedisReply::Type::integer) co_return unexpected_reply((*r)[0]);
    co_return (*r)[0].integer == 1;
  }

  boost::asio::awaitable<Result<Invalidated>> invalidate(const std::vector<std::string>& drop,
                                                         std::uint64_t wal_fence) override {
    auto& writer = writes_.connection ? *writes_.connection : *conn_;
    const auto gen_key = keys::generation();
    const auto fence_key = keys::wal_fence();
    const std::string nkeys = std::to_string(drop.size() + 2);
    const std::string fence = std::to_string(wal_fence);
    RedisCommand script{"EVAL", invalidate_script, nkeys, gen_key, fence_key};
    for (const auto& k : drop) script.push_back(k);
    script.push_back(fence);
    // WAIT in the same pipeline: it returns once that many replicas have everything this connection wrote
    // (the script included), or at its timeout with how many did.
    const std::string replicas = std::to_string(writes_.wait_replicas);
    const std::string wait_ms = std::to_string(writes_.wait_timeout.count());
    const RedisCommand cmds[] = {script, {"WAIT", replicas, wait_ms}};
    auto r = co_await writer.exec(std::span(cmds, waits() ? 2 : 1));
    if (!r) co_return r.error();
    const auto& reply = (*r)[0];
    if (reply.type == RedisReply::Type::integer) {
      const Invalidated done{static_cast<std::int64_t>(reply.integer), !waits() || acknowledged((*r)[1])};
      co_await settle(writer);
      co_return done;
    }
    if (writer.cluster() && reply.type == RedisReply::Type::error &&
        (reply.str.starts_with("ASK ") || reply.str.starts_with("TRYAGAIN"))) {
      auto generation = co_await invalidate_key_by_key(writer, drop, wal_fence);
      if (!generation) co_return generation.error();
      co_await settle(writer);
      // Part of it went to the importing node on a connection WAIT cannot speak for: sent again later.
      co_return Invalidated{*generation, !waits()};
    }
    co_return unexpected_reply(reply);
  }

  // Redis answers the script and queues its invalidations for the tracking clients (other processes' near
  // caches) in the same turn of its event loop, and may write our answer first: one more round trip on the
  // same connection, read only in a later turn, returns once every invalidation that node sent is in its
  // listener's socket, so that no client has the write's answer before the other processes' listeners have
  // the invalidation to read. Not sent when WAIT ran: its answer comes in a later turn already. Its failure
  // is not the write's: the invalidation went through.
  boost::asio::awaitable<void> settle(RedisConnection& writer) const {
    if (waits()) co_return;
    const RedisCommand ping[] = {{"PING"}};
    auto r = co_await writer.exec(ping);
    (void)r;
  }

  // While a Redis Cluster moves cachelab's slot, key by key, a script over several keys is refused (TRYAGAIN
  // while they sit on both nodes, ASK once none is left on the old one) until the move ends, which can take
  // seconds. A write must not wait that long, nor leave an old value behind to be served from the new node.
  // So the script's steps are sent one key each, and a key already moved is followed to the importing node
  // with ASKING. The order keeps the script's guarantee without its atomicity: the generation is bumped
  // first, so a store that loaded before the write is refused from then on; the keys are dropped after it.
  boost::asio::awaitable<Result<std::int64_t>> invalidate_key_by_key(RedisConnection& writer,
                                                                     const std::vector<std::string>& drop,
                                                                     std::uint64_t wal_fence) {
    const auto gen_key = keys::generation();
    const RedisCommand incr{"INCR", gen_key};
    auto generation = co_await exec_following_ask(writer, incr);
    if (!generation) co_return generation.error();
    if (generation->type != RedisReply::Type::integer) co_return unexpected_reply(*generation);
    if (wal_fence > 0) {
      const auto fence_key = keys::wal_fence();
      const std::string fence = std::to_string(wal_fence);
      const RedisCommand raise{"EVAL", raise_fence_script, "1", fence_key, fence};
      auto r = co_await exec_following_ask(writer, raise);
      if (!r) co_return r.error();
      if (r->type != RedisReply::Type::integer) co_return unexpected_reply(*r);
    }
    for (const auto& k : drop) {
      const RedisCommand unlink{"UNLINK", k};
      auto r = co_await exec_following_ask(writer, unlink);
      if (!r) co_return r.error();
      if (r->type != RedisReply::Type::integer) co_return unexpected_reply(*r);
    }
    co_return static_cast<std::int64_t>(generation->integer);
  }

  // Whether any reply is an ASK redirection: checked before follow_asks, so that a read with none (every read
  // but during a slot move) costs no coroutine more.
  static bool has_ask(const std::vector<RedisReply>& replies) {
    return std::any_of(replies.begin(), replies.end(), [](const RedisReply& r) { return is_ask(r); });
  }
  // While a Redis Cluster moves the slot, a key that already left this node gets an ASK reply: those commands
  // are sent again, with ASKING, to the node the reply names (reads are single-key, so the move does not
  // refuse them). Their replies take the ASK replies' places. True when any was sent again.
  boost::asio::awaitable<Result<bool>> follow_asks(RedisConnection& via, std::span<const RedisCommand> cmds,
                                                   std::vector<RedisReply>& replies) {
    if (!via.cluster()) co_return false;
    bool asked = false;
    for (std::size_t i = 0; i < replies.size(); ++i) {
      const auto node = ask_target(replies[i]);
      if (!node) continue;
      std::vector<std::size_t> at;  // every command sent to that node, in order: one exchange
      std::vector<RedisCommand> again;
      for (std::size_t j = i; j < replies.size(); ++j) {
        if (ask_target(replies[j]) == node) {
          at.push_back(j);
          again.push_back(cmds[j]);
        }
      }
      auto r = co_await via.exec_on(*node, again, /*asking=*/true);
      if (!r) co_return r.error();
      for (std::size_t k = 0; k < at.size(); ++k) replies[at[k]] = std::move((*r)[k]);
      asked = true;
    }
    co_return asked;
  }

  // One command; an ASK reply sends it again to the node it names, with ASKING.
  boost::asio::awaitable<Result<RedisReply>> exec_following_ask(RedisConnection& via,
                                                                const RedisCommand& cmd) {
    const std::span one(&cmd, 1);
    auto r = co_await via.exec(one);
    if (!r) co_return r.error();
    if (has_ask(*r)) {
      if (auto followed = co_await follow_asks(via, one, *r); !followed) co_return followed.error();
    }
    co_return std::move((*r)[0]);
  }

  boost::asio::awaitable<Result<bool>> acquire_lease(std::string_view lease_key, std::string_view token,
                                                     std::chrono::milliseconds ttl,
                                                     std::string_view unless_present) override {
    const std::string px = std::to_string(ttl.count());
    const RedisCommand cmd[] = {unless_present.empty() ? RedisCommand{"SET", lease_key, token, "NX", "PX", px}
                                                       : RedisCommand{"EVAL", lease_script, "2", lease_key,
                                                                      unless_present, token, px}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    const auto& reply = (*r)[0];
    if (reply.type == RedisReply::Type::status) co_return true;                 // OK: ours
    if (reply.type == RedisReply::Type::nil) co_return false;                   // someone else holds it
    if (reply.type == RedisReply::Type::integer) co_return reply.integer == 1;  // the script's answer
    // An error reply (OOM under noeviction or a full maxmemory, READONLY on a replica, …) is a Redis failure,
    // not a lease held elsewhere: waiting for a value no one is loading would cost the whole lease.
    co_return unexpected_reply(reply);
  }

  boost::asio::awaitable<Result<void>> release_lease(std::string_view lease_key,
                                                     std::string_view token) override {
    const RedisCommand cmd[] = {{"EVAL", release_script, "1", lease_key, token}};
    auto r = co_await conn_->exec(cmd);
    if (!r) co_return r.error();
    co_return Result<void>{};
  }

 private:
  std::shared_ptr<RedisConnection> conn_;
  std::shared_ptr<const InvalidationListener> tracking_;  // null: no near cache, no tracking
  std::uint64_t tracked_session_ = 0;                     // the connection session tracking was turned on in
  std::uint64_t tracked_epoch_ = 0;                       // and the listener subscription it redirects to
  std::string known_generation_ = "0";                    // the catalog generation this connection saw last
  bool read_wal_fence_ = false;                           // a read replica is configured: see Lookup
  WriteOptions writes_;  // where invalidations go, and how many replicas they wait for

  bool waits() const { return writes_.connection && writes_.wait_replicas > 0; }
  // WAIT's answer: enough replicas have the writes before it.
  bool acknowledged(const RedisReply& r) const {
    return r.type == RedisReply::Type::integer && r.integer >= writes_.wait_replicas;
  }
};

}  // namespace

std::shared_ptr<Store> make_redis_store(std::shared_ptr<RedisConnection> connection,
                                        std::shared_ptr<const InvalidationListener> tracking,
                                        bool read_wal_fence, WriteOptions writes) {
  return std::make_shared<RedisStore>(std::move(connection), std::move(tracking), read_wal_fence,
                                      std::move(writes));
}

}  // namespace cachelab::cache

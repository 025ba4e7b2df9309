#include "cache/redis_connection.hpp"
#include "cache/keys.hpp"
#include "cache/store.hpp"
#include "core/log.hpp"

#include "core/deadline.hpp"
#include "core/text.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include <charconv>
#include <optional>

namespace cachelab::cache {

// One caller's batch: `expected` replies, delivered by the read loop in FIFO order.
struct RedisConnection::Pending {
  explicit Pending(asio::any_io_executor ex, std::size_t n) : timer(ex), expected(n) { replies.reserve(n); }
  asio::steady_timer timer;  // doubles as the wake-up signal: cancelled when the replies are complete
  std::size_t expected;
  int waiting = 1;  // callers awaiting these replies: the one that queued them, and any sharing them
  std::vector<RedisReply> replies;
  std::optional<Error> error;
  bool done = false;
  bool abandoned = false;  // the caller timed out; drop the replies when they arrive
};

namespace {

// redis+cluster://[:password@]host:port[,host:port…][/] — a list of hosts is not a URL authority, so this is
// read by hand: the password (percent-decoded by boost::url, from a stand-in single-host URL), then the list.
Result<RedisEndpoint> parse_cluster_url(std::string_view url) {
  constexpr std::string_view scheme = "redis+cluster://";
  const auto bad = [&](std::string_view why) {
    return make_error(ErrorKind::invalid_argument, fmt::format("'{}': {}", url, why));
  };
  auto rest = url.substr(scheme.size());
  RedisEndpoint e;
  e.cluster = true;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto u = boost::urls::parse_uri(fmt::format("redis://{}@x", rest.substr(0, at)));
    if (!u) return bad("the password part is not valid");
    e.password = u->password();
    rest.remove_prefix(at + 1);
  }
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    const auto path = rest.substr(slash);
    if (path != "/" && path != "/0") return bad("a cluster has only database 0");
    rest = rest.substr(0, slash);
  }
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto item = rest.substr(0, comma);
    auto node = parse_node(item);
    if (!node) return bad(fmt::format("'{}' is not host:port", item));
    e.seeds.push_back(std::move(*node));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (e.seeds.empty()) return bad("name at least one node, host:port");
  e.host = e.seeds.front().host;
  e.port = e.seeds.front().port;
  return e;
}

}  // namespace

Result<RedisEndpoint> parse_redis_url(std::string_view url) {
  if (url.starts_with("redis+cluster://")) return parse_cluster_url(url);
  auto u = boost::urls::parse_uri(url);
  if (!u || u->scheme() != "redis" || !u->has_authority() || u->encoded_host().empty()) {
    return make_error(
        ErrorKind::invalid_argument,
        fmt::format("'{}' is not a redis://host:port[/db] or redis+cluster://host:port,… URL", url));
  }
  RedisEndpoint e;
  e.host = u->host();
  if (!u->port().empty()) e.port = u->port();
  if (u->has_password()) e.password = u->password();
  auto path = u->path();
  if (path.size() > 1) {
    auto digits = std::string_view(path).substr(1);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), e.db);
    if (ec != std::errc{} || ptr != digits.data() + digits.size() || e.db < 0) {
      return make_error(ErrorKind::invalid_argument, fmt::format("'{}': the database must be a number", url));
    }
  }
  return e;
}

// RESP's array of bulk strings, written straight into `out`: what hiredis's redisFormatCommandArgv produces
// (the unit tests compare the two), without its three allocations per command (argument arrays and the
// formatted copy) on the hit path.
void append_command(std::string& out, const RedisCommand& cmd) {
  out += '*';
  append_int(out, static_cast<std::int64_t>(cmd.size()));
  out += "\r\n";
  for (auto a : cmd) {
    out += '$';
    append_int(out, static_cast<std::int64_t>(a.size()));
    out += "\r\n";
    out += a;
    out += "\r\n";
  }
}

asio::awaitable<std::optional<asio::ip::tcp::socket>> connect_within(asio::any_io_executor ex,
                                                                     const std::string& host,
                                                                     const std::string& port,
                                                                     std::chrono::milliseconds within) {
  asio::ip::tcp::resolver resolver(ex);
  asio::ip::tcp::socket sock(ex);
  Deadline timeout(ex, Clock::now() + within, [&resolver, &sock] {
    resolver.cancel();
    boost::system::error_code ignored;
    sock.close(ignored);
  });
  boost::system::error_code ec;
  auto endpoints = co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return std::nullopt;
  co_await asio::async_connect(sock, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  timeout.disarm();
  if (ec) co_return std::nullopt;
  co_return std::move(sock);
}

Error unexpected_reply(const RedisReply& r) {
  if (r.type == RedisReply::Type::error &&
      (r.str.starts_with("MOVED ") || r.str.starts_with("ASK ") || r.str.starts_with("TRYAGAIN") ||
       r.str.starts_with("CLUSTERDOWN"))) {
    Error e = make_error(ErrorKind::unavailable, "Redis Cluster: " + r.str, Backend::cache);
    e.code = std::string(cluster_moving);  // cache/store.hpp
    return e;
  }
  return make_error(ErrorKind::internal,
                    r.type == RedisReply::Type::error ? "Redis error: " + r.str : "unexpected Redis reply",
                    Backend::cache);
}

bool is_ask(const RedisReply& r) {
  return r.type == RedisReply::Type::error && r.str.starts_with("ASK ");
}

std::optional<ClusterNode> ask_target(const RedisReply& r) {
  if (!is_ask(r)) return std::nullopt;
  return parse_node(std::string_view(r.str).substr(r.str.rfind(' ') + 1));
}

std::shared_ptr<RedisConnection> RedisConnection::create(asio::any_io_executor ex, Options options) {
  return std::shared_ptr<RedisConnection>(new RedisConnection(ex, std::move(options)));
}

RedisConnection::RedisConnection(asio::any_io_executor ex, Options options)
    : ex_(ex), options_(std::move(options)), socket_(ex), wake_(ex), current_(options_.endpoint) {
  // Unless told otherwise, the slot every cachelab key hashes to (cache/keys: the `{v1}` hash tag).
  if (options_.endpoint.cluster) {
    locator_.emplace(
        options_.endpoint.seeds,
        options_.cluster_slot_key.empty() ? std::string(keys::prefix) : options_.cluster_slot_key,
        options_.endpoint.password);
  }
}

RedisConnection::~RedisConnection() = default;

void RedisConnection::start() {
  asio::co_spawn(
      ex_, [self = shared_from_this()] { return self->maintain(); }, asio::detached);
}

void RedisConnection::stop() {
  stopped_ = true;
  drop_connection("stopping");
  wake_.cancel();
}

void RedisConnection::reconnect(std::string why, std::function<bool()> still) {
  asio::post(ex_, [self = shared_from_this(), why = std::move(why), still = std::move(still)] {
    if (self->stopped_ || !self->connected_ || (still && !still())) return;
    self->drop_connection(why);
  });
}

bool RedisConnection::admit() {
  if (open_until_ == Clock::time_point{}) return true;  // closed
  if (Clock::now() < open_until_) return false;         // open
  if (probing_) return false;                           // half-open: one probe at a time
  probing_ = true;
  return true;
}

RedisMetrics RedisMetrics::on(metrics::Registry& r) {
  RedisMetrics m;
  m.command_seconds =
      r.histogram("cachelab_redis_command_duration_seconds",
                  "A round trip to Redis: the commands sent together, until their last reply.",
                  metrics::latency_buckets());
  m.connects = r.counter("cachelab_redis_connects_total",
                         "Connections to Redis made (the first and every reconnect).");
  m.disconnects = r.counter("cachelab_redis_disconnects_total", "Connections to Redis lost or closed.");
  m.ask_redirects = r.counter(
      "cachelab_redis_ask_redirects_total",
      "Commands sent again, with ASKING, to the Redis Cluster node importing a slot that is moving.");
  m.shared_reads = r.counter(
      "cachelab_redis_shared_reads_total",
      "Lookups answered with the replies of the same reads queued just before them in one event-loop turn "
      "(requests for one hot key), instead of sending their own.");
  m.breaker_trips =
      r.counter("cachelab_redis_breaker_trips_total", "Times a connection's circuit breaker opened.");
  m.breakers_open =
      r.gauge("cachelab_redis_breakers_open",
              "Redis connections (one per I/O thread) whose circuit breaker is open or half-open.");
  return m;
}

void RedisConnection::show_breaker(bool open) {
  if (open == shown_open_) return;
  shown_open_ = open;
  options_.metrics.breakers_open.add(open ? 1 : -1);
}

void RedisConnection::record(bool ok) {
  if (ok) {
    show_breaker(false);
    failures_ = 0;
    open_until_ = {};
    probing_ = false;
    return;
  }
  probing_ = false;
  if (open_until_ != Clock::time_point{} || ++failures_ >= options_.breaker_threshold) {
    if (open_until_ == Clock::time_point{}) {
      spdlog::warn("event=redis_breaker_open failures={}", failures_);
      options_.metrics.breaker_trips.inc();
    }
    show_breaker(true);
    open_until_ = Clock::now() + options_.breaker_open;
    failures_ = 0;
  }
}

asio::awaitable<Result<std::vector<RedisReply>>> RedisConnection::exec(std::span<const RedisCommand> commands,
                                                                       Sharing sharing) {
  if (!connected_ && connecting_ && !stopped_) {
    // Right after start-up or a drop, a connect is usually a millisecond from done: wait for it rather than
    // turning the first requests into needless misses.
    auto waiter = std::make_shared<asio::steady_timer>(ex_, options_.timeout);
    connect_waiters_.push_back(waiter);
    boost::system::error_code ec;
    co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (!connected_ || stopped_)
    co_return make_error(ErrorKind::unavailable, "Redis is not connected", Backend::cache);
  if (pending_.size() >= options_.max_pending)
    co_return make_error(ErrorKind::unavailable, "Redis backlog full", Backend::cache);
  if (!admit()) co_return make_error(ErrorKind::unavailable, "Redis circuit breaker is open", Backend::cache);

  const auto at = write_buf_.size();
  for (const auto& cmd : commands) append_command(write_buf_, cmd);
  const auto sent = Clock::now();
  std::shared_ptr<Pending> p;
  // Shared: the same bytes as the unwritten batch just before them. Their copy is taken back out of the
  // buffer and this caller waits on that batch's replies, under its timer (whose deadline is a moment older).
  const std::string_view queued(write_buf_);
  const bool shared = sharing == Sharing::reads && open_reads_ && open_reads_->expected == commands.size() &&
                      queued.substr(open_reads_at_, at - open_reads_at_) == queued.substr(at);
  if (shared) {
    write_buf_.resize(at);
    p = open_reads_;
    ++p->waiting;
    options_.metrics.shared_reads.inc();
  } else {
    p = std::make_shared<Pending>(ex_, commands.size());
    pending_.push_back(p);
    open_reads_ = sharing == Sharing::reads ? p : nullptr;
    open_reads_at_ = at;
    if (!writing_) {
      writing_ = true;
      asio::co_spawn(
          ex_, [self = shared_from_this(), g = generation_] { return self->write_loop(g); }, asio::detached);
    }
    p->timer.expires_after(options_.timeout);
  }

  if (!p->done) {
    boost::system::error_code ec;
    co_await p->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  --p->waiting;
  // The breaker counts the batch once, as the caller that queued it sees it.
  if (!p->done) {
    if (!shared) {
      p->abandoned = true;
      record(false);
    }
    co_return make_error(ErrorKind::timeout,
                         fmt::format("Redis did not answer within {} ms", options_.timeout.count()),
                         Backend::cache);
  }
  if (!shared) record(!p->error.has_value());
  if (p->error) co_return *p->error;
  options_.metrics.command_seconds.observe(Clock::now() - sent);
  // The last of the callers to wake takes the replies; the others copy them.
  if (p->waiting > 0) co_return p->replies;
  co_return std::move(p->replies);
}

asio::awaitable<Result<std::vector<RedisReply>>> RedisConnection::exec_on(
    const ClusterNode& node, std::span<const RedisCommand> commands, bool asking) {
  const auto moving = [&](std::string why) {
    Error e = make_error(ErrorKind::unavailable,
                         fmt::format("Redis Cluster: {}:{}: {}", node.host, node.port, why), Backend::cache);
    e.code = std::string(cluster_moving);
    return e;
  };
  std::string request;
  std::size_t before = 0;  // the replies that are not the caller's: AUTH's, ASKING's
  if (!options_.endpoint.password.empty()) {
    append_command(request, {"AUTH", options_.endpoint.password});
    ++before;
  }
  if (asking) {
    append_command(request, {"ASKING"});
    ++before;
    options_.metrics.ask_redirects.inc(static_cast<std::int64_t>(commands.size()));
  }
  for (const auto& cmd : commands) append_command(request, cmd);
  auto replies = co_await exchange_once(ex_, node, request, before + commands.size(), options_.timeout);
  if (!replies) co_return moving("no answer");
  for (std::size_t i = 0; i < before; ++i) {
    if ((*replies)[i].type == RedisReply::Type::error) co_return moving((*replies)[i].str);
  }
  replies->erase(replies->begin(), replies->begin() + static_cast<std::ptrdiff_t>(before));
  co_return std::move(*replies);
}

asio::awaitable<void> RedisConnection::write_loop(std::uint64_t generation) {
  auto self = shared_from_this();
  // co_spawn runs this at once, inside the exec() that started it: let the rest of this turn's callers queue
  // their commands first, so that they leave in this write rather than the next.
  co_await asio::post(ex_, asio::use_awaitable);
  std::string out;
  while (generation == generation_ && connected_ && !write_buf_.empty()) {
    out.swap(write_buf_);
    open_reads_ = nullptr;  // written: a caller from now on must send its own
    boost::system::error_code ec;
    co_await asio::async_write(socket_, asio::buffer(out), asio::redirect_error(asio::use_awaitable, ec));
    out.clear();
    if (ec) {
      if (generation == generation_) drop_connection("write failed: " + ec.message());
      break;
    }
  }
  if (generation == generation_) writing_ = false;
}

asio::awaitable<void> RedisConnection::read_loop(std::uint64_t generation) {
  auto self = shared_from_this();
  // 16 KiB: a read takes what the socket holds, and under load almost every one is smaller (a hot-key hit
  // pipeline's largest was 6.5 KiB, a cold-cache soak's reads over 16 KiB were 0.02%). A larger buffer would
  // only keep pages resident that one burst touched; a burst is read in more than one turn, the reader joins
  // them. Not zeroed: its pages are taken as replies fill them, not all of them when the connection opens.
  constexpr std::size_t buf_size = 16 * 1024;
  const auto buf = std::make_unique_for_overwrite<char[]>(buf_size);
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = co_await socket_.async_read_some(asio::buffer(buf.get(), buf_size),
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (generation != generation_) co_return;
    if (ec) {
      drop_connection("read failed: " + ec.message());
      co_return;
    }
    reader_.feed(std::string_view(buf.get(), n));
    for (;;) {
      auto next = reader_.next();
      if (reader_.failed()) {
        drop_connection("RESP protocol error: " + reader_.error());
        co_return;
      }
      if (!next) break;
      RedisReply reply = std::move(*next);
      if (pending_.empty()) {
        if (options_.on_push) {
          options_.on_push(std::move(reply));
          continue;
        }
        drop_connection("reply with no caller waiting");
        co_return;
      }
      // A cluster moved our slot elsewhere (MOVED), or cannot serve it now (CLUSTERDOWN): this reply still
      // goes to its caller as the error it is, then the connection is dropped and the next one looks again.
      std::optional<std::string> relocate;
      if (locator_ && reply.type == RedisReply::Type::error &&
          (reply.str.starts_with("MOVED ") || reply.str.starts_with("CLUSTERDOWN"))) {
        relocate = reply.str;
        if (reply.str.starts_with("MOVED ")) {
          if (auto node = parse_node(reply.str.substr(reply.str.rfind(' ') + 1))) locator_->prefer(*node);
        }
      }
      auto& p = pending_.front();
      p->replies.push_back(std::move(reply));
      if (p->replies.size() == p->expected) {
        p->done = true;
        if (!p->abandoned) p->timer.cancel();
        pending_.pop_front();
      }
      if (relocate) {
        drop_connection("cluster: " + *relocate);
        co_return;
      }
    }
  }
}

void RedisConnection::drop_connection(const std::string& why) {
  const bool was_connected = connected_;
  if (connected_) {
    spdlog::warn("event=redis_disconnected reason={}", log_quote(why));
    options_.metrics.disconnects.inc();
  }
  ++generation_;
  connected_ = false;
  writing_ = false;
  write_buf_.clear();
  open_reads_ = nullptr;
  boost::system::error_code ec;
  socket_.close(ec);
  reader_.reset();
  for (auto& p : pending_) {
    p->error = make_error(ErrorKind::unavailable, "Redis connection lost: " + why, Backend::cache);
    p->done = true;
    if (!p->abandoned) p->timer.cancel();
  }
  pending_.clear();
  wake_.cancel();
  if (was_connected && options_.on_disconnect) options_.on_disconnect();
}

asio::awaitable<bool> RedisConnection::connect_once() {
  if (locator_) {
    auto owner = co_await locator_->locate(ex_, std::chrono::milliseconds(500));
    if (!owner) {
      spdlog::warn("event=redis_cluster_unlocated nodes_known={}", locator_->known().size());
      co_return false;
    }
    current_.host = owner->host;
    current_.port = owner->port;
  }
  const auto& e = current_;
  auto sock = co_await connect_within(ex_, e.host, e.port, std::chrono::seconds(2));
  if (!sock) co_return false;
  boost::system::error_code ec;
  sock->set_option(asio::ip::tcp::no_delay(true), ec);
  socket_ = std::move(*sock);
  ++generation_;
  connected_ = true;
  asio::co_spawn(
      ex_, [self = shared_from_this(), g = generation_] { return self->read_loop(g); }, asio::detached);

  // AUTH and SELECT go first on the new connection; a failure here means the URL is wrong.
  std::vector<RedisCommand> hello;
  if (!e.password.empty()) hello.push_back({"AUTH", e.password});
  std::string db = std::to_string(e.db);
  if (e.db != 0) hello.push_back({"SELECT", db});
  if (!hello.empty()) {
    auto r = co_await exec(hello);
    bool ok = r.has_value();
    if (ok) {
      for (const auto& reply : *r) ok = ok && reply.type != RedisReply::Type::error;
    }
    if (!ok) {
      spdlog::error("event=redis_handshake_failed host={} port={}", e.host, e.port);
      drop_connection("AUTH/SELECT failed");
      co_return false;
    }
  }
  if (options_.on_connect) {
    const auto session = generation_;
    const bool ok = co_await options_.on_connect(*this);
    if (!ok || session != generation_) {
      if (session == generation_) drop_connection("connection set-up failed");
      co_return false;
    }
  }
  spdlog::info("event=redis_connected host={} port={}", e.host, e.port);
  options_.metrics.connects.inc();
  co_return true;
}

asio::awaitable<void> RedisConnection::maintain() {
  auto self = shared_from_this();
  auto backoff = std::chrono::milliseconds(100);
  while (!stopped_) {
    if (!connected_) {
      connecting_ = true;
      const bool up = co_await connect_once();
      connecting_ = false;
      for (auto& waiter : connect_waiters_) waiter->cancel();
      connect_waiters_.clear();
      if (!up) {
        if (stopped_) break;
        wake_.expires_after(backoff);
        boost::system::error_code ec;
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        // Capped at 500 ms: a reconnect to Redis costs little, and the hit rate comes back within a cap of
        // Redis.
        backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
        continue;
      }
      backoff = std::chrono::milliseconds(100);
    }
    // Sleep until drop_connection() or stop() cancels the timer.
    wake_.expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace cachelab::cache

#include "cache/invalidation_listener.hpp"
#include "cache/keys.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <random>

namespace cachelab::cache {

namespace asio = boost::asio;

namespace {
constexpr std::string_view channel = "__redis__:invalidate";
constexpr std::chrono::seconds probe_every{1};
}  // namespace

InvalidationListener::InvalidationListener(boost::asio::any_io_executor ex, RedisEndpoint endpoint,
                                           std::shared_ptr<InvalidationLog> log)
    : log_(std::move(log)), probe_timer_(ex) {
  RedisConnection::Options o;
  o.endpoint = endpoint;
  o.timeout = std::chrono::milliseconds(1000);
  o.on_push = [this](RedisReply r) { on_message(std::move(r)); };
  // CLIENT ID, then SUBSCRIBE; only once subscribed may anything be cached again (under a new epoch).
  o.on_connect = [this](RedisConnection& c) -> boost::asio::awaitable<bool> {
    const RedisCommand id_cmd[] = {{"CLIENT", "ID"}};
    auto id = co_await c.exec(id_cmd);
    if (!id || (*id)[0].type != RedisReply::Type::integer) co_return false;
    const RedisCommand sub_cmd[] = {{"SUBSCRIBE", channel}};
    auto sub = co_await c.exec(sub_cmd);
    if (!sub || (*sub)[0].type != RedisReply::Type::array) co_return false;
    client_id_.store((*id)[0].integer, std::memory_order_relaxed);
    epoch_.store(++next_epoch_, std::memory_order_release);
    watch_.reset();
    log_->set_blind(false);
    spdlog::info("event=near_cache_listening client_id={}", (*id)[0].integer);
    co_return true;
  };
  o.on_disconnect = [this] {
    epoch_.store(0, std::memory_order_release);
    watch_.reset();
    log_->set_blind(true);
  };
  RedisConnection::Options p;
  p.endpoint = std::move(endpoint);
  p.timeout = std::chrono::milliseconds(1000);
  conn_ = RedisConnection::create(ex, std::move(o));
  probe_ = RedisConnection::create(ex, std::move(p));
  std::random_device rd;
  // In cachelab's slot (the `{v1}` hash tag), so that on a cluster the probe reaches the node this listens
  // on.
  probe_key_ = fmt::format("cachelab-probe:{{v1}}:{:08x}{:08x}", rd(), rd());
}

InvalidationListener::~InvalidationListener() = default;

void InvalidationListener::start() {
  conn_->start();
  probe_->start();
  asio::co_spawn(
      probe_timer_.get_executor(), [self = shared_from_this()] { return self->probe_loop(); },
      asio::detached);
}

void InvalidationListener::stop() {
  stopped_ = true;
  probe_timer_.cancel();
  probe_->stop();
  conn_->stop();
}

// Once a second: (re)turn on the probe connection's tracking of its key towards the current subscription
// when either changed, then write the key; on_message takes the time when the invalidation arrives. A probe
// still unanswered at the next tick is counted lost, and ProbeWatch::deaf_after of them in a row make the
// log blind until a probe is heard again.
asio::awaitable<void> InvalidationListener::probe_loop() {
  std::uint64_t tracked_epoch = 0, tracked_session = 0;
  while (!stopped_) {
    probe_timer_.expires_after(probe_every);
    boost::system::error_code ec;
    co_await probe_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) break;
    if (probe_sent_) {
      probe_sent_.reset();
      const bool went_deaf =
          watch_.unheard() == ProbeWatch::Change::went_deaf && epoch_.load(std::memory_order_acquire) != 0;
      {
        std::lock_guard lock(lag_mu_);
        ++lag_lost_;
        deaf_periods_ += went_deaf;
      }
      if (went_deaf) {
        log_->set_blind(true);
        spdlog::warn("event=near_cache_deaf unheard_probes={} action=blind", watch_.unheard_in_a_row());
      }
    }
    const auto to = redirect();
    if (to.epoch == 0) continue;
    if (to.epoch != tracked_epoch || probe_->session() != tracked_session) {
      const auto id = std::to_string(to.client_id);
      const RedisCommand track[] = {
          {"CLIENT", "TRACKING", "on", "REDIRECT", id, "BCAST", "PREFIX", probe_key_}};
      auto ok = co_await probe_->exec(track);
      if (!ok || (*ok)[0].type == RedisReply::Type::error) continue;
      tracked_epoch = to.epoch;
      tracked_session = probe_->session();
    }
    // The invalidation is sent while SET runs, so it may arrive before SET's own answer: start the clock
    // first.
    probe_sent_ = std::chrono::steady_clock::now();
    const RedisCommand write[] = {{"SET", probe_key_, "1", "EX", "10"}};
    auto ok = co_await probe_->exec(write);
    if (!ok || probe_->session() != tracked_session) {
      probe_sent_.reset();  // not written, or written by a connection whose tracking was lost with it
      tracked_session = 0;
    }
  }
}

void InvalidationListener::record_lag(std::chrono::steady_clock::duration d) {
  const double ms = std::chrono::duration<double, std::milli>(d).count();
  std::lock_guard lock(lag_mu_);
  if (lag_ms_.size() < lag_window) {
    lag_ms_.push_back(ms);
  } else {
    lag_ms_[static_cast<std::size_t>(lag_samples_) % lag_window] = ms;
  }
  ++lag_samples_;
  lag_last_ms_ = ms;
}

InvalidationListener::Lag InvalidationListener::lag() const {
  std::lock_guard lock(lag_mu_);
  Lag l{lag_samples_, lag_lost_, deaf_periods_, lag_last_ms_, 0, 0};
  if (lag_ms_.empty()) return l;
  auto sorted = lag_ms_;
  std::sort(sorted.begin(), sorted.end());
  l.p50_ms = sorted[sorted.size() / 2];
  l.max_ms = sorted.back();
  return l;
}

InvalidationListener::Redirect InvalidationListener::redirect() const {
  const auto epoch = epoch_.load(std::memory_order_acquire);
  return Redirect{client_id_.load(std::memory_order_relaxed), epoch};
}

void InvalidationListener::redirect_refused(std::uint64_t epoch) const {
  if (epoch == 0 || epoch_.load(std::memory_order_acquire) != epoch) return;
  spdlog::warn("event=near_cache_redirect_refused epoch={} note=\"resubscribing where the slot is served\"",
               epoch);
  conn_->reconnect("tracking redirect refused", [this, epoch] { return epoch_.load() == epoch; });
  probe_->reconnect("tracking redirect refused");
}

// ["message", "__redis__:invalidate", [key, ...]] for keys; the payload is nil after FLUSHALL/FLUSHDB. The
// lag probe's key is taken out (and a message naming nothing else is not counted).
void InvalidationListener::on_message(RedisReply r) {
  if (r.type != RedisReply::Type::array || r.elements.size() != 3 || r.elements[0].str != "message") return;
  const auto& payload = r.elements[2];
  if (payload.type != RedisReply::Type::array) {
    messages_.fetch_add(1, std::memory_order_relaxed);
    log_->publish_everything();
    return;
  }
  std::size_t named = 0;
  for (const auto& k : payload.elements) {
    if (k.str == probe_key_) {
      if (probe_sent_) record_lag(std::chrono::steady_clock::now() - *probe_sent_);
      probe_sent_.reset();
      if (watch_.heard() == ProbeWatch::Change::hears_again && epoch_.load(std::memory_order_acquire) != 0) {
        log_->set_blind(false);
        spdlog::info("event=near_cache_hears_again");
      }
      continue;
    }
    ++named;
    log_->publish(keys::unresolve(k.str));
  }
  if (named == 0) return;
  messages_.fetch_add(1, std::memory_order_relaxed);
  keys_.fetch_add(named, std::memory_order_relaxed);
}

}  // namespace cachelab::cache

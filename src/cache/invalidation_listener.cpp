#include "cache/invalidation_listener.hpp"
#include "cache/keys.hpp"

#include <spdlog/spdlog.h>

namespace cachelab::cache {

namespace {
constexpr std::string_view channel = "__redis__:invalidate";
}

InvalidationListener::InvalidationListener(boost::asio::any_io_executor ex, RedisEndpoint endpoint,
                                           std::shared_ptr<InvalidationLog> log)
    : log_(std::move(log)) {
  RedisConnection::Options o;
  o.endpoint = std::move(endpoint);
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
    log_->set_blind(false);
    spdlog::info("event=near_cache_listening client_id={}", (*id)[0].integer);
    co_return true;
  };
  o.on_disconnect = [this] {
    epoch_.store(0, std::memory_order_release);
    log_->set_blind(true);
  };
  conn_ = RedisConnection::create(ex, std::move(o));
}

InvalidationListener::~InvalidationListener() = default;

void InvalidationListener::start() {
  conn_->start();
}

void InvalidationListener::stop() {
  conn_->stop();
}

InvalidationListener::Redirect InvalidationListener::redirect() const {
  const auto epoch = epoch_.load(std::memory_order_acquire);
  return Redirect{client_id_.load(std::memory_order_relaxed), epoch};
}

// ["message", "__redis__:invalidate", [key, ...]] for keys; the payload is nil after FLUSHALL/FLUSHDB.
void InvalidationListener::on_message(RedisReply r) {
  if (r.type != RedisReply::Type::array || r.elements.size() != 3 || r.elements[0].str != "message") return;
  messages_.fetch_add(1, std::memory_order_relaxed);
  const auto& payload = r.elements[2];
  if (payload.type != RedisReply::Type::array) {
    log_->publish_everything();
    return;
  }
  for (const auto& k : payload.elements) {
    keys_.fetch_add(1, std::memory_order_relaxed);
    log_->publish(keys::unresolve(k.str));
  }
}

}  // namespace cachelab::cache

#include "api/request_metrics.hpp"

#include "core/log.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <string_view>

namespace cachelab::api {
namespace {

using boost::beast::http::verb;

constexpr std::array<verb, 7> methods = {verb::get,   verb::head,    verb::post,   verb::put,
                                         verb::patch, verb::delete_, verb::options};
constexpr std::size_t method_count = methods.size() + 1;  // and "other"

// Every status the server answers with; any other is counted as "other".
constexpr std::array<unsigned, 24> statuses = {200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405,
                                               406, 408, 409, 411, 413, 414, 415, 422, 429, 431, 500, 503};
constexpr std::size_t status_count = statuses.size() + 1;

std::size_t method_index(verb m) {
  for (std::size_t i = 0; i < methods.size(); ++i) {
    if (methods[i] == m) return i;
  }
  return methods.size();
}

std::size_t status_index(unsigned s) {
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i] == s) return i;
  }
  return statuses.size();
}

const std::array<std::string, 3> request_labels = {"route", "method", "status"};
const std::array<std::string, 1> route_label = {"route"};

}  // namespace

struct RequestMetrics::Slot {
  std::atomic<bool> ready{false};
  metrics::Counter counter;  // written once, before `ready`
};

RequestMetrics::RequestMetrics(metrics::Registry& registry, std::vector<std::string> routes, bool access_log)
    : registry_(registry), routes_(std::move(routes)), access_log_(access_log) {
  routes_.emplace_back("static");
  routes_.emplace_back("unmatched");
  for (const auto& r : routes_) {
    durations_.push_back(registry_.histogram("cachelab_http_request_duration_seconds",
                                             "Time from a request's parsed head to its answer, by route.",
                                             metrics::latency_buckets(), route_label, {r}));
  }
  slots_ = std::make_unique<Slot[]>(routes_.size() * method_count * status_count);
}

RequestMetrics::~RequestMetrics() = default;

void RequestMetrics::record(const Answered& a) {
  const auto route = a.route < routes_.size() ? a.route : unmatched();
  const auto method = a.request.method();
  const auto status = a.response.result_int();
  const auto took = a.took;
  durations_[route].observe(took);
  const auto m = method_index(method);
  const auto s = status_index(status);
  Slot& slot = slots_[(route * method_count + m) * status_count + s];
  if (!slot.ready.load(std::memory_order_acquire)) {
    const std::lock_guard lock(declaring_);
    if (!slot.ready.load(std::memory_order_relaxed)) {
      const std::string method_name =
          m < methods.size() ? std::string(boost::beast::http::to_string(method)) : "other";
      const std::string status_name = s < statuses.size() ? std::to_string(status) : "other";
      slot.counter = registry_.counter("cachelab_http_requests_total", "Requests answered, by route.",
                                       request_labels, {routes_[route], method_name, status_name});
      slot.ready.store(true, std::memory_order_release);
    }
  }
  slot.counter.inc();
  if (access_log_) {
    const auto cache = a.response["X-Cache"];
    spdlog::info("event=access route={} method={} target={} status={} bytes={} ms={:.3f} cache={} peer={}",
                 log_quote(routes_[route]), a.request.method_string(), log_quote(a.request.target()), status,
                 a.response.body().size(), std::chrono::duration<double, std::milli>(took).count(),
                 cache.empty() ? std::string_view("-") : std::string_view(cache), log_quote(a.peer));
  }
}

}  // namespace cachelab::api

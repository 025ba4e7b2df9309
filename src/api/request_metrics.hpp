// api/request_metrics: what every answered request adds to /metrics — cachelab_http_requests_total{route,
// method,status} and cachelab_http_request_duration_seconds{route} — and, with --access-log, its access log
// line (route, method, target, status, bytes, duration, cache outcome, peer; the request id comes with every
// line written while a request is served). Owns the route labels (the endpoint
// table's patterns, plus "static" for the dashboard's files and "unmatched" for requests no route took: 400,
// 404, 405 and OPTIONS), so a label can never be a client's raw path. Never decides an answer.
// One instance for the process, shared by every thread's router; a (route, method, status) series is
// declared the first time it happens (under a lock, once), and recorded without one after that.
#pragma once

#include "core/metrics.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::api {

class RequestMetrics {
 public:
  // `routes`: the label of each route, by the router's index.
  RequestMetrics(metrics::Registry& registry, std::vector<std::string> routes, bool access_log = false);
  ~RequestMetrics();

  std::size_t static_files() const { return routes_.size() - 2; }
  std::size_t unmatched() const { return routes_.size() - 1; }

  struct Answered {
    std::size_t route;  // an index of the routes given, static_files() or unmatched()
    const boost::beast::http::request<boost::beast::http::string_body>& request;
    const boost::beast::http::response<boost::beast::http::string_body>& response;
    std::string_view peer;
    std::chrono::nanoseconds took;
  };
  void record(const Answered& a);

 private:
  struct Slot;
  metrics::Registry& registry_;
  std::vector<std::string> routes_;  // the given ones, then "static" and "unmatched"
  std::vector<metrics::Histogram> durations_;
  std::unique_ptr<Slot[]> slots_;  // [route][method][status]
  std::mutex declaring_;
  const bool access_log_;
};

}  // namespace cachelab::api

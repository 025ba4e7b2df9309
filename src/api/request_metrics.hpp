// api/request_metrics: what every answered request adds to /metrics — cachelab_http_requests_total{route,
// method,status} and cachelab_http_request_duration_seconds{route}. Owns the route labels (the endpoint
// table's patterns, plus "static" for the dashboard's files and "unmatched" for requests no route took: 400,
// 404, 405 and OPTIONS), so a label can never be a client's raw path. Never decides an answer.
// One instance for the process, shared by every thread's router; a (route, method, status) series is
// declared the first time it happens (under a lock, once), and recorded without one after that.
#pragma once

#include "core/metrics.hpp"

#include <boost/beast/http/verb.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace cachelab::api {

class RequestMetrics {
 public:
  // `routes`: the label of each route, by the router's index.
  RequestMetrics(metrics::Registry& registry, std::vector<std::string> routes);
  ~RequestMetrics();

  std::size_t static_files() const { return routes_.size() - 2; }
  std::size_t unmatched() const { return routes_.size() - 1; }

  void record(std::size_t route, boost::beast::http::verb method, unsigned status,
              std::chrono::nanoseconds took);

 private:
  struct Slot;
  metrics::Registry& registry_;
  std::vector<std::string> routes_;  // the given ones, then "static" and "unmatched"
  std::vector<metrics::Histogram> durations_;
  std::unique_ptr<Slot[]> slots_;  // [route][method][status]
  std::mutex declaring_;
};

}  // namespace cachelab::api

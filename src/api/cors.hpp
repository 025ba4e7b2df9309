// api/cors: Cross-Origin Resource Sharing, so a frontend served from another origin (the seeds' pages on
// http://localhost:3000) can read the API's answers from the browser.
// Owns which origins may read answers and the CORS headers that say so. Never decides what a request may do:
// a request from an origin that is not allowed is still served as before, it just gets no CORS headers (the
// browser then hides the answer from that page). Never combines `*` with credentials: the API uses no
// cookies, and its bearer token travels in `Authorization`, which a preflight allows by name.
#pragma once

#include <boost/beast/http.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::api {

namespace http = boost::beast::http;

class CorsPolicy {
 public:
  // The headers an API request may carry and the answer headers a page may read.
  static constexpr std::string_view allow_headers = "Content-Type, Authorization";
  static constexpr std::string_view expose_headers = "X-Cache, Cache-Status, Server-Timing";
  static constexpr int max_age_seconds = 600;

  CorsPolicy() = default;  // off: no CORS header is ever sent
  // `origins`: {"*"} for any origin, or exact origins such as "http://localhost:3000" (compared without
  // regard to case). Check them first with problem_with().
  explicit CorsPolicy(std::vector<std::string> origins);

  // Empty when `origins` is usable as a configuration, else what is wrong with it.
  static std::string problem_with(const std::vector<std::string>& origins);

  bool enabled() const { return any_ || !origins_.empty(); }
  // Access-Control-Allow-Origin's value for a request from `origin` ("*" or the origin), or nothing.
  std::optional<std::string> allowed(std::string_view origin) const;

  // Adds Access-Control-Allow-Origin and -Expose-Headers to an answer for `origin` when it may read it,
  // and Vary: Origin whenever the answer depends on the origin (with a list of origins), so that shared
  // caches keep the variants apart.
  template <class Body>
  void decorate(http::response<Body>& res, std::string_view origin) const {
    if (!enabled()) return;
    if (!any_) add_vary(res, "Origin");
    auto value = allowed(origin);
    if (!value) return;
    res.set(http::field::access_control_allow_origin, *value);
    // Preflights expose nothing: only answers a page reads carry Expose-Headers.
    if (res.count(http::field::access_control_allow_methods) == 0) {
      res.set(http::field::access_control_expose_headers, expose_headers);
    }
  }

  // What the answer to a preflight (OPTIONS with Access-Control-Request-Method) adds to decorate()'s
  // headers when the origin is allowed: the methods (`methods`, from the endpoint table), the request
  // headers, and how long the browser may remember the answer.
  template <class Body>
  void preflight(http::response<Body>& res, std::string_view origin, std::string_view methods) const {
    if (!allowed(origin)) return;
    res.set(http::field::access_control_allow_methods, methods);
    res.set(http::field::access_control_allow_headers, allow_headers);
    res.set(http::field::access_control_max_age, std::to_string(max_age_seconds));
    add_vary(res, "Access-Control-Request-Method, Access-Control-Request-Headers");
  }

 private:
  template <class Body>
  static void add_vary(http::response<Body>& res, std::string_view what) {
    auto vary = std::string(res[http::field::vary]);
    res.set(http::field::vary, vary.empty() ? std::string(what) : vary + ", " + std::string(what));
  }

  bool any_ = false;
  std::vector<std::string> origins_;  // lower case
};

// True when a request's Origin is the server's own, judged by the Host it was sent to ("http://host:port").
bool same_origin(std::string_view origin, std::string_view host);

}  // namespace cachelab::api

// api/router: the endpoint table (method + path pattern → handler) and dispatch.
// Owns routing only: telling 404 (no such path) from 405 (path exists, method does not, with Allow), HEAD as
// GET for every GET route, and
// a malformed target from both (400); answering OPTIONS for every path from the table (204 with Allow, and
// the CORS preflight when the origin may ask); adding the CORS headers to every answer (api/cors); counting
// and timing every answer by route (api/request_metrics).
// Never parses parameters or talks to the service.
// `{name}` in a pattern matches one non-empty path segment and is handed to the handler by name.
#pragma once

#include "api/cors.hpp"
#include "api/errors.hpp"
#include "api/request_metrics.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/url/url_view.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachelab::api {

// Who is calling, as the transport saw it.
struct Caller {
  std::string address;
  bool loopback = false;
};

// A body written over time (server-sent events), the same type as http::BodyStream: a handler that fills
// RequestContext::stream gets, after its head went out, a `send` that writes one chunk and says whether the
// client is still there.
using Send = std::function<boost::asio::awaitable<bool>(std::string)>;
using BodyStream = std::function<boost::asio::awaitable<void>(Send)>;

// A `{name}` segment of the matched pattern and the request's (percent-decoded) value for it.
struct PathParam {
  std::string_view name;  // points into the route's pattern
  std::string value;
};

struct RequestContext {
  const Request& request;
  const Caller& caller;
  boost::urls::url_view url;
  std::vector<PathParam> path_params;
  BodyStream* stream =
      nullptr;  // where a streaming handler puts its body; null when the transport cannot stream

  std::string_view path_param(std::string_view name) const;
};

using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;

struct Route {
  http::verb method;
  std::string pattern;  // e.g. "/products/{id}"
  std::string summary;  // one line for the index and the README
  Handler handler;
  std::vector<std::string> parts;  // the pattern's segments, split once: {"products", "{id}"}
};

class Router {
 public:
  void add(http::verb method, std::string pattern, std::string summary, Handler handler);
  boost::asio::awaitable<Response> dispatch(const Request& request, Caller caller = {"127.0.0.1", true},
                                            BodyStream* stream = nullptr) const;
  const std::vector<Route>& routes() const { return routes_; }
  void set_cors(CorsPolicy cors) { cors_ = std::move(cors); }
  // Where every dispatched request is counted and timed, by the index of its route in routes() (null: not).
  void set_metrics(std::shared_ptr<RequestMetrics> metrics) { metrics_ = std::move(metrics); }
  const CorsPolicy& cors() const { return cors_; }

 private:
  // The route for `ctx`'s request, its path parameters filled in; or nullptr with the answer in `refusal`
  // (400, 404, 405, or the 204 to OPTIONS).
  const Route* find(RequestContext& ctx, Response& refusal) const;
  std::vector<Route> routes_;
  std::size_t max_parts_ = 0;
  CorsPolicy cors_;
  std::shared_ptr<RequestMetrics> metrics_;
};

}  // namespace cachelab::api

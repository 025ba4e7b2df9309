#include "api/router.hpp"

#include <boost/url/decode_view.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <chrono>

namespace cachelab::api {

std::string_view RequestContext::path_param(std::string_view name) const {
  for (const auto& p : path_params) {
    if (p.name == name) return p.value;
  }
  return {};
}

void Router::add(http::verb method, std::string pattern, std::string summary, Handler handler) {
  Route route{method, std::move(pattern), std::move(summary), std::move(handler), {}};
  std::string_view rest = route.pattern;
  if (rest.starts_with('/')) rest.remove_prefix(1);
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    route.parts.emplace_back(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  }
  max_parts_ = std::max(max_parts_, route.parts.size());
  routes_.push_back(std::move(route));
}

namespace {

constexpr std::size_t max_segments = 16;

// The request path's segments, still percent-encoded; at most max_segments (a longer path matches no route).
struct Segments {
  std::array<boost::urls::pct_string_view, max_segments> at;
  std::size_t size = 0;
  bool too_many = false;
};

bool is_param(std::string_view part) {
  return part.size() > 2 && part.front() == '{' && part.back() == '}';
}

// True when `route`'s pattern matches `segments` (a literal part equal to its decoded segment, a `{name}`
// part to any non-empty one).
bool matches(const Route& route, const Segments& segments) {
  if (route.parts.size() != segments.size) return false;
  for (std::size_t i = 0; i < segments.size; ++i) {
    const std::string_view part = route.parts[i];
    if (is_param(part) ? segments.at[i].empty() : *segments.at[i] != part) return false;
  }
  return true;
}

// The `{name}` values of a route that matches, decoded.
void fill_params(const Route& route, const Segments& segments, std::vector<PathParam>& params) {
  params.clear();
  for (std::size_t i = 0; i < segments.size; ++i) {
    const std::string_view part = route.parts[i];
    if (is_param(part)) params.push_back(PathParam{part.substr(1, part.size() - 2), segments.at[i].decode()});
  }
}

}  // namespace

boost::asio::awaitable<Response> Router::dispatch(const Request& request, Caller caller,
                                                  BodyStream* stream) const {
  const auto started = metrics_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  auto target = boost::urls::parse_origin_form(request.target());
  Response res;
  std::size_t index = routes_.size();  // none
  if (!target) {
    res =
        error_response(http::status::bad_request, "invalid_target", "the request target is not a valid URL");
  } else {
    RequestContext ctx{request, caller, *target, {}, stream};
    if (const Route* route = find(ctx, res)) {
      index = static_cast<std::size_t>(route - routes_.data());
      res = co_await route->handler(ctx);
    }
  }
  cors_.decorate(res, request[http::field::origin]);
  if (metrics_) {
    metrics_->record({index < routes_.size() ? index : metrics_->unmatched(), request, res, caller.address,
                      std::chrono::steady_clock::now() - started});
  }
  co_return res;
}

const Route* Router::find(RequestContext& ctx, Response& refusal) const {
  const Request& request = ctx.request;
  Segments segments;
  for (auto s : ctx.url.encoded_segments()) {
    if (segments.size == max_segments) {
      segments.too_many = true;
      break;
    }
    segments.at[segments.size++] = s;
  }
  if (segments.size == 1 && segments.at[0].empty()) segments.size = 0;  // "/"

  // HEAD is GET without the body (RFC 9110 §9.3.2) for every GET route: the GET handler answers, and the
  // transport sends only the head.
  const auto method = request.method() == http::verb::head ? http::verb::get : request.method();
  std::string allow;
  if (!segments.too_many && segments.size <= max_parts_) {
    for (const auto& route : routes_) {
      if (!matches(route, segments)) continue;
      if (route.method == method) {
        fill_params(route, segments, ctx.path_params);
        return &route;
      }
      if (!allow.empty()) allow += ", ";
      allow += http::to_string(route.method);
      if (route.method == http::verb::get) allow += ", HEAD";
    }
  }
  if (!allow.empty() && request.method() == http::verb::options) {
    // What this path accepts; for a browser's CORS preflight, also whether its page may send it (api/cors).
    refusal = Response{http::status::no_content, request.version()};
    refusal.set(http::field::allow, allow + ", OPTIONS");
    if (!request[http::field::access_control_request_method].empty()) {
      cors_.preflight(refusal, request[http::field::origin], allow);
    }
    return nullptr;
  }
  if (!allow.empty()) {
    allow += ", OPTIONS";
    refusal = error_response(
        http::status::method_not_allowed, "method_not_allowed",
        "this path does not accept " + std::string(request.method_string()) + "; allowed: " + allow);
    refusal.set(http::field::allow, allow);
    return nullptr;
  }
  refusal = error_response(http::status::not_found, "not_found", "no such endpoint");
  return nullptr;
}

}  // namespace cachelab::api

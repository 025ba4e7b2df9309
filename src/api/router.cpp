#include "api/router.hpp"

#include <boost/url/parse.hpp>

namespace cachelab::api {

std::string_view RequestContext::path_param(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return {};
}

void Router::add(http::verb method, std::string pattern, std::string summary, Handler handler) {
  routes_.push_back(Route{method, std::move(pattern), std::move(summary), std::move(handler)});
}

bool match_pattern(std::string_view pattern, const std::vector<std::string>& segments,
                   std::vector<std::pair<std::string, std::string>>* params) {
  std::size_t i = 0;
  if (!pattern.empty() && pattern.front() == '/') pattern.remove_prefix(1);
  while (!pattern.empty() || i < segments.size()) {
    if (pattern.empty() || i >= segments.size()) return false;
    auto slash = pattern.find('/');
    auto part = pattern.substr(0, slash);
    pattern = slash == std::string_view::npos ? std::string_view{} : pattern.substr(slash + 1);
    const auto& seg = segments[i++];
    if (part.size() > 2 && part.front() == '{' && part.back() == '}') {
      if (seg.empty()) return false;
      if (params) params->emplace_back(std::string(part.substr(1, part.size() - 2)), seg);
    } else if (part != seg) {
      return false;
    }
  }
  return true;
}

boost::asio::awaitable<Response> Router::dispatch(const Request& request, Caller caller,
                                                  BodyStream* stream) const {
  auto res = co_await route(request, caller, stream);
  cors_.decorate(res, request[http::field::origin]);
  co_return res;
}

boost::asio::awaitable<Response> Router::route(const Request& request, const Caller& caller,
                                               BodyStream* stream) const {
  auto target = boost::urls::parse_origin_form(request.target());
  if (!target) {
    co_return error_response(http::status::bad_request, "invalid_target",
                             "the request target is not a valid URL");
  }
  std::vector<std::string> segments;
  for (auto s : target->segments()) segments.push_back(s);
  if (segments.size() == 1 && segments[0].empty()) segments.clear();  // "/"

  // HEAD is GET without the body (RFC 9110 §9.3.2) for every GET route: the GET handler answers, and the
  // transport sends only the head.
  const auto method = request.method() == http::verb::head ? http::verb::get : request.method();
  std::string allow;
  for (const auto& route : routes_) {
    RequestContext ctx{request, caller, *target, {}, stream};
    if (!match_pattern(route.pattern, segments, &ctx.path_params)) continue;
    if (route.method == method) co_return co_await route.handler(ctx);
    if (!allow.empty()) allow += ", ";
    allow += std::string(http::to_string(route.method));
    if (route.method == http::verb::get) allow += ", HEAD";
  }
  if (!allow.empty() && request.method() == http::verb::options) {
    // What this path accepts; for a browser's CORS preflight, also whether its page may send it (api/cors).
    Response res{http::status::no_content, request.version()};
    res.set(http::field::allow, allow + ", OPTIONS");
    if (!request[http::field::access_control_request_method].empty()) {
      cors_.preflight(res, request[http::field::origin], allow);
    }
    co_return res;
  }
  if (!allow.empty()) {
    allow += ", OPTIONS";
    auto res = error_response(
        http::status::method_not_allowed, "method_not_allowed",
        "this path does not accept " + std::string(request.method_string()) + "; allowed: " + allow);
    res.set(http::field::allow, allow);
    co_return res;
  }
  co_return error_response(http::status::not_found, "not_found", "no such endpoint");
}

}  // namespace cachelab::api

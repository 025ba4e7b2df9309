#include "api/openapi.hpp"

#include "api/api.hpp"
#include "api/handlers.hpp"

#include <boost/json.hpp>

#include <set>

namespace cachelab::api {

extern const std::string_view openapi_routes_json;  // generated from src/api/openapi/routes.json

namespace {

namespace json = boost::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// "GET /products/{id}" -> "get_products_id"
std::string operation_id(std::string_view method, std::string_view path) {
  std::string out = lower(method);
  for (char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out += c;
    } else if (c == '/' || c == '-') {
      if (out.back() != '_') out += '_';
    }
  }
  while (out.back() == '_') out.pop_back();
  return out;
}

json::object error_answer(std::string_view status) {
  const auto code = static_cast<unsigned>(std::stoi(std::string(status)));
  json::object media;
  media["schema"] = json::object{{"$ref", "#/components/schemas/Error"}};
  return json::object{{"description", std::string(http::obsolete_reason(http::int_to_status(code))) +
                                          ": {\"error\": {\"code\", \"message\"}} (see api/errors)"},
                      {"content", json::object{{"application/json", std::move(media)}}}};
}

json::object answer(const json::object& doc) {
  json::object media;
  std::string type = "application/json";
  if (const auto* text = doc.if_contains("text")) {
    type = text->as_string();
    media["schema"] = json::object{{"type", "string"}};
  } else {
    media["schema"] = doc.at("schema");
  }
  if (const auto* example = doc.if_contains("example")) media["example"] = *example;
  return json::object{{"description", doc.at("description")},
                      {"content", json::object{{type, std::move(media)}}}};
}

struct Built {
  std::string document;
  std::vector<std::string> problems;
};

Built build() {
  Built out;
  auto source = json::parse(openapi_routes_json).as_object();
  const auto& operations = source.at("operations").as_object();
  json::object paths;
  std::set<std::string> served;
  for (const auto& e : endpoints()) {
    const std::string method(http::to_string(e.method));
    const std::string key = method + " " + std::string(e.path);
    served.insert(key);
    json::object op{{"operationId", operation_id(method, e.path)}, {"summary", e.summary}};
    const auto* doc = operations.if_contains(key);
    if (!doc || !doc->is_object() || !doc->as_object().contains("description") ||
        !doc->as_object().contains("responses")) {
      out.problems.push_back(key + " is served but has no description and answers in routes.json");
    } else {
      const auto& d = doc->as_object();
      op["description"] = d.at("description");
      if (const auto* params = d.if_contains("parameters")) op["parameters"] = *params;
      if (const auto* body = d.if_contains("requestBody")) {
        op["requestBody"] =
            json::object{{"required", true},
                         {"content", json::object{{"application/json", json::object{{"schema", *body}}}}}};
      }
      json::object responses;
      for (const auto& [status, r] : d.at("responses").as_object()) {
        responses[status] = r.is_string() ? error_answer(status) : answer(r.as_object());
      }
      op["responses"] = std::move(responses);
      if (const auto* target = d.if_contains("try")) op["x-try"] = *target;
    }
    if (e.access == Access::admin) {
      op["security"] = json::array{json::object{{"bearer", json::array{}}}};
      op["x-access"] = "admin";
    }
    auto& item = paths[e.path];
    if (!item.is_object()) item = json::object{};
    item.as_object()[lower(method)] = std::move(op);
  }
  for (const auto& [key, doc] : operations) {
    if (!served.contains(std::string(key))) {
      out.problems.push_back(std::string(key) + " is documented in routes.json but not served");
    }
  }
  json::object document{
      {"openapi", "3.1.0"},
      {"info",
       json::object{
           {"title", "cachelab"},
           {"version", CACHELAB_VERSION},
           {"summary", "The Redis cache-aside pattern in front of PostgreSQL, shown and measured"},
           {"description",
            "Every read says where it came from (source, X-Cache, Cache-Status) and how long it took; "
            "every answer carries X-Request-Id and traceparent. Admin endpoints need "
            "Authorization: Bearer <ADMIN_TOKEN>, or a loopback client when no token is set."},
           {"license", json::object{{"name", "Apache-2.0"}, {"identifier", "Apache-2.0"}}}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"paths", std::move(paths)},
      {"components", source.at("components")}};
  out.document = json::serialize(document);
  return out;
}

const Built& built() {
  static const Built b = build();
  return b;
}

}  // namespace

const std::string& openapi_document() {
  return built().document;
}

std::vector<std::string> openapi_problems() {
  return built().problems;
}

boost::asio::awaitable<Response> openapi(const Api&, RequestContext&) {
  auto res = json_response(http::status::ok, openapi_document());
  res.set(http::field::cache_control, "no-cache");
  co_return res;
}

}  // namespace cachelab::api

#include "api/errors.hpp"
#include "core/log.hpp"

#include "core/json_writer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace cachelab::api {

namespace {
// One failing backend fails every request that needs it: a few records a second say so, with how many were
// held back (a PostgreSQL restart once wrote 4,148 warnings in 0.4 s).
LogLimiter unavailable_log(5), timeout_log(5), internal_log(5);
}  // namespace

Response json_response(http::status status, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = std::move(body);
  return res;
}

Response error_response(http::status status, std::string_view code, std::string_view message) {
  std::string body;
  JsonWriter w(body);
  w.begin_object()
      .key("error")
      .begin_object()
      .field("code", code)
      .field("message", message)
      .end_object()
      .field("detail", message)
      .end_object();
  return json_response(status, std::move(body));
}

Response error_response(const Error& e) {
  const std::string_view backend = e.backend == Backend::cache ? "cache" : "database";
  switch (e.kind) {
    case ErrorKind::invalid_argument:
      return error_response(http::status::bad_request, e.code.empty() ? "invalid_argument" : e.code,
                            e.message);
    case ErrorKind::not_found:
      return error_response(http::status::not_found, "not_found", e.message);
    case ErrorKind::conflict:
      return error_response(http::status::conflict, e.code.empty() ? "conflict" : e.code, e.message);
    case ErrorKind::unavailable:
      if (auto suppressed = unavailable_log.admit()) {
        spdlog::warn("event=backend_unavailable backend={} detail={} suppressed={}", backend,
                     log_quote(e.message), *suppressed);
      }
      return error_response(http::status::service_unavailable, fmt::format("{}_unavailable", backend),
                            fmt::format("the {} is unavailable; try again shortly", backend));
    case ErrorKind::timeout:
      if (auto suppressed = timeout_log.admit()) {
        spdlog::warn("event=backend_timeout backend={} detail={} suppressed={}", backend,
                     log_quote(e.message), *suppressed);
      }
      return error_response(http::status::service_unavailable, fmt::format("{}_timeout", backend),
                            fmt::format("the {} did not answer in time; try again shortly", backend));
    case ErrorKind::internal:
      break;
  }
  if (auto suppressed = internal_log.admit()) {
    spdlog::error("event=internal_error detail={} suppressed={}", log_quote(e.message), *suppressed);
  }
  return error_response(http::status::internal_server_error, "internal_error", "internal error");
}

}  // namespace cachelab::api

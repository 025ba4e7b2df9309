// api/errors: the one place where failures become HTTP statuses and error bodies.
// Owns the error shape clients see: {"error": {"code", "message"}, "detail": message}. Never shows internals:
// a 500 says "internal error", and the detail goes to the log only.
#pragma once

#include "core/error.hpp"

#include <boost/beast/http.hpp>

#include <string_view>

namespace cachelab::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A JSON response with the given status and body.
Response json_response(http::status status, std::string body);

// {"error": {"code": code, "message": message}, "detail": message} with `status`: `detail` repeats the
// message at the top level, where clients written for FastAPI (the seeds' pages) read it.
Response error_response(http::status status, std::string_view code, std::string_view message);

// Maps any failure: bad input → 400 with its code; not found → 404; a conflict with the current state → 409
// with its code; a backend unavailable or too slow → 503
// `database_unavailable`, `cache_timeout`, … (the backend named by the error itself); anything else → 500.
Response error_response(const Error& e);

}  // namespace cachelab::api

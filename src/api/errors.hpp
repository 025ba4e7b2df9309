// api/errors: the one place where failures become HTTP statuses and {"error": {"code", "message"}} bodies.
// Owns the error vocabulary clients see. Never shows internals: a 500 says "internal error", and the
// detail goes to the log only.
#pragma once

#include "api/params.hpp"
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

// A parameter or body that failed validation: 400 with the ParamError's code and message.
Response error_response(const ParamError& e);

// Maps a service failure. `backend` names what failed for unavailable/timeout ("database" or "cache").
Response error_response(const Error& e, std::string_view backend = "database");

}  // namespace cachelab::api

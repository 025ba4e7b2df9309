// api/openapi: the OpenAPI 3.1 description of this API, served at GET /openapi.json. Generated from the
// endpoint table (api/routes.cpp: every path, method, summary and who may call it) merged with each route's
// documentation in src/api/openapi/routes.json (description, parameters, body, answers with their schemas,
// and a request a client can try), so the document lists exactly the routes the server serves. Never invents
// a route: one documented but not served, or served but not documented, is a problem (below), which the unit
// tests fail on.
#pragma once

#include <string>
#include <vector>

namespace cachelab::api {

// The document, built once.
const std::string& openapi_document();

// Routes the table serves without documentation, or documentation for routes the table does not serve.
std::vector<std::string> openapi_problems();

}  // namespace cachelab::api

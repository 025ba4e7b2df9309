// http/static_files: answers GET and HEAD for a fixed set of files held in memory (the dashboard's built
// assets, compiled into the binary), with ETag / If-None-Match revalidation, a gzip variant when the client
// accepts it, long-lived caching for content-hashed names and security headers for HTML.
// Never touches the file system and knows nothing of what the files are: the caller supplies the table.
// Fails closed: a path not in the table is not answered here (serve() returns nullopt) so the caller's own
// handler decides; a method other than GET/HEAD on one of our paths is a 405 rendered by `on_error`.
#pragma once

#include "http/server.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cachelab::http {

struct StaticFile {
  std::string_view path;          // request path it answers, e.g. "/" or "/assets/app-4F2A9C.js"
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;
  std::string_view gzip_body;  // the same bytes gzip-compressed; empty when compression would not pay
  std::string_view etag;       // strong validator, quoted: "\"4f2a9c…\""
  bool immutable = false;      // the name carries a content hash: clients may keep it for a year
};

struct StaticFilesOptions {
  // Sent with every text/html answer; the rest of the policy (nosniff, Referrer-Policy) is fixed.
  std::string content_security_policy =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  ErrorResponder on_error;  // renders the 405 for a wrong method
};

class StaticFiles {
 public:
  StaticFiles(std::span<const StaticFile> files, StaticFilesOptions options);

  // The answer for `request` when its path is one of ours; nullopt otherwise.
  std::optional<Response> serve(const Request& request) const;

  std::span<const StaticFile> files() const { return files_; }

 private:
  const StaticFile* find(std::string_view path) const;
  std::span<const StaticFile> files_;
  StaticFilesOptions options_;
};

// True when an Accept-Encoding value admits gzip (a "gzip" token whose q is not 0). Exposed for tests.
bool accepts_gzip(std::string_view accept_encoding);

// True when an If-None-Match value matches `etag` (a list of quoted tags, weak or strong, or "*").
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace cachelab::http

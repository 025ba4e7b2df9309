#include "http/static_files.hpp"
#include "core/text.hpp"

#include <boost/beast/core/string.hpp>

namespace cachelab::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(item) for each comma-separated, trimmed, non-empty item of a header value.
template <typename Fn>
void for_each_item(std::string_view list, Fn fn) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = trim(list.substr(0, comma));
    if (!item.empty() && fn(item)) return;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  bool yes = false;
  for_each_item(accept_encoding, [&](std::string_view item) {
    const auto semi = item.find(';');
    if (!iequals_ascii(trim(item.substr(0, semi)), "gzip")) return false;
    yes = true;
    if (semi != std::string_view::npos) {
      // "gzip;q=0" (or 0.0, 0.000) refuses it.
      auto param = trim(item.substr(semi + 1));
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        param.remove_prefix(2);
        yes = param.find_first_not_of("0.") != std::string_view::npos;
      }
    }
    return true;
  });
  return yes;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  bool match = false;
  for_each_item(if_none_match, [&](std::string_view tag) {
    if (tag == "*") return match = true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);  // If-None-Match compares weakly
    return match = (tag == etag);
  });
  return match;
}

StaticFiles::StaticFiles(std::span<const StaticFile> files, StaticFilesOptions options)
    : files_(files), options_(std::move(options)) {}

const StaticFile* StaticFiles::find(std::string_view path) const {
  for (const auto& f : files_) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::optional<Response> StaticFiles::serve(const Request& request) const {
  std::string_view path = request.target();
  path = path.substr(0, path.find_first_of("?#"));
  const StaticFile* file = find(path);
  if (!file) return std::nullopt;

  const auto method = request.method();
  if (method != beast_http::verb::get && method != beast_http::verb::head) {
    Response res = options_.on_error
                       ? options_.on_error(beast_http::status::method_not_allowed, "method_not_allowed",
                                           "this path answers GET and HEAD")
                       : Response{beast_http::status::method_not_allowed, request.version()};
    res.set(beast_http::field::allow, "GET, HEAD");
    return res;
  }

  const bool gzip = !file->gzip_body.empty() && accepts_gzip(request[beast_http::field::accept_encoding]);
  Response res{beast_http::status::ok, request.version()};
  res.set(beast_http::field::etag, file->etag);
  res.set(beast_http::field::cache_control,
          file->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (!file->gzip_body.empty()) res.set(beast_http::field::vary, "Accept-Encoding");
  res.set("X-Content-Type-Options", "nosniff");
  if (file->content_type.starts_with("text/html")) {
    res.set("Content-Security-Policy", options_.content_security_policy);
    res.set("Referrer-Policy", "no-referrer");
  }
  if (etag_matches(request[beast_http::field::if_none_match], file->etag)) {
    res.result(beast_http::status::not_modified);
    return res;
  }
  res.set(beast_http::field::content_type, file->content_type);
  if (gzip) res.set(beast_http::field::content_encoding, "gzip");
  // A HEAD answer keeps the GET's Content-Length; the server sends the head only.
  res.body() = gzip ? file->gzip_body : file->body;
  return res;
}

}  // namespace cachelab::http

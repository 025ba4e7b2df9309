// http/session: one connection's life, read → handle → write, until the client goes, a limit is hit, or
// the server drains. A template over the stream so tests drive it through an in-memory stream; the server
// instantiates it for http/timed_socket, which adds the read/write deadlines, the idle mark that drain() and
// shedding use, and a first write attempt that does not wait. Requests are parsed with Beast's parser from
// the connection's buffer; answers are rendered here, head and body written in one system call.
// Never lets a malformed or oversized request reach the handler: those get 400/413/431 from `on_error` and
// the connection closes. A handler exception becomes a 500 without details.
#pragma once

#include "core/log.hpp"
#include "core/text.hpp"
#include "http/message_io.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "http/trace_context.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>

#include <array>
#include <charconv>
#include <string>

namespace cachelab::http {

namespace beast = boost::beast;

// What a session needs from the server it belongs to.
struct SessionEnv {
  const ServerOptions& options;
  const Handler& handler;
  const std::atomic<bool>& draining;
  // Counts idle periods on this thread, so shedding can find the oldest idle connection (nullptr: none).
  std::uint64_t* idle_sequence = nullptr;
  // Where the request being served puts its id (its trace id) for the logs, and from which the answer's
  // traceparent and X-Request-Id come (nullptr: no trace context).
  RequestId* request_id = nullptr;
};

namespace detail {

template <class Stream>
void arm(Stream& stream, std::chrono::seconds timeout) {
  if constexpr (requires { stream.expires_after(timeout); }) stream.expires_after(timeout);
}

inline Response transport_error(const ServerOptions& o, beast_http::status s, std::string_view code,
                                std::string_view msg) {
  Response res = o.on_error ? o.on_error(s, code, msg) : Response{s, 11};
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

// The answer to a request that could not be read: nothing when the client simply went away (or idled out,
// or we are draining), else the error to send before closing.
inline std::optional<Response> read_failure(const ServerOptions& o, const boost::system::error_code& ec) {
  if (ec == beast_http::error::header_limit) {
    return transport_error(o, beast_http::status::request_header_fields_too_large, "header_too_large",
                           "request head exceeds " + std::to_string(o.max_header_bytes) + " bytes");
  }
  if (ec == beast_http::error::body_limit) {
    return transport_error(o, beast_http::status::payload_too_large, "body_too_large",
                           "request body exceeds " + std::to_string(o.max_body_bytes) + " bytes");
  }
  if (ec == beast_http::error::bad_version) {
    return transport_error(o, beast_http::status::http_version_not_supported, "http_version_not_supported",
                           "this server speaks HTTP/1.0 and HTTP/1.1");
  }
  if (ec == beast_http::error::bad_transfer_encoding) {
    return transport_error(o, beast_http::status::not_implemented, "unsupported_transfer_encoding",
                           "the only transfer coding accepted is chunked");
  }
  if (ec == beast_http::error::end_of_stream || ec == boost::asio::error::operation_aborted ||
      ec == beast::error::timeout || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::eof) {
    return std::nullopt;
  }
  return transport_error(o, beast_http::status::bad_request, "bad_request", "malformed HTTP request");
}

// The head with Transfer-Encoding: chunked, then every chunk the body stream sends, then the last chunk.
template <class Stream>
asio::awaitable<void> write_streamed(Stream& stream, Response& res, BodyStream& body, const SessionEnv& env) {
  beast_http::response<beast_http::empty_body> head{std::move(res.base())};
  head.chunked(true);
  head.keep_alive(false);
  boost::system::error_code ec;
  beast_http::response_serializer<beast_http::empty_body> serializer{head};
  arm(stream, env.options.write_timeout);
  co_await beast_http::async_write_header(stream, serializer, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  Send send = [&](std::string data) -> asio::awaitable<bool> {
    if (ec || env.draining.load(std::memory_order_relaxed)) co_return false;
    arm(stream, env.options.write_timeout);
    co_await asio::async_write(stream, beast_http::make_chunk(asio::buffer(data)),
                               asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  };
  co_await body(send);
  if (ec) co_return;
  arm(stream, env.options.write_timeout);
  co_await asio::async_write(stream, beast_http::make_chunk_last(),
                             asio::redirect_error(asio::use_awaitable, ec));
}

// True when the target starts as an http:// or https:// URL (any case), the absolute form of RFC 9112 §3.2.2.
inline bool absolute_form(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() && iequals_ascii(target.substr(0, scheme.size()), scheme)) return true;
  }
  return false;
}

// What RFC 9110/9112 ask of a request head beyond what the parser checks, or nothing when it is acceptable:
// the target is in origin form ("/path?q"), absolute form with an http(s) scheme, or "*" for OPTIONS (400,
// as nginx answers; this server is no proxy, so no authority form); HTTP/1.1 needs Host (400); a transfer
// coding other than chunked is not implemented (501); an expectation other than 100-continue cannot be met
// (417).
inline std::optional<Response> refuse_head(const ServerOptions& o, const Request& head) {
  const std::string_view target = head.target();
  const bool asterisk = target == "*" && head.method() == beast_http::verb::options;
  if (!asterisk && !target.starts_with('/') && !absolute_form(target)) {
    return transport_error(o, beast_http::status::bad_request, "invalid_target",
                           "the request target must be a path (/...), an http(s) URL, or * for OPTIONS");
  }
  if (head.version() >= 11 && head.find(beast_http::field::host) == head.end()) {
    return transport_error(o, beast_http::status::bad_request, "missing_host",
                           "an HTTP/1.1 request needs a Host header");
  }
  if (auto te = head[beast_http::field::transfer_encoding]; !te.empty() && !iequals_ascii(te, "chunked")) {
    return transport_error(o, beast_http::status::not_implemented, "unsupported_transfer_encoding",
                           "the only transfer coding accepted is chunked");
  }
  if (auto expect = head[beast_http::field::expect];
      !expect.empty() && !iequals_ascii(expect, "100-continue")) {
    return transport_error(o, beast_http::status::expectation_failed, "expectation_failed",
                           "the only expectation this server meets is 100-continue");
  }
  return std::nullopt;
}

// An absolute-form target ("http://host/path?q", RFC 9112 §3.2.2: a server must accept it) in origin form
// ("/path?q", a fragment dropped); the Host header is the authority when the request had none. Other targets
// (refuse_head let through only origin form and "*") are left alone.
inline void to_origin_form(Request& req) {
  const std::string_view target = req.target();
  if (!absolute_form(target)) return;
  const auto rest = target.substr(target.find("://") + 3);
  const auto end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, end);
  std::string origin = "/";
  if (end != std::string_view::npos && rest[end] != '#') {
    origin.append(rest.substr(rest[end] == '/' ? end + 1 : end));
  }
  if (req.find(beast_http::field::host) == req.end() && !authority.empty()) {
    req.set(beast_http::field::host, authority);
  }
  req.target(origin);
}

// The status line and fields of `res` as bytes, into `out` (cleared first; its capacity is reused), with
// Server and Content-Length added unless the response set them. `content_length` is the body's size (for
// HEAD, the GET's).
// `trace`: its traceparent and X-Request-Id headers are added (null: none).
inline void render_head(const Response& res, std::size_t content_length, std::string& out,
                        const Trace* trace = nullptr) {
  out.clear();
  out += res.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  const auto status = res.result_int();
  char number[24];
  auto end = std::to_chars(number, number + sizeof number, status).ptr;
  out.append(number, end);
  out += ' ';
  const std::string_view reason =
      res.reason().empty() ? beast_http::obsolete_reason(res.result()) : res.reason();
  out += reason;
  out += "\r\n";
  bool server = false, length = false;
  for (const auto& field : res) {
    server = server || field.name() == beast_http::field::server;
    length = length || field.name() == beast_http::field::content_length;
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  if (!server) out += "Server: cachelab\r\n";
  if (trace) trace->append_headers(out);
  if (!length && !(status < 200 || status == 204 || status == 304)) {
    out += "Content-Length: ";
    end = std::to_chars(number, number + sizeof number, content_length).ptr;
    out.append(number, end);
    out += "\r\n";
  }
  out += "\r\n";
}

// Writes head and body, in one system call when the socket takes them at once (see http/message_io).
template <class Stream>
asio::awaitable<void> write_answer(Stream& stream, std::string_view head, std::string_view body,
                                   const ServerOptions& o, boost::system::error_code& ec) {
  arm(stream, o.write_timeout);
  co_await write_all(stream, std::array<asio::const_buffer, 2>{asio::buffer(head), asio::buffer(body)}, ec);
}

}  // namespace detail

// `stream` and `peer` belong to the caller, which awaits the session to its end.
template <class Stream>
asio::awaitable<void> serve_session(Stream& stream, const Peer& peer, SessionEnv env) {
  const auto& o = env.options;
  beast::flat_buffer buffer;
  // The answer's status line and fields, rendered here (its capacity kept between requests).
  std::string head;
  boost::system::error_code ec;
  // Room for a request's first read: a typical request is 100 bytes to 1 KiB, and a larger one grows the
  // buffer (read_more). Kept by the connection for its whole life, so 1 KiB rather than a page: 64
  // connections hold 64 KiB, not 256.
  constexpr std::size_t first_read_bytes = 1024;
  bool first = true;  // the connection's first request
  while (!env.draining.load(std::memory_order_relaxed)) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
    parser.body_limit(o.max_body_bytes);

    if (buffer.size() == 0) {
      // Wait for the next request's first byte, marked idle so drain() and shedding may close us. A new
      // connection's deadline covers its whole first head (header_timeout); a kept-alive one may idle longer.
      if constexpr (requires { stream.idle(true, 0); }) {
        if (env.idle_sequence) stream.idle(true, ++*env.idle_sequence);
      }
      detail::arm(stream, first ? o.header_timeout : o.idle_timeout);
      const auto n = co_await stream.async_read_some(buffer.prepare(first_read_bytes),
                                                     asio::redirect_error(asio::use_awaitable, ec));
      buffer.commit(n);
      if constexpr (requires { stream.idle(false); }) stream.idle(false);
      if (ec) break;  // gone, idled out, drained or shed: nothing to answer
    }
    if (!first) detail::arm(stream, o.header_timeout);
    first = false;
    if (!parse_buffered(parser, buffer, false, ec)) {
      co_await read_more(stream, buffer, parser, false, ec);
    }
    if (!ec) {
      if (auto refused = detail::refuse_head(o, parser.get())) {
        detail::arm(stream, o.write_timeout);
        co_await beast_http::async_write(stream, *refused, asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
    }
    if (!ec && !parser.is_done()) {
      // The client waits for a go-ahead before sending its body (Expect: 100-continue): give it.
      if (iequals_ascii(parser.get()[beast_http::field::expect], "100-continue")) {
        static constexpr std::string_view go_ahead = "HTTP/1.1 100 Continue\r\n\r\n";
        detail::arm(stream, o.write_timeout);
        co_await asio::async_write(stream, asio::buffer(go_ahead),
                                   asio::redirect_error(asio::use_awaitable, ec));
      }
      detail::arm(stream, o.read_timeout);
      if (!ec) co_await read_more(stream, buffer, parser, true, ec);
    }
    if (ec) {
      if (auto res = detail::read_failure(o, ec)) {
        detail::arm(stream, o.write_timeout);
        co_await beast_http::async_write(stream, *res, asio::redirect_error(asio::use_awaitable, ec));
      }
      break;
    }

    Request req = parser.release();
    detail::to_origin_form(req);
    const auto started = std::chrono::steady_clock::now();
    Trace trace;
    if (env.request_id) {
      trace = trace_for(req["traceparent"]);
      env.request_id->set(trace.id());
    }
    Response res;
    BodyStream body_stream;
    bool from_file = false;
    try {
      if (auto file = o.static_files ? o.static_files->serve(req) : std::nullopt) {
        res = std::move(*file);
        from_file = true;
      } else {
        res = co_await env.handler(req, peer, body_stream);
      }
    } catch (const std::exception& e) {
      spdlog::error("event=handler_exception what={}", log_quote(e.what()));
      res = detail::transport_error(o, beast_http::status::internal_server_error, "internal_error",
                                    "internal error");
    }
    res.version(req.version());
    // Decided after the handler: a drain that began while it ran closes this connection after the answer.
    res.keep_alive(req.keep_alive() && res.keep_alive() && !env.draining.load(std::memory_order_relaxed));
    if (from_file && o.on_static_answer) {
      o.on_static_answer(req, res, peer, std::chrono::steady_clock::now() - started);
    }
    if (body_stream && req.method() != beast_http::verb::head) {
      res.set(beast_http::field::server, "cachelab");
      if (env.request_id) {
        res.set("traceparent", trace.traceparent());
        res.set("X-Request-Id", trace.id());
      }
      co_await detail::write_streamed(stream, res, body_stream, env);
      break;
    }
    // HEAD: the GET's head, Content-Length included, and no body.
    const std::string_view body =
        req.method() == beast_http::verb::head ? std::string_view{} : std::string_view{res.body()};
    detail::render_head(res, res.body().size(), head, env.request_id ? &trace : nullptr);
    co_await detail::write_answer(stream, head, body, o, ec);
    if (env.request_id) env.request_id->clear();  // between requests, nothing is logged as this one's
    if (ec || !res.keep_alive()) break;
  }
  if constexpr (requires { stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec); }) {
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  } else {
    stream.close();
  }
}

}  // namespace cachelab::http

// Fuzz target: the bytes a client sends on one connection, served by http/session as the server serves them
// (over Beast's in-memory stream), the handler answering every request it is given.
// Properties: no sanitizer report; the session ends when the input does (no hang); everything the server
// writes parses as a sequence of HTTP/1.1 responses; every request the handler saw got a final response; a
// handler never sees a request the transport must refuse (no Host on 1.1, a body past the limit).
#include "check.hpp"
#include "http/session.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

using cachelab::fuzz::check;
using namespace cachelab::http;

const ServerOptions& options() {
  static const ServerOptions o = [] {
    ServerOptions o;
    o.max_header_bytes = 1024;  // small limits, so that short inputs reach them
    o.max_body_bytes = 64;
    o.on_error = [](beast_http::status s, std::string_view code, std::string_view) {
      Response r{s, 11};
      r.body() = std::string(code);
      return r;
    };
    return o;
  }();
  return o;
}

// One input. Not the extern "C" function itself: GCC gives two coroutine lambdas inside an extern "C"
// function the same symbol (the corpus replay in the sanitizer build is compiled by GCC).
void one_input(const std::uint8_t* data, std::size_t size) {
  asio::io_context ctx;
  std::atomic<bool> draining{false};
  std::vector<beast_http::verb> seen;  // the methods the handler was given, in order
  Handler handler = [&](Request& req, const Peer&, BodyStream&) -> asio::awaitable<Response> {
    check(req.version() == 10 || req.find(beast_http::field::host) != req.end(), "1.1 request without Host");
    check(req.body().size() <= options().max_body_bytes, "body past the limit reached the handler");
    check(req.target().starts_with('/') || (req.target() == "*" && req.method() == beast_http::verb::options),
          "a target in neither origin form nor * reached the handler");
    seen.push_back(req.method());
    Response res{beast_http::status::ok, req.version()};
    res.body() = std::string(req.target());
    co_return res;
  };

  beast::test::stream server(ctx), client(ctx);
  server.connect(client);
  server.append(std::string_view(reinterpret_cast<const char*>(data), size));
  client.close();
  bool ended = false;
  asio::co_spawn(
      ctx,
      [&]() -> asio::awaitable<void> {
        // Named, not temporaries in the co_await: GCC 12 destroys such a temporary at an address it never
        // allocated (ASan: bad-free in ~Peer), clang does not.
        Peer peer{"127.0.0.1", true};
        SessionEnv env{options(), handler, draining};
        co_await serve_session(server, peer, env);
        ended = true;
      },
      asio::detached);
  ctx.run();
  check(ended, "the session did not end with its input");

  // The server's bytes, parsed as responses; a response to HEAD has no body.
  std::string_view out = client.str();
  std::size_t finals = 0;
  while (!out.empty()) {
    beast_http::response_parser<beast_http::string_body> parser;
    parser.eager(true);
    parser.body_limit(1 << 20);
    if (finals < seen.size() && seen[finals] == beast_http::verb::head) parser.skip(true);
    beast::error_code ec;
    std::size_t used = parser.put(asio::buffer(out.data(), out.size()), ec);
    if (!ec && !parser.is_done()) {
      parser.put_eof(ec);  // a body delimited by the connection's end
      used = out.size();
    }
    check(!ec && parser.is_done(), "the server wrote something that is not an HTTP response");
    if (parser.get().result_int() >= 200) ++finals;
    out.remove_prefix(used);
  }
  check(finals >= seen.size(), "a request the handler answered got no response");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  one_input(data, size);
  return 0;
}

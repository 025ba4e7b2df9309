// `cachelab healthcheck`: GET http://127.0.0.1:$PORT/health and exit 0 on a 200 — the container HEALTHCHECK,
// so the runtime image needs no curl. A command-line tool: blocking I/O is fine here.
#include "app/commands.hpp"

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace cachelab::app {

int run_healthcheck(const config::HealthcheckConfig& c) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  try {
    asio::io_context ctx;
    boost::beast::tcp_stream stream(ctx);
    stream.expires_after(std::chrono::seconds(c.timeout_seconds));
    asio::ip::tcp::resolver resolver(ctx);
    stream.connect(resolver.resolve(c.host, std::to_string(c.port)));
    http::request<http::empty_body> req{http::verb::get, c.path, 11};
    req.set(http::field::host, c.host);
    http::write(stream, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    if (res.result() != http::status::ok) {
      fmt::print(stderr, "unhealthy: {} answered {}\n", c.path, res.result_int());
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "unhealthy: {}\n", e.what());
    return 1;
  }
}

}  // namespace cachelab::app

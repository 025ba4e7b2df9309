// http/server: generic HTTP/1.1 transport on Boost.Beast and Asio coroutines. Knows nothing of the API.
// Owns the listening socket, one coroutine per connection (read → handle → write, keep-alive), the limits
// on header and body size, read/write timeouts, and draining on shutdown.
// Every request gets a W3C trace context (http/trace_context): its trace id is the request id that every log
// line written while serving it carries (http/request_executor) and that the answer's traceparent and
// X-Request-Id headers return.
// Never blocks, never lets a malformed or oversized request reach the handler: those get 400/413/431
// from `on_error` and the connection closes. A handler exception becomes a 500 without details.
// Threading: one io_context per I/O thread; one acceptor hands each connection to the next thread in turn,
// and the connection's whole life (and the handler for that thread) stays on that thread.
// Under connection pressure it sheds the oldest idle keep-alive connections, then answers 503 (see
// ServerOptions::max_connections); when the process runs out of descriptors it still accepts and refuses
// each new connection with a descriptor held in reserve, so clients are told rather than left in the backlog.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::http {

namespace asio = boost::asio;
namespace beast_http = boost::beast::http;
using Request = beast_http::request<beast_http::string_body>;
using Response = beast_http::response<beast_http::string_body>;
// Who sent the request, as the transport saw it (never from headers a client could forge).
struct Peer {
  std::string address;
  bool loopback = false;
};
// A body written over time, such as server-sent events. A handler that wants one fills the BodyStream it is
// given; after the head goes out (chunked), the stream is awaited with `send`, which writes one chunk and
// returns false once the client is gone or the server is draining. The body ends when the stream returns, and
// the connection closes after it.
using Send = std::function<asio::awaitable<bool>(std::string)>;
using BodyStream = std::function<asio::awaitable<void>(Send)>;
using Handler = std::function<asio::awaitable<Response>(Request&, const Peer&, BodyStream&)>;
using ErrorResponder =
    std::function<Response(beast_http::status, std::string_view code, std::string_view message)>;

class StaticFiles;  // http/static_files.hpp

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_body_bytes = 64 * 1024;
  // A keep-alive connection may wait this long for its next request's first byte.
  std::chrono::seconds idle_timeout{30};
  // A request head must be complete this long after its first byte; a new connection's first head, this long
  // after the connection opened (a client that connects and sends nothing is a slow client, not an idle one).
  std::chrono::seconds header_timeout{5};
  std::chrono::seconds read_timeout{15};  // a request's body, once the head is in
  std::chrono::seconds write_timeout{15};
  // Connections open at once (0: no limit). From 90% of it on, each new connection closes the oldest idle
  // keep-alive connection of its thread; past it, a new connection is answered 503 with Retry-After and
  // closed.
  std::size_t max_connections = 0;
  ErrorResponder on_error;  // renders transport-level errors (400, 413, 431, 500)
  // Files answered by the transport itself, before the handler sees the request (nullptr: none).
  std::shared_ptr<const StaticFiles> static_files;
  // Told of every answer from `static_files` (the handler's answers are the handler's to count and log), and
  // how long it took. Runs on the I/O thread; must not block.
  std::function<void(const Request&, const Response&, const Peer&, std::chrono::nanoseconds took)>
      on_static_answer;
};

class Server {
 public:
  // One handler per io_context, same order.
  Server(std::vector<asio::io_context*> contexts, std::vector<Handler> handlers, ServerOptions options);
  ~Server();

  // Binds and listens; returns the bound port (useful with port 0). Throws on failure to bind.
  std::uint16_t listen();
  // Starts accepting on the first context.
  void start();
  // Stops accepting and closes idle keep-alive connections; requests in flight finish, then close.
  void drain();
  // Destroys the listening socket; call after the event loops have stopped, before the contexts go.
  void close();
  // Connections still open, and the most allowed (ServerOptions::max_connections).
  std::size_t open_connections() const;
  std::size_t max_connections() const;
  // Connections closed to make room (idle ones shed) and refused (503 at the limit, or no descriptor left).
  std::int64_t shed_connections() const;
  std::int64_t refused_connections() const;

  struct State;  // shared with the connection coroutines

 private:
  asio::awaitable<void> accept_loop();
  std::shared_ptr<State> state_;
};

}  // namespace cachelab::http

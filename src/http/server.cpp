#include "http/server.hpp"

#include "http/static_files.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <list>
#include <optional>

namespace cachelab::http {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// Per-thread bookkeeping of idle connections, so drain() can close them. Touched only on its own thread.
struct Worker {
  asio::io_context* context;
  Handler handler;
  std::list<beast::tcp_stream*> idle;
};

struct Server::State {
  ServerOptions options;
  std::vector<Worker> workers;
  std::optional<tcp::acceptor> acceptor_storage;
  tcp::acceptor& acceptor;
  std::atomic<std::size_t> open{0};
  std::atomic<bool> draining{false};
  std::size_t next = 0;
  State(asio::io_context& first, ServerOptions o)
      : options(std::move(o)), acceptor_storage(std::in_place, first), acceptor(*acceptor_storage) {}
};

namespace {

Response transport_error(const ServerOptions& o, beast_http::status s, std::string_view code,
                         std::string_view msg) {
  Response res = o.on_error ? o.on_error(s, code, msg) : Response{s, 11};
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

bool is_timeout(const boost::system::error_code& ec) {
  return ec == beast::error::timeout;
}

asio::awaitable<void> session(std::shared_ptr<Server::State> state, Worker& worker, tcp::socket socket) {
  struct OpenGuard {
    std::atomic<std::size_t>& n;
    ~OpenGuard() { --n; }
  } guard{state->open};
  const auto& o = state->options;
  Peer peer;
  {
    boost::system::error_code ep_ec;
    auto ep = socket.remote_endpoint(ep_ec);
    if (!ep_ec) {
      auto addr = ep.address();
      if (addr.is_v6() && addr.to_v6().is_v4_mapped())
        addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
      peer.address = addr.to_string();
      peer.loopback = addr.is_loopback();
    }
  }
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  boost::system::error_code ec;

  while (!state->draining.load(std::memory_order_relaxed)) {
    beast_http::request_parser<beast_http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(o.max_header_bytes));
    parser.body_limit(o.max_body_bytes);

    // Wait for the next request, listed as idle so drain() can close us; then read it under a deadline.
    auto idle = worker.idle.insert(worker.idle.end(), &stream);
    stream.expires_after(buffer.size() > 0 ? o.read_timeout : o.idle_timeout);
    co_await beast_http::async_read_header(stream, buffer, parser,
                                           asio::redirect_error(asio::use_awaitable, ec));
    worker.idle.erase(idle);
    if (!ec && !parser.is_done()) {
      stream.expires_after(o.read_timeout);
      co_await beast_http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) {
      Response res;
      if (ec == beast_http::error::header_limit) {
        res = transport_error(o, beast_http::status::request_header_fields_too_large, "header_too_large",
                              "request head exceeds " + std::to_string(o.max_header_bytes) + " bytes");
      } else if (ec == beast_http::error::body_limit) {
        res = transport_error(o, beast_http::status::payload_too_large, "body_too_large",
                              "request body exceeds " + std::to_string(o.max_body_bytes) + " bytes");
      } else if (ec == beast_http::error::end_of_stream || ec == asio::error::operation_aborted ||
                 is_timeout(ec) || ec == asio::error::connection_reset || ec == asio::error::eof) {
        break;  // the client went away, idled out, or we are draining
      } else {
        res = transport_error(o, beast_http::status::bad_request, "bad_request", "malformed HTTP request");
      }
      stream.expires_after(o.write_timeout);
      co_await beast_http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      break;
    }

    Request req = parser.release();
    const auto started = std::chrono::steady_clock::now();
    Response res;
    try {
      if (auto file = o.static_files ? o.static_files->serve(req) : std::nullopt) {
        res = std::move(*file);
      } else {
        res = co_await worker.handler(req, peer);
      }
    } catch (const std::exception& e) {
      spdlog::error("event=handler_exception what=\"{}\"", e.what());
      res = transport_error(o, beast_http::status::internal_server_error, "internal_error", "internal error");
    }
    res.version(req.version());
    res.set(beast_http::field::server, "cachelab");
    // Decided after the handler: a drain that began while it ran closes this connection after the answer.
    res.keep_alive(req.keep_alive() && res.keep_alive() && !state->draining.load(std::memory_order_relaxed));
    res.prepare_payload();
    // HEAD: the GET's head, Content-Length included, and no body.
    if (req.method() == beast_http::verb::head) res.body().clear();
    if (o.access_log) {
      spdlog::info(
          "event=access method={} target=\"{}\" status={} bytes={} ms={:.3f}", req.method_string(),
          req.target(), res.result_int(), res.body().size(),
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    }
    stream.expires_after(o.write_timeout);
    co_await beast_http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

Server::Server(std::vector<asio::io_context*> contexts, std::vector<Handler> handlers, ServerOptions options)
    : state_(std::make_shared<State>(*contexts.at(0), std::move(options))) {
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    state_->workers.push_back(Worker{contexts[i], std::move(handlers.at(i)), {}});
  }
}

Server::~Server() = default;

std::size_t Server::open_connections() const {
  return state_->open.load();
}

void Server::close() {
  state_->acceptor_storage.reset();
}

std::uint16_t Server::listen() {
  auto& acceptor = state_->acceptor;
  tcp::endpoint ep(asio::ip::make_address(state_->options.host), state_->options.port);
  acceptor.open(ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  return acceptor.local_endpoint().port();
}

void Server::start() {
  asio::co_spawn(state_->acceptor.get_executor(), accept_loop(), asio::detached);
}

asio::awaitable<void> Server::accept_loop() {
  auto state = state_;
  for (;;) {
    auto& worker = state->workers[state->next++ % state->workers.size()];
    boost::system::error_code ec;
    tcp::socket socket =
        co_await state->acceptor.async_accept(*worker.context, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: log, back off briefly, keep serving existing connections.
      spdlog::warn("event=accept_failed error=\"{}\"", ec.message());
      asio::steady_timer pause(state->acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    ++state->open;
    asio::co_spawn(*worker.context, session(state, worker, std::move(socket)), asio::detached);
  }
}

void Server::drain() {
  auto state = state_;
  state->draining = true;
  asio::post(state->acceptor.get_executor(), [state] {
    boost::system::error_code ec;
    state->acceptor.close(ec);
  });
  for (auto& worker : state->workers) {
    asio::post(*worker.context, [state, &worker] {
      for (auto* stream : worker.idle) stream->cancel();
    });
  }
}

}  // namespace cachelab::http

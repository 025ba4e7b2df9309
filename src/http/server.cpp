#include "http/server.hpp"
#include "core/log.hpp"

#include "http/session.hpp"

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

// A connection accepted on `worker`'s thread: who it is, then the session loop over a tcp_stream.
asio::awaitable<void> session(std::shared_ptr<Server::State> state, Worker& worker, tcp::socket socket) {
  struct OpenGuard {
    std::atomic<std::size_t>& n;
    ~OpenGuard() { --n; }
  } guard{state->open};
  Peer peer;
  boost::system::error_code ec;
  if (auto ep = socket.remote_endpoint(ec); !ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    peer.address = addr.to_string();
    peer.loopback = addr.is_loopback();
  }
  beast::tcp_stream stream(std::move(socket));
  const SessionEnv env{state->options, worker.handler, state->draining, &worker.idle};
  co_await serve_session(stream, peer, env);
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
      spdlog::warn("event=accept_failed error={}", log_quote(ec.message()));
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

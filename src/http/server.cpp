#include "http/server.hpp"

#include "core/log.hpp"
#include "http/request_executor.hpp"

#include "http/session.hpp"
#include "http/timed_socket.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <list>
#include <optional>

namespace cachelab::http {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// Per-thread bookkeeping of the open connections, for the deadline sweeper, drain() and shedding. Touched
// only on its own thread.
struct Worker {
  asio::io_context* context;
  Handler handler;
  std::list<TimedSocket*> connections;
  std::uint64_t idle_sequence = 0;
  bool sweeping = false;  // the sweeper runs while this thread has connections
};

struct Server::State {
  ServerOptions options;
  std::vector<Worker> workers;
  std::optional<tcp::acceptor> acceptor_storage;
  tcp::acceptor& acceptor;
  std::atomic<std::size_t> open{0};
  std::atomic<bool> draining{false};
  std::atomic<std::int64_t> shed{0}, refused{0};
  std::size_t next = 0;
  int spare_fd = -1;       // held in reserve to accept (and refuse) one connection when descriptors run out
  LogLimiter refusals{1};  // "refused a connection" warnings: one a second, with the count held back
  LogLimiter accept_errors{1};
  std::string refusal;  // the whole 503 answer at the limit, rendered once (refusing must not allocate much)
  State(asio::io_context& first, ServerOptions o);
  ~State() {
    if (spare_fd >= 0) ::close(spare_fd);
  }
};

namespace {

// Counts a connection out of Server::State::open when its coroutine ends, however it ends.
struct OpenGuard {
  std::atomic<std::size_t>& n;
  ~OpenGuard() { --n; }
};

// Every 100 ms while `worker` has connections, cancels the pending operation of each whose deadline passed
// (the session sees operation_aborted and ends). Ends when the last connection has gone; the next session
// starts it again.
asio::awaitable<void> sweep(Worker& worker) {
  asio::steady_timer timer(*worker.context);
  boost::system::error_code ec;
  while (!worker.connections.empty()) {
    timer.expires_after(std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    cancel_expired(worker.connections);
  }
  worker.sweeping = false;
}

// A connection accepted on `worker`'s thread: who it is, then the session loop over a TimedSocket.
asio::awaitable<void> session(std::shared_ptr<Server::State> state, Worker& worker, tcp::socket socket,
                              std::shared_ptr<RequestId> request_id) {
  OpenGuard guard{state->open};
  Peer peer;
  boost::system::error_code ec;
  if (auto ep = socket.remote_endpoint(ec); !ec) {
    auto addr = ep.address();
    if (addr.is_v6() && addr.to_v6().is_v4_mapped())
      addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
    peer.address = addr.to_string();
    peer.loopback = addr.is_loopback();
  }
  TimedSocket stream(std::move(socket));
  struct Listed {  // on the worker's list for the connection's life, however the coroutine ends
    std::list<TimedSocket*>& list;
    std::list<TimedSocket*>::iterator at;
    ~Listed() { list.erase(at); }
  } listed{worker.connections, worker.connections.insert(worker.connections.end(), &stream)};
  if (!worker.sweeping) {
    worker.sweeping = true;
    asio::co_spawn(*worker.context, sweep(worker), asio::detached);
  }
  const SessionEnv env{state->options, worker.handler, state->draining, &worker.idle_sequence,
                       request_id.get()};
  co_await serve_session(stream, peer, env);
}

// The answer at the connection limit, as bytes: a 503 with Retry-After, written at once (before reading the
// request, which HTTP allows); then the write side is shut and whatever the client sent is drained briefly,
// so it reads the 503 rather than a reset.
std::string too_many_connections(const ServerOptions& o) {
  Response res = o.on_error ? o.on_error(beast_http::status::service_unavailable, "too_many_connections",
                                         "the server is at its connection limit; retry shortly")
                            : Response{beast_http::status::service_unavailable, 11};
  res.set(beast_http::field::retry_after, "1");
  res.set(beast_http::field::server, "cachelab");
  res.keep_alive(false);
  std::string out;
  detail::render_head(res, res.body().size(), out);
  out += res.body();
  return out;
}

asio::awaitable<void> refuse(std::shared_ptr<Server::State> state, tcp::socket socket) {
  OpenGuard guard{state->open};
  beast::tcp_stream stream(std::move(socket));
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(1));
  co_await asio::async_write(stream, asio::buffer(state->refusal),
                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  char sink[1024];
  while (!ec)
    co_await stream.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
}

void warn_refused(Server::State& state, std::string_view why) {
  if (auto suppressed = state.refusals.admit()) {
    spdlog::warn("event=connection_refused reason={} open={} max_connections={} suppressed={}", why,
                 state.open.load(), state.options.max_connections, *suppressed);
  }
}

// The descriptor held in reserve for refusals (see refuse_without_descriptors); -1 when none is free.
int open_spare_fd() {
  return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

// Out of descriptors (EMFILE/ENFILE): the pending connection would sit in the backlog, and the acceptor
// would wake for it again at once. Free the spare descriptor, accept the connection, tell it 503 in one
// non-blocking write (a fresh socket's send buffer holds it) and close it, then take the spare back. Another
// thread may take the freed descriptor first (a reconnect to PostgreSQL or Redis); the spare is then taken
// back at the next turn that finds one free, not lost for the process's life.
void refuse_without_descriptors(Server::State& state) {
  if (state.spare_fd < 0) state.spare_fd = open_spare_fd();
  if (state.spare_fd < 0) return;
  ::close(state.spare_fd);
  state.spare_fd = -1;
  const int fd = ::accept4(state.acceptor.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) {
    [[maybe_unused]] auto written = ::send(fd, state.refusal.data(), state.refusal.size(), MSG_NOSIGNAL);
    ::close(fd);
    ++state.refused;
  }
  state.spare_fd = open_spare_fd();
}

}  // namespace

Server::State::State(asio::io_context& first, ServerOptions o)
    : options(std::move(o)),
      acceptor_storage(std::in_place, first),
      acceptor(*acceptor_storage),
      refusal(too_many_connections(options)) {
  spare_fd = open_spare_fd();
}

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

std::size_t Server::max_connections() const {
  return state_->options.max_connections;
}

std::int64_t Server::shed_connections() const {
  return state_->shed.load();
}

std::int64_t Server::refused_connections() const {
  return state_->refused.load();
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
  const auto max = state->options.max_connections;
  const auto shed_from = max - max / 10;  // 90% of the limit
  for (;;) {
    auto& worker = state->workers[state->next++ % state->workers.size()];
    boost::system::error_code ec;
    tcp::socket socket =
        co_await state->acceptor.async_accept(*worker.context, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open()) co_return;
    if (ec) {
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
        refuse_without_descriptors(*state);
        warn_refused(*state, "no_descriptors");
      } else if (auto suppressed = state->accept_errors.admit()) {
        spdlog::warn("event=accept_failed error={} suppressed={}", log_quote(ec.message()), *suppressed);
      }
      // Let connections in flight finish (and free descriptors) before trying again.
      asio::steady_timer pause(state->acceptor.get_executor(), std::chrono::milliseconds(10));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    const auto open = ++state->open;
    if (max > 0 && open > max) {
      ++state->refused;
      warn_refused(*state, "max_connections");
      asio::co_spawn(*worker.context, refuse(state, std::move(socket)), asio::detached);
      continue;
    }
    if (max > 0 && open > shed_from) {
      // Near the limit: make room by closing this thread's oldest idle keep-alive connection.
      asio::post(*worker.context, [state, &worker] {
        TimedSocket* oldest = nullptr;
        for (auto* socket : worker.connections) {
          if (socket->idle() && (!oldest || socket->idle_since() < oldest->idle_since())) oldest = socket;
        }
        if (!oldest) return;
        oldest->cancel();
        oldest->idle(false);
        ++state->shed;
      });
    }
    socket.set_option(tcp::no_delay(true), ec);
    // The connection's coroutine runs on its thread's executor, with the request it serves in scope whenever
    // it is resumed (http/request_executor).
    auto request_id = std::make_shared<RequestId>();
    const RequestExecutor executor(worker.context->get_executor(), request_id);
    asio::co_spawn(executor, session(state, worker, std::move(socket), std::move(request_id)),
                   asio::detached);
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
      for (auto* socket : worker.connections) {
        if (socket->idle()) socket->cancel();
      }
    });
  }
}

}  // namespace cachelab::http

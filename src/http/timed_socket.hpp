// http/timed_socket: a TCP socket with a deadline that costs a clock read to set. The server's sweeper
// (one timer per I/O thread, every 100 ms) cancels the pending operation of a socket whose deadline has
// passed; nothing is armed or cancelled per read or write, unlike beast::tcp_stream, whose per-operation
// timer was a measured share of every request (docs/performance.md). Owns nothing but the socket and its
// deadline; never blocks (write_now is a non-blocking attempt). Threading: used only on the thread of the
// io_context it belongs to, sweeper included.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <utility>

namespace cachelab::http {

class TimedSocket {
 public:
  using clock = std::chrono::steady_clock;
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  explicit TimedSocket(boost::asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);  // so write_now returns would_block instead of waiting
  }

  // The pending operation (and any started before the next expires_after) is cancelled by the sweeper
  // once `timeout` has passed.
  void expires_after(clock::duration timeout) { deadline_ = clock::now() + timeout; }
  bool expired(clock::time_point now) const { return now >= deadline_; }

  // Idle: waiting for a kept-alive connection's next request, so drain() and shedding may close it. The
  // sequence orders idle connections, oldest first.
  void idle(bool on, std::uint64_t sequence = 0) {
    idle_ = on;
    idle_since_ = sequence;
  }
  bool idle() const { return idle_; }
  std::uint64_t idle_since() const { return idle_since_; }

  void cancel() {
    boost::system::error_code ec;
    socket_.cancel(ec);
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }
  // As much of `buffers` as the kernel takes now, without waiting (0 with would_block when it takes none).
  template <class Buffers>
  std::size_t write_now(const Buffers& buffers, boost::system::error_code& ec) {
    return socket_.write_some(buffers, ec);
  }

  executor_type get_executor() { return socket_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::ip::tcp::socket socket_;
  clock::time_point deadline_ = clock::time_point::max();
  std::uint64_t idle_since_ = 0;
  bool idle_ = false;
};

// The sweep: cancels the pending operation of every socket in `sockets` whose deadline has passed (null
// entries, connections that have ended, are skipped). Run every 100 ms by its owner on the sockets' thread.
template <class Sockets>
void cancel_expired(const Sockets& sockets) {
  const auto now = TimedSocket::clock::now();
  for (TimedSocket* socket : sockets) {
    if (socket && socket->expired(now)) socket->cancel();
  }
}

}  // namespace cachelab::http

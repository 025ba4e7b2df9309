#include "http/timed_socket.hpp"
#include "http/session.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>

#include <string>

namespace cachelab::http {
namespace {

using tcp = asio::ip::tcp;

// A connected pair of loopback sockets: the server's end wrapped in a TimedSocket.
struct Pair {
  asio::io_context ctx;
  tcp::socket client{ctx};
  std::optional<TimedSocket> server;
  Pair() {
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    server.emplace(acceptor.accept());
  }
};

// An answer larger than the socket takes at once: the first attempt writes what fits without waiting, the
// rest goes out as the reader drains it, in order and complete.
TEST(TimedSocket, AnAnswerLargerThanTheSendBufferArrivesWhole) {
  Pair p;
  p.server->socket().set_option(asio::socket_base::send_buffer_size(4096));
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n";
  std::string body(3'000'000, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  boost::system::error_code write_ec = asio::error::would_block;
  const ServerOptions options;
  asio::co_spawn(
      p.ctx,
      [&]() -> asio::awaitable<void> {
        boost::system::error_code ec;
        co_await detail::write_answer(*p.server, head, body, options, ec);
        write_ec = ec;
      },
      asio::detached);
  std::string got(head.size() + body.size(), '\0');
  asio::async_read(p.client, asio::buffer(got), [](boost::system::error_code, std::size_t) {});
  p.ctx.run();
  EXPECT_FALSE(write_ec) << write_ec.message();
  EXPECT_TRUE(got == head + body);
}

// The deadline is a time, checked by the server's sweeper; cancel() ends the pending read.
TEST(TimedSocket, ExpiresAfterItsTimeoutAndCancelEndsThePendingRead) {
  Pair p;
  EXPECT_FALSE(p.server->expired(TimedSocket::clock::now()));
  p.server->expires_after(std::chrono::milliseconds(0));
  EXPECT_TRUE(p.server->expired(TimedSocket::clock::now()));
  p.server->expires_after(std::chrono::seconds(30));
  EXPECT_FALSE(p.server->expired(TimedSocket::clock::now()));

  boost::system::error_code read_ec;
  char byte;
  p.server->async_read_some(asio::buffer(&byte, 1),
                            [&](boost::system::error_code ec, std::size_t) { read_ec = ec; });
  asio::post(p.ctx, [&] { p.server->cancel(); });
  p.ctx.run();
  EXPECT_EQ(read_ec, asio::error::operation_aborted);
}

}  // namespace
}  // namespace cachelab::http

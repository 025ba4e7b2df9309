// tests/support/scripted_redis: a fake Redis for unit tests, answering RESP commands as a test scripts it. It
// owns one client connection at a time on the test's event loop; it never stands in for Redis's semantics.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cachelab::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A scripted Redis on loopback, on the test's own event loop. It parses RESP commands and answers each with
// what `answer` returns for it (RESP bytes), by default its last argument as a bulk string (so ECHO x → "x").
// While `hold` is set it keeps its answers back, in order, like a stopped Redis; release() sends them. drop()
// closes the client's connection.
class ScriptedRedis {
 public:
  explicit ScriptedRedis(asio::io_context& ctx) : acceptor_(ctx, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(ctx, accept(), asio::detached);
  }
  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }

  bool hold = false;
  std::function<std::string(const std::vector<std::string>&)> answer;  // empty: the last argument, as a bulk
  std::vector<std::vector<std::string>> commands;                      // every command received, in order
  std::vector<std::size_t> commands_per_read;  // how many whole commands each read completed

  void release() {
    hold = false;
    flush();
  }
  void drop() {
    boost::system::error_code ec;
    if (socket_) socket_->close(ec);
  }

 private:
  asio::awaitable<void> accept() {
    for (;;) {
      boost::system::error_code ec;
      auto s = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      socket_.emplace(std::move(s));
      buffer_.clear();
      queued_.clear();  // answers owed to a closed connection die with it
      co_await serve();
    }
  }

  asio::awaitable<void> serve() {
    char chunk[4096];
    for (;;) {
      boost::system::error_code ec;
      auto n = co_await socket_->async_read_some(asio::buffer(chunk),
                                                 asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      buffer_.append(chunk, n);
      std::size_t completed = 0;
      while (auto cmd = parse()) {
        commands.push_back(*cmd);
        if (answer) {
          queued_.push_back(answer(*cmd));
        } else {
          const auto& arg = cmd->back();
          queued_.push_back("$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n");
        }
        ++completed;
      }
      commands_per_read.push_back(completed);
      flush();
    }
  }

  void flush() {
    if (hold || !socket_ || !socket_->is_open()) return;
    std::string out;
    while (!queued_.empty()) {
      out += queued_.front();
      queued_.pop_front();
    }
    boost::system::error_code ec;
    if (!out.empty()) asio::write(*socket_, asio::buffer(out), ec);
  }

  // One "*N\r\n($len\r\nbytes\r\n){N}" from the front of the buffer, or nothing until it is complete.
  std::optional<std::vector<std::string>> parse() {
    std::size_t at = 0;
    auto line = [&]() -> std::optional<std::string> {
      auto end = buffer_.find("\r\n", at);
      if (end == std::string::npos) return std::nullopt;
      auto l = buffer_.substr(at, end - at);
      at = end + 2;
      return l;
    };
    auto head = line();
    if (!head || head->empty() || (*head)[0] != '*') return std::nullopt;
    std::vector<std::string> args;
    for (int i = 0, n = std::stoi(head->substr(1)); i < n; ++i) {
      auto len = line();
      if (!len) return std::nullopt;
      const auto size = static_cast<std::size_t>(std::stoi(len->substr(1)));
      if (buffer_.size() < at + size + 2) return std::nullopt;
      args.push_back(buffer_.substr(at, size));
      at += size + 2;
    }
    buffer_.erase(0, at);
    return args;
  }

  tcp::acceptor acceptor_;
  std::optional<tcp::socket> socket_;
  std::string buffer_;
  std::deque<std::string> queued_;
};

}  // namespace cachelab::test

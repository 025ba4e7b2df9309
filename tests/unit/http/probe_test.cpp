#include "http/probe.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace cachelab::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A blocking one-connection server on a free loopback port, run on its own thread. `answer` empty: it accepts
// and then says nothing until the test ends (the hung server a health check must survive).
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) : acceptor_(ctx_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, answer = std::move(answer)] {
      boost::system::error_code ec;
      tcp::socket s = acceptor_.accept(ec);
      if (ec) return;
      if (answer.empty()) {
        std::unique_lock lock(m_);
        done_cv_.wait(lock, [this] { return done_; });
        return;
      }
      asio::streambuf head;
      asio::read_until(s, head, "\r\n\r\n", ec);
      asio::write(s, asio::buffer(answer), ec);
    });
  }
  ~OneShotServer() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    done_cv_.notify_all();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context ctx_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable done_cv_;
  bool done_ = false;
};

TEST(Probe, GivesUpOnAServerThatAcceptsAndNeverAnswers) {
  OneShotServer silent("");
  const auto started = std::chrono::steady_clock::now();
  auto r = probe("127.0.0.1", silent.port(), "/health", 300ms);
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("no answer"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("300 ms"), std::string::npos) << r.error();
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2s) << "the deadline is the whole call's, not one step's";
}

TEST(Probe, ReturnsTheStatusAndBodyOfAnAnswer) {
  OneShotServer ok(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 7\r\nConnection: close\r\n\r\ndrained");
  auto r = probe("127.0.0.1", ok.port(), "/ready", 2s);
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->status, 503u);
  EXPECT_EQ(r->body, "drained");
}

TEST(Probe, SaysWhenNothingListens) {
  std::uint16_t port = 0;
  {
    asio::io_context ctx;
    tcp::acceptor a(ctx, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed again: connecting is refused
  auto r = probe("127.0.0.1", port, "/health", 2s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("cannot connect"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace cachelab::http

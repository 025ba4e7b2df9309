// Connection limits and slow clients against the real binary: idle connections are shed to make room, a
// connection past the limit is told 503 with Retry-After, a slow head is cut at its deadline, and a process
// out of descriptors still answers new clients instead of leaving them in the backlog.
#include "support/harness.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace cachelab::test {
namespace {

using namespace std::chrono_literals;

// A raw client socket, closed when it goes.
class Raw {
 public:
  explicit Raw(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
  }
  ~Raw() { ::close(fd_); }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  void send(std::string_view s) { (void)!::send(fd_, s.data(), s.size(), MSG_NOSIGNAL); }
  // Everything the server sends until it closes or `wait` passes with nothing new.
  std::string read_all(std::chrono::milliseconds wait) {
    std::string out;
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return out;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  bool closed() const { return closed_; }

 private:
  int fd_;
  bool closed_ = false;
};

class LimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_TRUE(start_backends_and_seed()); }
  void SetUp() override {
    ASSERT_EQ(backends("start", "all"), 0);
    unclean_before_ = unclean_server_exits();
  }
  void TearDown() override {
    EXPECT_EQ(unclean_server_exits(), unclean_before_) << "sanitizer report or crash";
  }
  int unclean_before_ = 0;
};

TEST_F(LimitsTest, IdleConnectionsAreShedToMakeRoomForNewClients) {
  ServerProcess server(
      {"--max-connections", "20", "--header-timeout-seconds", "30", "--idle-timeout-seconds", "60"});
  // Twenty connections that say nothing: all idle, all at the limit.
  std::vector<std::unique_ptr<Raw>> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(std::make_unique<Raw>(server.port()));
  std::this_thread::sleep_for(200ms);
  // New clients are served, one after another, because the oldest idle connections make room.
  int ok = 0;
  for (int i = 0; i < 15; ++i) {
    if (http(server.port(), "GET", "/health").status == 200) ++ok;
  }
  EXPECT_EQ(ok, 15);
  int shed = 0;
  for (auto& c : idle) {
    c->read_all(50ms);
    if (c->closed()) ++shed;
  }
  EXPECT_GE(shed, 1) << "no idle connection was closed to make room";
}

TEST_F(LimitsTest, PastTheLimitANewConnectionGets503WithRetryAfter) {
  ServerProcess server({"--max-connections", "10", "--header-timeout-seconds", "30"});
  // Ten clients in the middle of sending a head: busy, not idle, so nothing can be shed.
  std::vector<std::unique_ptr<Raw>> busy;
  for (int i = 0; i < 10; ++i) {
    busy.push_back(std::make_unique<Raw>(server.port()));
    busy.back()->send("GET /health HTTP/1.1\r\nHost: x\r\n");
  }
  std::this_thread::sleep_for(200ms);
  Raw extra(server.port());
  extra.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto answer = extra.read_all(2000ms);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos) << answer;
  EXPECT_NE(answer.find(R"("code":"too_many_connections")"), std::string::npos) << answer;
  EXPECT_TRUE(extra.closed());
  // One busy client finishes its head: it is answered, and its place is free again.
  busy[0]->send("\r\n");
  EXPECT_EQ(busy[0]->read_all(1000ms).rfind("HTTP/1.1 200", 0), 0u);
  busy.erase(busy.begin(), busy.begin() + 2);
  EXPECT_TRUE(eventually([&] { return http(server.port(), "GET", "/health").status == 200; }, 3s));
}

TEST_F(LimitsTest, AHeadThatIsNotCompleteInTimeIsCut) {
  ServerProcess server({"--header-timeout-seconds", "1", "--idle-timeout-seconds", "2"});
  Raw slow(server.port());
  slow.send("GET /health HTTP/1.1\r\nHost: x\r\n");  // and never the blank line
  const auto started = std::chrono::steady_clock::now();
  slow.read_all(3000ms);
  EXPECT_TRUE(slow.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);

  // A kept-alive connection may idle for --idle-timeout-seconds (longer than the header deadline).
  Raw keep(server.port());
  keep.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(keep.read_all(300ms).rfind("HTTP/1.1 200", 0), 0u);
  std::this_thread::sleep_for(1300ms);  // past the header deadline, within the idle one
  keep.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(keep.read_all(300ms).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_FALSE(keep.closed());
}

// Descriptors run out before the connection limit (here: the server's limit is lowered to 64 while it runs).
// A new client still gets an answer, 503, from the descriptor held in reserve; once descriptors free up,
// service resumes.
TEST_F(LimitsTest, OutOfDescriptorsANewClientIsToldRatherThanLeftInTheBacklog) {
  ServerProcess server({"--max-connections", "100000", "--header-timeout-seconds", "30"});
  rlimit low{64, 64};
  ASSERT_EQ(::prlimit(server.pid(), RLIMIT_NOFILE, &low, nullptr), 0);
  std::vector<std::unique_ptr<Raw>> busy;
  for (int i = 0; i < 80; ++i) {
    busy.push_back(std::make_unique<Raw>(server.port()));
    busy.back()->send("GET /health HTTP/1.1\r\nHost: x\r\n");
  }
  std::this_thread::sleep_for(300ms);
  // At most 64 descriptors: some 20 of the 80 found none and were told 503 and closed (none left waiting).
  int told = 0;
  for (auto& b : busy) {
    const auto answer = b->read_all(0ms);
    if (answer.rfind("HTTP/1.1 503", 0) == 0 &&
        answer.find(R"("code":"too_many_connections")") != std::string::npos) {
      EXPECT_TRUE(b->read_all(1000ms).empty());
      EXPECT_TRUE(b->closed());
      ++told;
    }
  }
  EXPECT_GE(told, 16);
  // One more client is answered too: 503 while descriptors are out, or 200 if one came free meanwhile;
  // never left waiting in the backlog.
  Raw extra(server.port());
  extra.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto answer = extra.read_all(2000ms);
  EXPECT_TRUE(answer.rfind("HTTP/1.1 503", 0) == 0 || answer.rfind("HTTP/1.1 200", 0) == 0)
      << "got: " << answer;
  busy.clear();
  EXPECT_TRUE(eventually([&] { return http(server.port(), "GET", "/health").status == 200; }, 5s));
}

}  // namespace
}  // namespace cachelab::test

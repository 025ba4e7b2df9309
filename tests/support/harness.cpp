#include "support/harness.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <time.h>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <latch>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cachelab::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

std::string env(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string database_url() {
  return "postgresql://cachelab@127.0.0.1:" + env("PG_PORT", "54330") + "/cachelab";
}
bool on_cluster() {
  return !env("CACHELAB_TEST_CLUSTER").empty();
}

int cluster_first_port() {
  return std::stoi(env("REDIS_CLUSTER_PORT", std::to_string(std::stoi(env("REDIS_PORT", "63800")) + 100)));
}

namespace {

// The master serving cachelab's slot, asked of the first cluster node that answers (CLUSTER KEYSLOT, SLOTS).
int cluster_owner_port() {
  for (int p = cluster_first_port(); p < cluster_first_port() + 6; ++p) {
    redisContext* c = redisConnect("127.0.0.1", p);
    if (c == nullptr || c->err) {
      if (c) redisFree(c);
      continue;
    }
    int owner = -1;
    auto* slot = static_cast<redisReply*>(redisCommand(c, "CLUSTER KEYSLOT %s", "cachelab:{v1}:x"));
    auto* map = static_cast<redisReply*>(redisCommand(c, "CLUSTER SLOTS"));
    if (slot && slot->type == REDIS_REPLY_INTEGER && map && map->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i < map->elements; ++i) {
        const auto* range = map->element[i];
        if (range->element[0]->integer <= slot->integer && slot->integer <= range->element[1]->integer)
          owner = static_cast<int>(range->element[2]->element[1]->integer);
      }
    }
    if (slot) freeReplyObject(slot);
    if (map) freeReplyObject(map);
    redisFree(c);
    if (owner > 0) return owner;
  }
  throw std::runtime_error("no node of the test Redis Cluster says where cachelab's slot is");
}
}  // namespace

int redis_port() {
  return on_cluster() ? cluster_owner_port() : std::stoi(env("REDIS_PORT", "63800"));
}

std::string redis_url() {
  if (on_cluster()) {
    const auto p = cluster_first_port();
    return "redis+cluster://127.0.0.1:" + std::to_string(p) + ",127.0.0.1:" + std::to_string(p + 1) +
           ",127.0.0.1:" + std::to_string(p + 2);
  }
  return "redis://127.0.0.1:" + env("REDIS_PORT", "63800") + "/0";
}

int backends(const std::string& action, const std::string& which) {
  const std::string cmd = "bash " + env("CACHELAB_BACKENDS") + " " + action + " " + which + " >/dev/null";
  return std::system(cmd.c_str());
}

int redis_backend(const std::string& action) {
  return backends(action, on_cluster() ? "cluster" : "redis");
}

bool start_backends_and_seed() {
  if (backends("start", "all") != 0) return false;
  if (on_cluster() && backends("start", "cluster") != 0) return false;
  const std::string seed = env("CACHELAB_BIN") + " seed --log-level warn --database-url " + database_url();
  return std::system(seed.c_str()) == 0;
}

struct ServerProcess::Output {
  std::mutex mutex;
  std::string text;
};

std::string ServerProcess::output() const {
  const std::lock_guard lock(output_->mutex);
  return output_->text;
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::vector<std::string> args = {env("CACHELAB_BIN"), "serve", "--port", "0"};
  // Defaults a test may give itself instead (an option given twice is an error).
  const std::pair<const char*, std::string> defaults[] = {{"--database-url", database_url()},
                                                          {"--redis-url", redis_url()},
                                                          {"--log-level", "warn"},
                                                          {"--threads", "2"}};
  for (const auto& [flag, value] : defaults) {
    if (std::find(extra_args.begin(), extra_args.end(), flag) != extra_args.end()) continue;
    args.emplace_back(flag);
    args.push_back(value);
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = fork();
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test (ctest would wait on our pipes)
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  // Read stdout up to the "listening on host:port" line.
  FILE* f = fdopen(out[0], "r");
  char line[512];
  while (fgets(line, sizeof line, f) != nullptr) {
    std::string s(line);
    auto at = s.find("listening on ");
    if (at == std::string::npos) continue;
    port_ = static_cast<unsigned short>(std::stoi(s.substr(s.rfind(':') + 1)));
    break;
  }
  // Keep draining stdout (its log lines) in the background so the server never blocks on a full pipe, and
  // keep them for output(); with CACHELAB_TEST_VERBOSE set, echo them to help debug a failing test.
  output_ = std::make_shared<Output>();
  std::thread([f, out = output_, verbose = !env("CACHELAB_TEST_VERBOSE").empty()] {
    char buf[4096];
    while (fgets(buf, sizeof buf, f) != nullptr) {
      if (verbose) fputs(buf, stderr);
      const std::lock_guard lock(out->mutex);
      out->text += buf;
    }
    fclose(f);
  }).detach();
  if (port_ == 0) throw std::runtime_error("server did not print its port");
}

int ServerProcess::stop(std::chrono::seconds wait, bool repeat) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    if (repeat) kill(pid_, SIGTERM);
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    struct timespec ts {
      0, repeat ? 10'000'000 : 20'000'000
    };
    nanosleep(&ts, nullptr);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

namespace {
std::atomic<int> unclean_exits{0};
}

int unclean_server_exits() {
  return unclean_exits.load();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && stop() != 0) {
    ++unclean_exits;
    fprintf(stderr, "cachelab serve did not exit cleanly (see its output above)\n");
  }
}

boost::json::value HttpResponse::json() const {
  return boost::json::parse(body);
}

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

HttpResponse http(unsigned short port, const std::string& method, const std::string& target,
                  const std::string& body, const std::map<std::string, std::string>& raw_headers) {
  asio::io_context ctx;
  asio::ip::tcp::socket socket(ctx);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [k, v] : raw_headers) req.set(k, v);
  if (!body.empty()) req.body() = body;
  req.prepare_payload();
  boost::system::error_code ec;
  bhttp::write(socket, req, ec);  // the server may answer (413) and close before reading everything
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  parser.skip(method == "HEAD");  // the head only: Content-Length describes the GET's body
  bhttp::read(socket, buffer, parser, ec);
  if (ec && !parser.is_header_done()) throw std::runtime_error("no HTTP response: " + ec.message());
  auto res = parser.release();
  HttpResponse out;
  out.status = res.result_int();
  for (const auto& h : res) {
    std::string name(h.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    out.headers[name] = std::string(h.value());
  }
  out.body = res.body();
  return out;
}

int concurrent_gets(const std::vector<unsigned short>& ports, int n, const std::string& target,
                    const std::function<bool(const HttpResponse&)>& ok) {
  std::latch start(n + 1);
  std::atomic<int> accepted{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i) {
    clients.emplace_back([&, i] {
      start.arrive_and_wait();
      if (ok(http(ports[static_cast<std::size_t>(i) % ports.size()], "GET", target))) ++accepted;
    });
  }
  start.arrive_and_wait();
  for (auto& c : clients) c.join();
  return accepted.load();
}

double metric_sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

std::int64_t app_stat_total(const std::vector<unsigned short>& ports, const std::string& name) {
  std::int64_t total = 0;
  for (auto port : ports)
    total += http(port, "GET", "/api/stats").json().at("app").at(name).to_number<std::int64_t>();
  return total;
}

std::optional<std::string> redis(const std::vector<std::string>& argv) {
  redisContext* c = redisConnect("127.0.0.1", redis_port());
  if (c == nullptr || c->err) throw std::runtime_error("cannot connect to the test Redis");
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.c_str());
    lens.push_back(a.size());
  }
  auto* r =
      static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lens.data()));
  std::optional<std::string> out;
  if (r != nullptr) {
    if (r->type == REDIS_REPLY_INTEGER) out = std::to_string(r->integer);
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) out = std::string(r->str, r->len);
    if (r->type == REDIS_REPLY_ERROR) out = "ERR:" + std::string(r->str, r->len);
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

int redis_pid() {
  auto info = redis({"INFO", "server"});
  if (!info) return -1;
  auto at = info->find("process_id:");
  return at == std::string::npos ? -1 : std::stoi(info->substr(at + 11));
}

std::vector<int> postgres_pids() {
  const auto dir = sql("SHOW data_directory").at(0).at(0);
  std::ifstream pidfile(dir + "/postmaster.pid");
  int postmaster = -1;
  if (!(pidfile >> postmaster)) return {};
  std::vector<int> pids{postmaster};
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: the command may hold spaces and parentheses, so parse after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 1));
    char state = 0;
    int ppid = 0;
    if (rest >> state >> ppid && ppid == postmaster) pids.push_back(std::stoi(name));
  }
  return pids;
}

CommandResult run_cachelab(const std::vector<std::string>& args) {
  std::string cmd = env("CACHELAB_BIN");
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  const int status = pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string replica_url() {
  const int port = std::stoi(env("PG_PORT", "54330")) + 1;
  return "postgresql://cachelab@127.0.0.1:" + env("PG_REPLICA_PORT", std::to_string(port)) + "/cachelab";
}

std::vector<std::vector<std::string>> sql(const std::string& query, const std::string& url) {
  PGconn* c = PQconnectdb((url.empty() ? database_url() : url).c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string err = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("cannot connect to the test PostgreSQL: " + err);
  }
  PGresult* r = PQexec(c, query.c_str());
  std::vector<std::vector<std::string>> rows;
  if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    for (int i = 0; i < PQntuples(r); ++i) {
      rows.emplace_back();
      for (int j = 0; j < PQnfields(r); ++j) rows.back().emplace_back(PQgetvalue(r, i, j));
    }
  } else if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    std::string err = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(c);
    throw std::runtime_error("SQL failed: " + err);
  }
  PQclear(r);
  PQfinish(c);
  return rows;
}

}  // namespace cachelab::test

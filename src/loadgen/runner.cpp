#include "loadgen/runner.hpp"
#include "core/text.hpp"
#include "http/message_io.hpp"
#include "http/timed_socket.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/url/parse.hpp>

#include <charconv>
#include <mutex>

namespace cachelab::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Result<Target> parse_target_url(std::string_view url) {
  auto u = boost::urls::parse_uri(url);
  const auto bad = [&] {
    return invalid("invalid_url", fmt::format("'{}' is not an http://host[:port] URL", url));
  };
  if (!u || u->scheme() != "http" || u->encoded_host().empty()) return bad();
  if (!u->encoded_path().empty() && u->encoded_path() != "/") {
    return invalid("invalid_url", fmt::format("'{}': give the server only; the paths come from --workload or "
                                              "--target",
                                              url));
  }
  Target t;
  t.host = u->host();
  if (!u->port().empty()) {
    unsigned port = 0;
    auto p = u->port();
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc{} || port == 0 || port > 65535) return bad();
    t.port = static_cast<std::uint16_t>(port);
  } else {
    t.port = 80;
  }
  return t;
}

void Errors::add(const Errors& o) {
  connect += o.connect;
  timeout += o.timeout;
  status_4xx += o.status_4xx;
  status_5xx += o.status_5xx;
  io += o.io;
}

void Tally::add(const Tally& o) {
  requests += o.requests;
  hits += o.hits;
  misses += o.misses;
  collapsed += o.collapsed;
  writes += o.writes;
  errors.add(o.errors);
}

std::optional<double> Tally::hit_ratio() const {
  if (hits + misses == 0) return std::nullopt;
  return static_cast<double>(hits) / static_cast<double>(hits + misses);
}

// What each worker thread publishes for the collector (wait()): its latest interval, and at the end its
// totals.
struct Slot {
  std::mutex m;
  Histogram interval;
  Tally interval_tally;
  Histogram total;
  Tally total_tally;
  bool done = false;
};

struct LoadRun::Shared {
  LoadOptions options;
  Clock::time_point start, measure_from, end;
  std::atomic<bool> stopped{false};
  std::atomic<Clock::rep> stopped_at{0};
  std::vector<std::unique_ptr<Slot>> slots;
};

namespace {

// Reads one response and keeps only what the report needs — the status and the cache outcome headers —
// without storing any header or the body.
class ResponseScanner : public bhttp::basic_parser<false> {
 public:
  unsigned status = 0;
  enum class Outcome { none, hit, miss } outcome = Outcome::none;
  bool collapsed = false;

  ResponseScanner() { body_limit(boost::none); }

 private:
  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                       boost::system::error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, boost::system::error_code&) override {
    status = static_cast<unsigned>(code);
  }
  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     boost::system::error_code&) override {
    if (iequals_ascii(name, "X-Cache")) {
      if (value == "HIT") outcome = Outcome::hit;
      if (value == "MISS") outcome = Outcome::miss;
    } else if (iequals_ascii(name, "Cache-Status")) {
      collapsed = value.find("collapsed") != beast::string_view::npos;
    }
  }
  void on_header_impl(boost::system::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, boost::system::error_code&) override {}
  std::size_t on_body_impl(beast::string_view body, boost::system::error_code&) override {
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, boost::system::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                 boost::system::error_code&) override {
    return body.size();
  }
  void on_finish_impl(boost::system::error_code&) override {}
};

// One thread's share of the run.
struct Worker {
  LoadRun::Shared& shared;
  Slot& slot;
  asio::io_context& ctx;
  asio::ip::tcp::resolver::results_type endpoints;
  // The connections' sockets, for supervise()'s deadline sweep (null once a connection has ended).
  std::vector<http::TimedSocket*> sockets;
  Histogram interval, total;
  Tally interval_tally, total_tally;

  bool measuring(Clock::time_point reference) const { return reference >= shared.measure_from; }
  template <class F>
  void count(Clock::time_point reference, F&& what) {
    if (!measuring(reference)) return;
    what(interval_tally);
    what(total_tally);
  }
  void publish() {
    std::lock_guard lock(slot.m);
    slot.interval.merge(interval);
    slot.interval_tally.add(interval_tally);
    interval.reset();
    interval_tally = {};
  }
};

void build_request(std::string& out, const Request& r, const LoadOptions& o) {
  out.clear();
  fmt::format_to(std::back_inserter(out), "{} {} HTTP/1.1\r\nHost: {}:{}\r\n", r.method, r.target,
                 o.target.host, o.target.port);
  if (r.write) {
    if (!o.admin_token.empty())
      fmt::format_to(std::back_inserter(out), "Authorization: Bearer {}\r\n", o.admin_token);
    fmt::format_to(std::back_inserter(out), "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                   r.body.size(), r.body);
  } else {
    out += "\r\n";
  }
}

asio::awaitable<void> connection(Worker& w, int index, std::uint64_t seed) {
  const auto& o = w.shared.options;
  const bool open_loop = o.rate > 0;
  // Open loop: this connection's share of the schedule, staggered so connections do not fire together.
  const auto period = open_loop ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                                      static_cast<double>(o.connections) / o.rate))
                                : Clock::duration::zero();
  auto due =
      w.shared.start +
      (open_loop ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(index / o.rate))
                 : Clock::duration::zero());
  std::optional<RequestMix> mix;
  if (o.workload) mix.emplace(*o.workload, o.key_space, seed);
  Request request{false, "GET", o.path, {}};
  std::string bytes;
  if (!mix) build_request(bytes, request, o);  // one target: the same bytes every time
  beast::flat_buffer buffer;
  // Room for a whole answer per read: without it, a 14 KB answer arrives in many small reads.
  buffer.reserve(64 * 1024);
  // A deadline per request (connect, write and read), enforced by supervise()'s sweep: no timer per
  // operation.
  http::TimedSocket stream(asio::ip::tcp::socket(w.ctx));
  const auto slot = w.sockets.size();
  w.sockets.push_back(&stream);
  bool connected = false;
  asio::steady_timer pause(w.ctx);
  const auto timed_out = [&](const boost::system::error_code& ec) {
    return ec == asio::error::operation_aborted && stream.expired(Clock::now());
  };
  const auto disconnect = [&] {
    boost::system::error_code ignored;
    stream.socket().close(ignored);
    buffer.clear();
    connected = false;
  };

  while (!w.shared.stopped.load(std::memory_order_relaxed) && Clock::now() < w.shared.end) {
    boost::system::error_code ec;
    if (open_loop) {
      if (due > Clock::now()) {
        pause.expires_at(due);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      if (due >= w.shared.end) break;
    }
    if (!connected) {
      stream.expires_after(o.request_timeout);
      co_await asio::async_connect(stream.socket(), w.endpoints,
                                   asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        w.count(open_loop ? due : Clock::now(), [](Tally& t) { ++t.errors.connect; });
        disconnect();
        pause.expires_after(100ms);
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (open_loop) due += period;
        continue;
      }
      stream.socket().set_option(asio::ip::tcp::no_delay(true), ec);
      stream.socket().non_blocking(true, ec);
      connected = true;
    }
    if (mix) {
      mix->next(request);
      build_request(bytes, request, o);
    }
    const auto sent = Clock::now();
    const auto reference = open_loop ? due : sent;
    stream.expires_after(o.request_timeout);
    co_await http::write_all(stream, asio::buffer(bytes), ec);
    ResponseScanner response;
    response.eager(true);
    if (!ec && !http::parse_buffered(response, buffer, true, ec)) {
      co_await http::read_more(stream, buffer, response, true, ec);
    }
    const auto answered = Clock::now();
    if (open_loop) due += period;
    if (ec) {
      if (Clock::now() >= w.shared.end) break;  // cut off by the end of the run, not a failure
      const bool late = timed_out(ec);
      w.count(reference, [&](Tally& t) { ++(late ? t.errors.timeout : t.errors.io); });
      disconnect();
      continue;
    }
    if (w.measuring(reference)) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(answered - reference).count();
      w.interval.record(ns);
      w.total.record(ns);
    }
    w.count(reference, [&](Tally& t) {
      ++t.requests;
      t.writes += request.write;
      if (response.status >= 500) {
        ++t.errors.status_5xx;
      } else if (response.status >= 400) {
        ++t.errors.status_4xx;
      }
      if (response.outcome == ResponseScanner::Outcome::hit) ++t.hits;
      if (response.outcome == ResponseScanner::Outcome::miss) ++t.misses;
      t.collapsed += response.collapsed;
    });
    if (!response.keep_alive()) disconnect();
  }
  disconnect();
  w.sockets[slot] = nullptr;
}

// Publishes the worker's figures every 100 ms, cancels the pending operation of each connection whose
// request is past its deadline, and stops the worker's event loop at the end of the run.
asio::awaitable<void> supervise(Worker& w) {
  asio::steady_timer tick(w.ctx);
  while (!w.shared.stopped.load(std::memory_order_relaxed) && Clock::now() < w.shared.end) {
    tick.expires_after(100ms);
    boost::system::error_code ec;
    co_await tick.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    w.publish();
    http::cancel_expired(w.sockets);
  }
  w.ctx.stop();
}

void run_worker(std::shared_ptr<LoadRun::Shared> shared, int index) {
  auto& slot = *shared->slots[index];
  const auto& o = shared->options;
  asio::io_context ctx(1);
  Worker w{*shared, slot, ctx, {}, {}, {}, {}, {}, {}};
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(ctx);
  w.endpoints = resolver.resolve(o.target.host, std::to_string(o.target.port), ec);
  if (!ec) {
    // Connections are dealt out round robin, so connection i lives on thread i % threads.
    for (int c = index; c < o.connections; c += o.threads) {
      asio::co_spawn(ctx, connection(w, c, 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(c + 1)),
                     asio::detached);
    }
    asio::co_spawn(ctx, supervise(w), asio::detached);
    ctx.run();
  } else {
    w.count(shared->measure_from, [](Tally& t) { ++t.errors.connect; });
  }
  std::lock_guard lock(slot.m);
  slot.interval.merge(w.interval);
  slot.interval_tally.add(w.interval_tally);
  slot.total.merge(w.total);
  slot.total_tally.add(w.total_tally);
  slot.done = true;
}

}  // namespace

std::unique_ptr<LoadRun> LoadRun::start(LoadOptions options, std::function<void(const Progress&)> on_second,
                                        std::function<void()> on_measuring) {
  std::unique_ptr<LoadRun> run(new LoadRun());
  run->on_second_ = std::move(on_second);
  run->on_measuring_ = std::move(on_measuring);
  auto shared = std::make_shared<Shared>();
  options.threads = std::clamp(options.threads, 1, std::max(1, options.connections));
  shared->options = std::move(options);
  shared->start = Clock::now();
  shared->measure_from = shared->start + shared->options.warmup;
  shared->end = shared->measure_from + shared->options.duration;
  for (int i = 0; i < shared->options.threads; ++i) shared->slots.push_back(std::make_unique<Slot>());
  run->shared_ = shared;
  for (int i = 0; i < shared->options.threads; ++i) run->threads_.emplace_back(run_worker, shared, i);
  return run;
}

LoadRun::~LoadRun() {
  stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void LoadRun::stop() {
  if (!shared_->stopped.exchange(true)) shared_->stopped_at = Clock::now().time_since_epoch().count();
}

Report LoadRun::wait() {
  auto& s = *shared_;
  for (int second = 1;; ++second) {
    const auto boundary = s.start + std::chrono::seconds(second);
    bool all_done = true;
    while (Clock::now() < boundary) {
      if (on_measuring_ && Clock::now() >= s.measure_from) std::exchange(on_measuring_, nullptr)();
      all_done = true;
      for (auto& slot : s.slots) {
        std::lock_guard lock(slot->m);
        all_done = all_done && slot->done;
      }
      if (all_done) break;
      std::this_thread::sleep_for(std::min<Clock::duration>(5ms, boundary - Clock::now()));
    }
    Progress p;
    p.elapsed_s = std::chrono::duration<double>(std::min(Clock::now(), boundary) - s.start).count();
    p.warming_up = boundary <= s.measure_from;
    for (auto& slot : s.slots) {
      std::lock_guard lock(slot->m);
      p.latency.merge(slot->interval);
      p.second.add(slot->interval_tally);
      slot->interval.reset();
      slot->interval_tally = {};
    }
    if (on_second_ && (p.second.requests > 0 || p.second.errors.total() > 0 || !all_done)) on_second_(p);
    if (all_done) break;
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
  Report r;
  for (auto& slot : s.slots) {
    r.latency.merge(slot->total);
    r.tally.add(slot->total_tally);
  }
  auto finished = s.end;
  if (const auto at = s.stopped_at.load(); at != 0)
    finished = std::min(finished, Clock::time_point(Clock::duration(at)));
  r.seconds = std::max(0.0, std::chrono::duration<double>(finished - s.measure_from).count());
  return r;
}

}  // namespace cachelab::loadgen

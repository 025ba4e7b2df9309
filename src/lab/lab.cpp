#include "lab/lab.hpp"
#include "core/log.hpp"

#include "loadgen/builtin.hpp"
#include "loadgen/report.hpp"
#include "loadgen/server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace cachelab::lab {

using namespace std::chrono_literals;

struct Lab::Job {
  std::uint64_t id = 0;
  std::atomic<bool> stopping{false};
  std::mutex m;
  loadgen::LoadRun* current = nullptr;  // the run under way, to stop it early

  void stop() {
    stopping = true;
    std::lock_guard lock(m);
    if (current != nullptr) current->stop();
  }
};

namespace {

constexpr std::size_t kept_results = 60;

// The lab runs built-in workloads only: a name from an HTTP request never becomes a path to read.
Result<loadgen::Workload> builtin(std::string_view name) {
  for (const auto& b : loadgen::builtin_workloads()) {
    if (b.file.substr(0, b.file.size() - 5) == name) return loadgen::parse_workload(b.json, b.file);
  }
  return invalid("invalid_workload", fmt::format("no built-in workload named '{}'", name));
}

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// What an experiment changed, put back however it ends (the destructor runs on stop, failure or success).
class Restore {
 public:
  explicit Restore(const Hooks& hooks) : hooks_(hooks) {}
  Restore(const Restore&) = delete;
  Restore& operator=(const Restore&) = delete;
  ~Restore() {
    for (auto it = settings_.rbegin(); it != settings_.rend(); ++it) {
      if (auto r = hooks_.change_redis_setting(it->first, it->second); !r) {
        spdlog::error("event=lab_restore_failed setting={} value={} detail={}", it->first, it->second,
                      log_quote(r.error().message));
      }
    }
    if (ttl_) hooks_.override_ttl(0ms);
  }
  // Remembers a Redis setting's current value before the first change to it.
  Result<void> change(const std::string& name, const std::string& value) {
    if (std::none_of(settings_.begin(), settings_.end(), [&](const auto& s) { return s.first == name; })) {
      auto was = hooks_.redis_setting(name);
      if (!was) return was.error();
      settings_.emplace_back(name, *was);
    }
    return hooks_.change_redis_setting(name, value);
  }
  void ttl(std::chrono::milliseconds ttl) {
    ttl_ = true;
    hooks_.override_ttl(ttl);
  }

 private:
  const Hooks& hooks_;
  std::vector<std::pair<std::string, std::string>> settings_;
  bool ttl_ = false;
};

}  // namespace

const std::vector<ExperimentInfo>& experiments() {
  static const std::vector<ExperimentInfo> all = {
      {"maxmemory", "Hit ratio and p99 vs Redis maxmemory",
       "Runs uniform-large and zipf-0.99 with Redis's maxmemory at 2, 8, 32 and 64 MB, emptying the cache "
       "before "
       "each run. A skewed workload keeps a high hit ratio in a small cache because its hot keys fit; a "
       "uniform one "
       "is bounded by the share of the catalog that fits. Needs a catalog larger than the cache to show it "
       "(make demo SCALE=100)."},
      {"eviction-policy", "allkeys-lru vs allkeys-lfu",
       "Runs zipf-0.99 with maxmemory at 4 MB, once under each eviction policy. LFU keeps the keys read "
       "often, which "
       "LRU may let a run of rarely read keys push out; the difference shows when the catalog does not fit "
       "(scale 100)."},
      {"ttl", "TTL 5 s vs 60 s",
       "Runs zipf-0.99 with every TTL at 5 s, then at 60 s. A short TTL bounds how stale an answer can be, "
       "and "
       "sends every key back to PostgreSQL each time it expires: the database load is the price."},
  };
  return all;
}

std::vector<WorkloadInfo> workloads() {
  std::vector<WorkloadInfo> out;
  for (const auto& b : loadgen::builtin_workloads()) {
    if (auto w = loadgen::parse_workload(b.json, b.file)) out.push_back({w->name, w->description});
  }
  return out;
}

Lab::Lab(loadgen::Target self, Hooks hooks, std::string admin_token)
    : self_(std::move(self)), hooks_(std::move(hooks)), admin_token_(std::move(admin_token)) {}

Lab::~Lab() {
  shutdown();
}

void Lab::aim(loadgen::Target self) {
  std::lock_guard lock(m_);
  self_ = std::move(self);
}

void Lab::set_hooks(Hooks hooks) {
  std::lock_guard lock(m_);
  hooks_ = std::move(hooks);
}

std::shared_ptr<const State> Lab::state() const {
  std::lock_guard lock(m_);
  return state_;
}

bool Lab::busy() const {
  return state()->running;
}

void Lab::publish(const std::function<void(State&)>& change) {
  std::lock_guard lock(m_);
  auto next = std::make_shared<State>(*state_);
  change(*next);
  ++next->version;
  state_ = std::move(next);
}

Result<void> Lab::launch(std::string kind, std::function<void(Job&)> body) {
  std::lock_guard lock(m_);
  if (state_->running) {
    return Error{ErrorKind::conflict, fmt::format("a {} is already under way; stop it first", state_->kind),
                 "lab_busy"};
  }
  if (thread_.joinable()) thread_.join();  // the last job's thread, already finished
  auto job = std::make_shared<Job>();
  job->id = state_->job + 1;
  job_ = job;
  auto next = std::make_shared<State>(*state_);
  next->job = job->id;
  next->running = true;
  next->kind = std::move(kind);
  next->step.clear();
  next->points.clear();
  next->error.clear();
  ++next->version;
  state_ = std::move(next);
  thread_ = std::thread([this, job, body = std::move(body)] {
    std::string error;
    try {
      body(*job);
    } catch (const std::exception& e) {
      error = e.what();
    }
    publish([&](State& s) {
      s.running = false;
      s.error = error;
    });
  });
  return {};
}

Result<void> Lab::start_run(const RunRequest& request) {
  auto w = builtin(request.workload);
  if (!w) return w.error();
  if (request.duration < 1s || request.duration > 600s) {
    return invalid("invalid_duration", "duration_seconds must be from 1 to 600");
  }
  if (request.connections && (*request.connections < 1 || *request.connections > 512)) {
    return invalid("invalid_connections", "connections must be from 1 to 512");
  }
  if (request.rate && !(*request.rate > 0 && *request.rate <= 1e6)) {
    return invalid("invalid_rate", "rate must be above 0 and at most 1000000 requests per second");
  }
  return launch("run", [this, w = *w, request](Job& job) { run_once(job, w.name, w, request); });
}

Result<void> Lab::start_experiment(std::string_view name, std::chrono::seconds per_run) {
  if (per_run < 1s || per_run > 120s)
    return invalid("invalid_duration", "seconds_per_run must be from 1 to 120");
  // One run of an experiment: empty the cache first (so runs start alike), then change the setting (`set`),
  // then run. In that order: lowering maxmemory below what the cache holds would make Redis refuse the
  // flush's generation bump (a write) with OOM.
  const auto step = [this, per_run](Job& job, const std::string& label, const std::string& workload,
                                    const std::function<void()>& set) {
    auto w = builtin(workload);
    if (!w) throw std::runtime_error(w.error().message);
    if (auto flushed = hooks_.flush(); !flushed) throw std::runtime_error(flushed.error().message);
    set();
    run_once(job, label, *w, RunRequest{workload, per_run});
  };
  const auto must = [](Result<void> r) {
    if (!r) throw std::runtime_error(r.error().message);
  };
  if (name == "maxmemory") {
    return launch(std::string(name), [this, step, must](Job& job) {
      Restore restore(hooks_);
      for (const char* workload : {"uniform-large", "zipf-0.99"}) {
        for (int mb : {2, 8, 32, 64}) {
          if (job.stopping) return;
          step(job, fmt::format("{}, maxmemory {} MB", workload, mb), workload,
               [&] { must(restore.change("maxmemory", std::to_string(mb * 1024 * 1024))); });
        }
      }
    });
  }
  if (name == "eviction-policy") {
    return launch(std::string(name), [this, step, must](Job& job) {
      Restore restore(hooks_);
      for (const char* policy : {"allkeys-lru", "allkeys-lfu"}) {
        if (job.stopping) return;
        step(job, fmt::format("zipf-0.99, {} at 4 MB", policy), "zipf-0.99", [&] {
          must(restore.change("maxmemory", std::to_string(4 * 1024 * 1024)));
          must(restore.change("maxmemory-policy", policy));
        });
      }
    });
  }
  if (name == "ttl") {
    return launch(std::string(name), [this, step](Job& job) {
      Restore restore(hooks_);
      for (int seconds : {5, 60}) {
        if (job.stopping) return;
        step(job, fmt::format("zipf-0.99, TTL {} s", seconds), "zipf-0.99",
             [&] { restore.ttl(std::chrono::seconds(seconds)); });
      }
    });
  }
  return Error{ErrorKind::not_found, fmt::format("no experiment named '{}'", name), {}};
}

RunResult Lab::run_once(Job& job, const std::string& label, const loadgen::Workload& w,
                        const RunRequest& request) {
  loadgen::LoadOptions o;
  o.target = self_;
  o.workload = w;
  if (w.keys.key_space > 0) {
    o.key_space = w.keys.key_space;
  } else if (auto n = loadgen::catalog_size(self_); n && *n > 0) {
    o.key_space = *n;
  } else {
    throw std::runtime_error("could not read the catalog's size from /products?limit=1 for " + w.name);
  }
  o.rate = request.rate.value_or(0);
  o.connections = request.connections.value_or(o.rate > 0 ? 16 : 32);
  o.threads = 1;  // the server's own I/O threads need the cores more
  o.warmup = w.warmup;
  o.duration = request.duration;
  o.request_timeout = 5s;
  o.admin_token = admin_token_;
  publish([&](State& s) {
    s.step = label;
    s.points.clear();
  });

  Hooks::Figures base, last;
  double t = 0;
  const auto seconds =
      static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(o.duration).count());
  auto on_second = [&](const loadgen::Progress& p) {
    // Whole measured seconds only: not the warm-up, not the part of a second after the end.
    if (p.warming_up || t >= seconds) return;
    const auto now = hooks_.figures();
    Point point{++t,
                static_cast<double>(p.second.requests),
                ms(p.latency.percentile(50)),
                ms(p.latency.percentile(99)),
                p.second.hit_ratio(),
                static_cast<double>(now.db_queries - last.db_queries),
                now.used_memory,
                now.evicted_keys};
    last = now;
    publish([&](State& s) { s.points.push_back(point); });
  };
  auto run = loadgen::LoadRun::start(o, on_second, [&] { base = last = hooks_.figures(); });
  {
    std::lock_guard lock(job.m);
    job.current = run.get();
  }
  if (job.stopping) run->stop();
  auto report = run->wait();
  {
    std::lock_guard lock(job.m);
    job.current = nullptr;
  }
  const auto end = hooks_.figures();

  RunResult r;
  r.job = job.id;
  r.label = label;
  r.workload = w.name;
  r.key_space = o.key_space;
  r.rps = report.requests_per_second();
  r.p50_ms = ms(report.latency.percentile(50));
  r.p99_ms = ms(report.latency.percentile(99));
  r.p999_ms = ms(report.latency.percentile(99.9));
  r.max_ms = ms(report.latency.max());
  r.hit_ratio = report.tally.hit_ratio();
  r.db_qps = report.seconds > 0 ? static_cast<double>(end.db_queries - base.db_queries) / report.seconds : 0;
  r.evicted = end.evicted_keys.value_or(0) - base.evicted_keys.value_or(0);
  r.errors = report.tally.errors.total();
  for (double p : {0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0}) {
    r.percentiles.emplace_back(p, ms(report.latency.percentile(p)));
  }
  loadgen::RunDescription d{fmt::format("http://{}:{}", self_.host, self_.port), w.name, &o, r.db_qps};
  r.report_json = loadgen::to_json(report, d);
  publish([&](State& s) {
    s.results.push_back(r);
    if (s.results.size() > kept_results) s.results.erase(s.results.begin());
  });
  return r;
}

bool Lab::stop() {
  std::shared_ptr<Job> job;
  {
    std::lock_guard lock(m_);
    if (!state_->running) return false;
    job = job_;
  }
  if (job) job->stop();
  return true;
}

void Lab::shutdown() {
  stop();
  if (thread_.joinable()) thread_.join();
  // The hooks hold the server's services (and their Redis and PostgreSQL connections): let them go now,
  // before the server tears down the event loops those belong to.
  std::lock_guard lock(m_);
  hooks_ = {};
}

}  // namespace cachelab::lab

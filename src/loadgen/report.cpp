#include "loadgen/report.hpp"

#include "core/json_writer.hpp"

#include <fmt/format.h>

namespace cachelab::loadgen {
namespace {

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

}  // namespace

double error_rate(const Report& r) {
  const auto attempts =
      r.tally.requests + r.tally.errors.connect + r.tally.errors.timeout + r.tally.errors.io;
  return attempts == 0 ? 0.0 : static_cast<double>(r.tally.errors.total()) / static_cast<double>(attempts);
}

std::string to_text(const Report& r, const RunDescription& d) {
  const auto& o = *d.options;
  const auto& e = r.tally.errors;
  const auto& h = r.latency;
  std::string out = fmt::format(
      "cachelab load: {} {} — {}, {} connection{}, {} thread{}, {:.0f} s measured{}\n", d.url, d.workload,
      o.rate > 0 ? fmt::format("open loop at {:.0f} req/s (latency from the intended send time)", o.rate)
                 : "closed loop",
      o.connections, o.connections == 1 ? "" : "s", o.threads, o.threads == 1 ? "" : "s", r.seconds,
      o.warmup.count() > 0 ? fmt::format(" after {:.0f} s of warm-up", o.warmup.count() / 1000.0) : "");
  out += fmt::format("  requests     {} ({:.1f}/s){}\n", r.tally.requests, r.requests_per_second(),
                     r.tally.writes > 0 ? fmt::format(", {} writes", r.tally.writes) : "");
  out += fmt::format("  latency ms   p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  p99.9 {:.3f}  max {:.3f}\n",
                     ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)),
                     ms(h.max()));
  out += fmt::format("  errors       {} ({:.2f}%): connect {}, timeout {}, 4xx {}, 5xx {}, io {}\n",
                     e.total(), 100 * error_rate(r), e.connect, e.timeout, e.status_4xx, e.status_5xx, e.io);
  if (auto hit = r.tally.hit_ratio()) {
    out += fmt::format("  hit ratio    {:.1f}% (X-Cache){}\n", 100 * *hit,
                       r.tally.collapsed > 0
                           ? fmt::format(", {} collapsed into another request's load", r.tally.collapsed)
                           : "");
  }
  if (d.database_queries_per_second) {
    out += fmt::format("  database     {:.1f} queries/s (the server's own count)\n",
                       *d.database_queries_per_second);
  }
  return out;
}

std::string to_json(const Report& r, const RunDescription& d) {
  const auto& o = *d.options;
  const auto& e = r.tally.errors;
  const auto& h = r.latency;
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("url", d.url)
      .field("workload", d.workload)
      .field("mode", o.rate > 0 ? "open" : "closed");
  w.field("connections", o.connections).field("threads", o.threads);
  w.key("rate");
  if (o.rate > 0) {
    w.number(o.rate, 1);
  } else {
    w.null();
  }
  w.key("warmup_seconds").number(o.warmup.count() / 1000.0, 3);
  w.key("duration_seconds").number(r.seconds, 3);
  w.field("requests", r.tally.requests).field("writes", r.tally.writes);
  w.key("requests_per_second").number(r.requests_per_second(), 1);
  w.key("errors")
      .begin_object()
      .field("connect", e.connect)
      .field("timeout", e.timeout)
      .field("status_4xx", e.status_4xx)
      .field("status_5xx", e.status_5xx)
      .field("io", e.io)
      .end_object();
  w.key("error_rate").number(error_rate(r), 6);
  w.key("latency_ms")
      .begin_object()
      .key("p50")
      .number(ms(h.percentile(50)), 3)
      .key("p90")
      .number(ms(h.percentile(90)), 3)
      .key("p99")
      .number(ms(h.percentile(99)), 3)
      .key("p999")
      .number(ms(h.percentile(99.9)), 3)
      .key("max")
      .number(ms(h.max()), 3)
      .key("mean")
      .number(h.mean() / 1e6, 3)
      .end_object();
  w.key("hit_ratio");
  if (auto hit = r.tally.hit_ratio()) {
    w.number(*hit, 4);
  } else {
    w.null();
  }
  w.field("collapsed", r.tally.collapsed);
  w.key("database_queries_per_second");
  if (d.database_queries_per_second) {
    w.number(*d.database_queries_per_second, 1);
  } else {
    w.null();
  }
  // The histogram: each non-empty bucket's upper bound and count; cumulative counts give any percentile.
  w.key("histogram").begin_array();
  for (const auto& b : h.buckets())
    w.begin_object().key("le_ms").number(ms(b.upper_ns), 6).field("count", b.count).end_object();
  w.end_array();
  w.end_object();
  return out;
}

std::string progress_line(const Progress& p) {
  const auto& h = p.latency;
  const auto hit = p.second.hit_ratio();
  return fmt::format("{:6.1f}s{} {:>9} req/s  p50 {:7.3f} ms  p99 {:8.3f} ms  hit {}  errors {}", p.elapsed_s,
                     p.warming_up ? " warm-up" : "        ", p.second.requests, ms(h.percentile(50)),
                     ms(h.percentile(99)), hit ? fmt::format("{:5.1f}%", 100 * *hit) : "    -",
                     p.second.errors.total());
}

std::string timeline_line(const Progress& p) {
  const auto& h = p.latency;
  return fmt::format(
      R"({{"t":{:.3f},"warmup":{},"requests":{},"errors":{},"hits":{},"misses":{},"p50_ms":{:.3f},)"
      R"("p99_ms":{:.3f},"max_ms":{:.3f}}})",
      p.elapsed_s, p.warming_up, p.second.requests, p.second.errors.total(), p.second.hits, p.second.misses,
      ms(h.percentile(50)), ms(h.percentile(99)), ms(h.max()));
}

}  // namespace cachelab::loadgen

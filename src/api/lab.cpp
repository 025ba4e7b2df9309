// The load lab over HTTP: what can be run, starting and stopping runs and experiments, and the live events of
// the job under way (Server-Sent Events: one `point` a second, a `result` per finished run, then `done`).
#include "lab/lab.hpp"
#include "api/handlers.hpp"
#include "api/params.hpp"
#include "core/json_writer.hpp"

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

namespace cachelab::api {

namespace asio = boost::asio;
using boost::asio::awaitable;

namespace {

void write_optional(JsonWriter& w, std::string_view key, const std::optional<double>& v, int decimals) {
  w.key(key);
  if (v) {
    w.number(*v, decimals);
  } else {
    w.null();
  }
}

void write_optional(JsonWriter& w, std::string_view key, const std::optional<std::int64_t>& v) {
  w.key(key);
  if (v) {
    w.value(*v);
  } else {
    w.null();
  }
}

std::string point_json(const lab::Point& p, std::string_view step) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("step", step).key("t").number(p.t, 0).key("rps").number(p.rps, 0);
  w.key("p50_ms").number(p.p50_ms, 3).key("p99_ms").number(p.p99_ms, 3);
  write_optional(w, "hit_ratio", p.hit_ratio, 4);
  w.key("db_qps").number(p.db_qps, 0);
  write_optional(w, "used_memory", p.used_memory);
  write_optional(w, "evicted_keys", p.evicted_keys);
  w.end_object();
  return out;
}

void write_result(JsonWriter& w, const lab::RunResult& r, bool with_report) {
  w.begin_object()
      .field("job", static_cast<std::int64_t>(r.job))
      .field("label", r.label)
      .field("workload", r.workload);
  w.field("key_space", r.key_space);
  w.key("rps").number(r.rps, 1).key("p50_ms").number(r.p50_ms, 3).key("p99_ms").number(r.p99_ms, 3);
  w.key("p999_ms").number(r.p999_ms, 3).key("max_ms").number(r.max_ms, 3);
  write_optional(w, "hit_ratio", r.hit_ratio, 4);
  w.key("db_qps").number(r.db_qps, 1).field("evicted_keys", r.evicted).field("errors", r.errors);
  w.key("percentiles").begin_array();
  for (const auto& [p, ms] : r.percentiles) w.begin_array().number(p, 3).number(ms, 3).end_array();
  w.end_array();
  if (with_report) w.key("report").raw(r.report_json);
  w.end_object();
}

std::string result_json(const lab::RunResult& r) {
  std::string out;
  JsonWriter w(out);
  write_result(w, r, true);
  return out;
}

std::string state_json(const lab::State& s) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("job", static_cast<std::int64_t>(s.job)).field("running", s.running);
  w.field("kind", s.kind).field("step", s.step).field("error", s.error).end_object();
  return out;
}

std::string event(std::string_view name, std::string_view data) {
  return fmt::format("event: {}\ndata: {}\n\n", name, data);
}

Result<std::shared_ptr<lab::Lab>> lab_of(const Api& api) {
  if (!api.services.lab)
    return make_error(ErrorKind::unavailable, "the load lab is not running in this process");
  return api.services.lab;
}

// A JSON object body with only `allowed` fields (an empty body is an empty object).
Result<boost::json::object> object_body(std::string_view body,
                                        std::initializer_list<std::string_view> allowed) {
  if (body.empty()) return boost::json::object{};
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) return invalid("invalid_json", "the body must be a JSON object");
  for (const auto& [k, v] : doc.as_object()) {
    if (std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end()) {
      return invalid("unknown_field", fmt::format("unknown field '{}'", std::string_view(k)));
    }
  }
  return doc.as_object();
}

// A whole number field in [min, max], if present.
Result<std::optional<std::int64_t>> int_field(const boost::json::object& o, std::string_view key,
                                              std::int64_t min, std::int64_t max) {
  auto* v = o.if_contains(key);
  if (v == nullptr) return std::optional<std::int64_t>{};
  if (!v->is_int64() || v->as_int64() < min || v->as_int64() > max) {
    return invalid(fmt::format("invalid_{}", key),
                   fmt::format("{} must be a whole number from {} to {}", key, min, max));
  }
  return std::optional<std::int64_t>{v->as_int64()};
}

Response accepted(std::string_view what) {
  std::string body;
  JsonWriter(body).begin_object().field("started", what).end_object();
  return json_response(http::status::accepted, std::move(body));
}

}  // namespace

awaitable<Response> lab_overview(const Api& api, RequestContext&) {
  auto lab = lab_of(api);
  if (!lab) co_return error_response(lab.error());
  auto state = (*lab)->state();
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("workloads").begin_array();
  for (const auto& wl : lab::workloads())
    w.begin_object().field("name", wl.name).field("description", wl.description).end_object();
  w.end_array().key("experiments").begin_array();
  for (const auto& e : lab::experiments()) {
    w.begin_object()
        .field("name", e.name)
        .field("title", e.title)
        .field("explanation", e.explanation)
        .end_object();
  }
  w.end_array().key("state").raw(state_json(*state)).key("results").begin_array();
  for (const auto& r : state->results) write_result(w, r, false);
  w.end_array().end_object();
  co_return json_response(http::status::ok, std::move(body));
}

awaitable<Response> lab_start_run(const Api& api, RequestContext& ctx) {
  auto lab = lab_of(api);
  if (!lab) co_return error_response(lab.error());
  auto body = object_body(ctx.request.body(), {"workload", "duration_seconds", "connections", "rate"});
  if (!body) co_return error_response(body.error());
  lab::RunRequest r;
  auto* workload = body->if_contains("workload");
  if (workload == nullptr || !workload->is_string()) {
    co_return error_response(
        invalid("invalid_workload", "workload is required: the name of a built-in workload"));
  }
  r.workload = workload->as_string();
  auto duration = int_field(*body, "duration_seconds", 1, 600);
  if (!duration) co_return error_response(duration.error());
  r.duration = std::chrono::seconds(duration->value_or(10));
  auto connections = int_field(*body, "connections", 1, 512);
  if (!connections) co_return error_response(connections.error());
  if (*connections) r.connections = static_cast<int>(**connections);
  if (auto* rate = body->if_contains("rate")) {
    if (!rate->is_number())
      co_return error_response(invalid("invalid_rate", "rate must be a number of requests per second"));
    r.rate = rate->to_number<double>();
  }
  if (auto started = (*lab)->start_run(r); !started) co_return error_response(started.error());
  co_return accepted("run");
}

awaitable<Response> lab_start_experiment(const Api& api, RequestContext& ctx) {
  auto lab = lab_of(api);
  if (!lab) co_return error_response(lab.error());
  auto body = object_body(ctx.request.body(), {"seconds_per_run"});
  if (!body) co_return error_response(body.error());
  auto per_run = int_field(*body, "seconds_per_run", 1, 120);
  if (!per_run) co_return error_response(per_run.error());
  const auto name = ctx.path_param("name");
  if (auto started = (*lab)->start_experiment(name, std::chrono::seconds(per_run->value_or(5))); !started) {
    co_return error_response(started.error());
  }
  co_return accepted(name);
}

awaitable<Response> lab_stop(const Api& api, RequestContext&) {
  auto lab = lab_of(api);
  if (!lab) co_return error_response(lab.error());
  std::string body;
  JsonWriter(body).begin_object().field("stopped", (*lab)->stop()).end_object();
  co_return json_response(http::status::ok, std::move(body));
}

// The job under way as it happens. Looks at the lab's state five times a second and sends what is new; ends
// with `done` when the job does (or at once with `idle` when none runs), or when the client goes away.
awaitable<Response> lab_events(const Api& api, RequestContext& ctx) {
  auto lab = lab_of(api);
  if (!lab) co_return error_response(lab.error());
  if (ctx.stream == nullptr)
    co_return error_response(make_error(ErrorKind::unavailable, "no event stream here"));
  *ctx.stream = [lab = *lab](Send send) -> awaitable<void> {
    asio::steady_timer tick(co_await asio::this_coro::executor);
    auto s = lab->state();
    if (!s->running) {
      auto idle = event("idle", state_json(*s));
      co_await send(std::move(idle));
      co_return;
    }
    const auto job = s->job;
    std::string step;
    std::size_t points_sent = 0, results_sent = 0;
    for (;;) {
      std::string out;
      if (s->job == job) {
        if (s->step != step || s->points.size() < points_sent) {
          step = s->step;
          points_sent = 0;
          out += event("state", state_json(*s));
        }
        for (; points_sent < s->points.size(); ++points_sent)
          out += event("point", point_json(s->points[points_sent], step));
        std::size_t seen = 0;
        for (const auto& r : s->results) {
          if (r.job != job) continue;
          if (seen++ >= results_sent) {
            out += event("result", result_json(r));
            ++results_sent;
          }
        }
      }
      const bool over = s->job != job || !s->running;
      if (over) out += event("done", state_json(*s));
      if (!out.empty() && !co_await send(std::move(out))) co_return;
      if (over) co_return;
      tick.expires_after(std::chrono::milliseconds(200));
      boost::system::error_code ec;
      co_await tick.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      s = lab->state();
    }
  };
  auto head = json_response(http::status::ok, "");
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-store");
  co_return head;
}

}  // namespace cachelab::api

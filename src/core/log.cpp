#include "core/log.hpp"

#include "core/json_writer.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <unistd.h>

namespace cachelab {

namespace {

thread_local const RequestId* current_request = nullptr;

// A value log_quote() wrote, back to its text (the inverse of its escapes); `in` starts after the opening
// quote and ends after the closing one. False when the quote never closes.
bool unquote(std::string_view& in, std::string& out) {
  const auto hex = [](char c) { return c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0'; };
  while (!in.empty()) {
    const char c = in.front();
    in.remove_prefix(1);
    if (c == '"') return true;
    if (c != '\\' || in.empty()) {
      out.push_back(c);
      continue;
    }
    const char e = in.front();
    in.remove_prefix(1);
    if (e == 'n') {
      out.push_back('\n');
    } else if (e == 'r') {
      out.push_back('\r');
    } else if (e == 't') {
      out.push_back('\t');
    } else if (e == 'x' && in.size() >= 2) {
      out.push_back(static_cast<char>(hex(in[0]) * 16 + hex(in[1])));
      in.remove_prefix(2);
    } else {
      out.push_back(e);
    }
  }
  return false;
}

struct Pair {
  std::string_view key;
  std::string value;
  bool quoted = false;
};

// key=value pairs separated by spaces (values bare or quoted by log_quote); nullopt when `message` is not
// that.
std::optional<std::vector<Pair>> parse_pairs(std::string_view message) {
  std::vector<Pair> pairs;
  while (!message.empty()) {
    while (!message.empty() && message.front() == ' ') message.remove_prefix(1);
    if (message.empty()) break;
    const auto eq = message.find('=');
    if (eq == 0 || eq == std::string_view::npos) return std::nullopt;
    Pair p;
    p.key = message.substr(0, eq);
    if (p.key.find_first_of(" \"") != std::string_view::npos) return std::nullopt;
    message.remove_prefix(eq + 1);
    if (!message.empty() && message.front() == '"') {
      message.remove_prefix(1);
      p.quoted = true;
      if (!unquote(message, p.value)) return std::nullopt;
      if (!message.empty() && message.front() != ' ') return std::nullopt;
    } else {
      const auto end = message.find(' ');
      p.value = message.substr(0, end);
      message.remove_prefix(end == std::string_view::npos ? message.size() : end);
    }
    pairs.push_back(std::move(p));
  }
  return pairs;
}

// Text lines: the request id, when there is one, after the level.
class RequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto id = RequestIdScope::current();
    if (id.empty()) return;
    static constexpr std::string_view key = " request_id=";
    dest.append(key.data(), key.data() + key.size());
    dest.append(id.data(), id.data() + id.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<RequestIdFlag>(); }
};

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
    const auto ts =
        fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(spdlog::log_clock::to_time_t(msg.time)), ms);
    const auto level = spdlog::level::to_string_view(msg.level);
    auto line =
        log_line_as_json(ts, std::string_view(level.data(), level.size()),
                         std::string_view(msg.payload.data(), msg.payload.size()), RequestIdScope::current());
    line.push_back('\n');
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view word) {
  if (word == "text") return LogFormat::text;
  if (word == "json") return LogFormat::json;
  if (word == "auto") return isatty(STDOUT_FILENO) ? LogFormat::text : LogFormat::json;
  return std::nullopt;
}

std::string log_line_as_json(std::string_view ts, std::string_view level, std::string_view message,
                             std::string_view request_id) {
  std::string out = "{\"ts\":";
  append_json_string(out, ts);
  out += ",\"level\":";
  append_json_string(out, level);
  auto pairs = parse_pairs(message);
  const auto event =
      pairs ? std::find_if(pairs->begin(), pairs->end(), [](const Pair& p) { return p.key == "event"; })
            : std::vector<Pair>::iterator{};
  out += ",\"msg\":";
  append_json_string(out, pairs && event != pairs->end() ? std::string_view(event->value) : message);
  if (!request_id.empty()) {
    out += ",\"request_id\":";
    append_json_string(out, request_id);
  }
  if (pairs) {
    for (auto it = pairs->begin(); it != pairs->end(); ++it) {
      if (it == event || it->key == "ts" || it->key == "level" || it->key == "msg" ||
          it->key == "request_id") {
        continue;
      }
      out.push_back(',');
      append_json_string(out, it->key);
      out.push_back(':');
      if (!it->quoted && (is_json_number(it->value) || it->value == "true" || it->value == "false")) {
        out += it->value;
      } else {
        append_json_string(out, it->value);
      }
    }
  }
  out.push_back('}');
  return out;
}

void RequestId::set(std::string_view id) {
  size_ = std::min(id.size(), text_.size());
  std::copy_n(id.data(), size_, text_.data());
}

RequestIdScope::RequestIdScope(const RequestId* id) : previous_(current_request) {
  current_request = id;
}

RequestIdScope::~RequestIdScope() {
  current_request = previous_;
}

std::string_view RequestIdScope::current() {
  return current_request ? current_request->view() : std::string_view{};
}

bool setup_logging(std::string_view level, LogFormat format) {
  auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  // Logs go to stdout so containers and `kubectl logs` see them.
  auto logger = spdlog::stdout_logger_mt("cachelab");
  if (format == LogFormat::json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<RequestIdFlag>('*').set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l%* %v");
    logger->set_formatter(std::move(formatter));
  }
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return true;
}

std::string log_quote(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('"');
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

std::optional<std::int64_t> LogLimiter::admit() {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count();
  auto window = window_.load(std::memory_order_relaxed);
  if (window != now && window_.compare_exchange_strong(window, now, std::memory_order_relaxed)) {
    in_window_.store(0, std::memory_order_relaxed);
  }
  if (in_window_.fetch_add(1, std::memory_order_relaxed) < per_second_) {
    return suppressed_.exchange(0, std::memory_order_relaxed);
  }
  suppressed_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

}  // namespace cachelab

// core/log: one-time logging set-up (spdlog on stdout, where containers and `kubectl logs` read it), as
// logfmt-style key=value lines or one JSON object per line, and the two rules that keep those lines parseable
// and few: every free-text value goes through log_quote(), and a warning that can repeat per request goes
// through a LogLimiter. Every line written while a request is being served carries its request id
// (RequestIdScope). Owns the global logger's level, format and pattern. Never called on a hot path except
// through spdlog's macros.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachelab {

enum class LogFormat { text, json };

// "text", "json", or "auto" (text when stdout is a terminal, JSON otherwise); nullopt for any other word.
std::optional<LogFormat> parse_log_format(std::string_view word);

// Sets the global level ("trace", "debug", "info", "warn", "error" or "off"; false for any other word) and
// the format. Text: `ts=… level=… <the message's key=value pairs>`. JSON: {"ts", "level", "msg", then the
// message's pairs as fields}: `msg` is the value of its `event=` (or the whole message when it is not
// key=value pairs), a quoted value becomes a string, a bare number a number, true/false a boolean.
bool setup_logging(std::string_view level, LogFormat format = LogFormat::text);

// The message of a key=value log line as the JSON object its JSON format writes (without a newline).
std::string log_line_as_json(std::string_view ts, std::string_view level, std::string_view message,
                             std::string_view request_id = {});

// A request's id where the code serving it can read it: written by the transport when a request starts and
// cleared once its answer is out. At most 32 characters (a W3C trace id); longer ones are cut.
class RequestId {
 public:
  void set(std::string_view id);
  void clear() { size_ = 0; }
  std::string_view view() const { return {text_.data(), size_}; }

 private:
  std::array<char, 32> text_{};
  std::size_t size_ = 0;
};

// Which request this thread is working for: every log line written meanwhile says request_id=… (nothing when
// the id is empty or there is none). Set by whoever resumes a request's work (the HTTP transport's
// per-connection executor), and restored when that work yields.
class RequestIdScope {
 public:
  explicit RequestIdScope(const RequestId* id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;
  static std::string_view current();

 private:
  const RequestId* previous_;
};

// A value for a key=value record: in double quotes, with ", \ and control characters escaped (\n, \t, \x01),
// so a multi-line message (libpq's) stays one record and a quote in it cannot end the value early.
std::string log_quote(std::string_view value);

// Lets at most `per_second` records of one kind through each second, from any thread. admit() answers whether
// to write this one, and, if so, how many were held back since the last one written (to say suppressed=N).
class LogLimiter {
 public:
  explicit LogLimiter(int per_second) : per_second_(per_second) {}
  std::optional<std::int64_t> admit();

 private:
  const int per_second_;
  std::atomic<std::int64_t> window_{-1};  // the second being counted, on the steady clock
  std::atomic<int> in_window_{0};
  std::atomic<std::int64_t> suppressed_{0};
};

}  // namespace cachelab

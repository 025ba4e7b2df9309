// core/log: one-time logging set-up (spdlog, logfmt-style key=value lines on stdout, where containers and
// `kubectl logs` read them), and the two rules that keep those lines parseable and few: every free-text value
// goes through log_quote(), and a warning that can repeat per request goes through a LogLimiter. Owns the
// global logger's level and pattern. Never called on a hot path except through spdlog's macros.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachelab {

// Sets the global level: "trace", "debug", "info", "warn", "error" or "off"; false for any other word.
bool setup_logging(std::string_view level);

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

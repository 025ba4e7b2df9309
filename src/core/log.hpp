// core/log: one-time logging set-up (spdlog, logfmt-style key=value lines on stdout, where containers and
// `kubectl logs` read them).
// Owns the global logger's level and pattern. Never called on a hot path except through spdlog's macros.
#pragma once

#include <string_view>

namespace cachelab {

// Sets the global level: "trace", "debug", "info", "warn", "error" or "off"; false for any other word.
bool setup_logging(std::string_view level);

}  // namespace cachelab

// core/log: one-time logging set-up (spdlog, logfmt-style lines on stderr).
// Owns the global logger's level and pattern. Never called on a hot path except through spdlog's macros.
#pragma once

#include <string_view>

namespace cachelab {

// Sets the global level ("trace", "debug", "info", "warn", "error", "off"). Returns false for an unknown
// level.
bool setup_logging(std::string_view level);

}  // namespace cachelab

// web/dashboard: the dashboard's built files (web/ bundled by esbuild at build time, see web/build.mjs),
// compiled into the binary so it serves them with no files on disk and no network.
// Owns nothing but the generated table, which never changes at run time. Fails at build time: when
// web/build.mjs cannot bundle the dashboard the build stops, rather than ship a binary without it.
#pragma once

#include "http/static_files.hpp"

#include <span>

namespace cachelab::web {

// Every file of the built dashboard: "/" (index.html), "/assets/…" (content-hashed), "/favicon.svg".
std::span<const http::StaticFile> dashboard_files();

}  // namespace cachelab::web

// http/probe: one HTTP/1.1 GET on a fresh connection, answered or abandoned within one overall deadline;
// the container health check (`cachelab healthcheck`) uses it. Owns a private io_context for the call.
// Never waits past the deadline, whatever the server does (refuses, accepts and stays silent, sends half a
// head and stops): every step runs asynchronously, and the event loop stops when the deadline passes.
// Fails with a one-line reason; an answer of any status is a successful probe (the caller judges it).
#pragma once

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace cachelab::http {

struct ProbeAnswer {
  unsigned status = 0;
  std::string body;
};

// GET http://host:port/path. Blocks the calling thread (meant for command-line tools, never an I/O thread).
boost::system::result<ProbeAnswer, std::string> probe(std::string_view host, std::uint16_t port,
                                                      std::string_view path,
                                                      std::chrono::milliseconds timeout);

}  // namespace cachelab::http

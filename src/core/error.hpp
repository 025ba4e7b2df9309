// core/error: the vocabulary of expected failures shared by every layer.
// Owns Error (a kind, a human message, and where it came from) and Result<T>. Never does I/O or maps to HTTP
// (api/errors does that). Expected outcomes (not found, bad input, a backend down) travel as Result<T>;
// exceptions are for bugs.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <utility>

namespace cachelab {

enum class ErrorKind {
  invalid_argument,  // the caller's input is wrong
  not_found,         // the thing asked for does not exist
  conflict,          // the request cannot be done in the current state (a load run is already under way)
  unavailable,       // a backend is down or refusing
  timeout,           // a backend did not answer before the deadline
  internal,          // a bug or an unexpected backend answer
};

// Which backend failed, set where the failure is detected (db/, cache/), so no caller has to guess.
enum class Backend { none, database, cache };

struct Error {
  ErrorKind kind;
  std::string message;
  std::string code;  // for invalid_argument: the client's error code (e.g. "invalid_id"); else empty
  Backend backend = Backend::none;
};

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(ErrorKind kind, std::string message, Backend backend = Backend::none) {
  return Error{kind, std::move(message), {}, backend};
}

// Bad input, with the code clients see: invalid("invalid_limit", "limit must be ...").
inline Error invalid(std::string code, std::string message) {
  return Error{ErrorKind::invalid_argument, std::move(message), std::move(code), Backend::none};
}

}  // namespace cachelab

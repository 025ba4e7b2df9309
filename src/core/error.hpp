// core/error: the vocabulary of expected failures shared by every layer.
// Owns: Error (a kind plus a human message) and Result<T>. Never does I/O or maps to HTTP (api/ does that).
// Expected outcomes (not found, bad input, backend unavailable) travel as Result<T>; exceptions are for bugs.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <utility>

namespace cachelab {

enum class ErrorKind {
  invalid_argument,  // the caller's input is wrong
  not_found,         // the thing asked for does not exist
  unavailable,       // a backend is down or refusing
  timeout,           // a backend did not answer before the deadline
  internal,          // a bug or an unexpected backend answer
};

struct Error {
  ErrorKind kind;
  std::string message;
};

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

}  // namespace cachelab

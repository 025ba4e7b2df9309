// core/stopwatch: measures how long something took, in fractional milliseconds.
// Owns nothing but a start time. Never sleeps or logs.
#pragma once

#include <chrono>

namespace cachelab {

class Stopwatch {
 public:
  using clock = std::chrono::steady_clock;
  Stopwatch() : start_(clock::now()) {}
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(clock::now() - start_).count();
  }

 private:
  clock::time_point start_;
};

}  // namespace cachelab

#include "app/limits.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace cachelab::app {

std::uint64_t raise_descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
  if (lim.rlim_cur < lim.rlim_max) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  return lim.rlim_cur == RLIM_INFINITY ? std::uint64_t{1} << 20 : static_cast<std::uint64_t>(lim.rlim_cur);
}

std::size_t default_max_connections(std::uint64_t descriptor_limit) {
  const std::uint64_t reserve = std::max<std::uint64_t>(64, descriptor_limit / 10);
  const std::uint64_t left = descriptor_limit > reserve ? descriptor_limit - reserve : 0;
  return static_cast<std::size_t>(std::max<std::uint64_t>(16, left));
}

}  // namespace cachelab::app

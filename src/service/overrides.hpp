// service/overrides: the one knob of the policy that may change while the server runs — a TTL that replaces
// every endpoint's own, set by the load lab's TTL experiment and cleared after it. Shared by every I/O thread
// (an atomic read on each store); 0 means no override. Never set by anything but an experiment.
#pragma once

#include <atomic>
#include <cstdint>

namespace cachelab::service {

struct Overrides {
  std::atomic<std::int64_t> ttl_ms{0};
};

}  // namespace cachelab::service

// unit/support/resident_pages: how many whole pages of a range the kernel holds in RAM (mincore), for tests
// that check memory is taken only where it is used or given back. Never touches the pages it asks about.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

namespace cachelab::test_support {

// Whole pages of [p, p + n) that are resident; 0 when the kernel cannot say.
inline std::size_t resident_pages(const void* p, std::size_t n) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const std::uintptr_t first = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
  const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(p) + n) / page * page;
  if (end <= first) return 0;
  std::vector<unsigned char> in_core((end - first) / page);
  if (mincore(reinterpret_cast<void*>(first), end - first, in_core.data()) != 0) return 0;
  std::size_t count = 0;
  for (const unsigned char c : in_core) count += c & 1U;
  return count;
}

}  // namespace cachelab::test_support

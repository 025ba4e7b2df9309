// loadgen/histogram: a latency histogram in the manner of HdrHistogram — log-linear buckets (128 per power of
// two), so any value from 1 µs to 60 s is kept within 0.8% of its true value, in a fixed array: recording is
// two shifts and an increment, with no allocation and no lock. Each load-generator thread records into its
// own; they are merged at the end (and once a second for the progress line). Never stores individual samples.
// Values are nanoseconds; anything above 60 s counts as 60 s.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace cachelab::loadgen {

class Histogram {
 public:
  static constexpr int sub_bits = 7;  // 2^7 = 128 sub-buckets per power of two: relative error < 1/128
  static constexpr std::int64_t max_value_ns = 60'000'000'000;  // 60 s

  void record(std::int64_t ns) {
    if (ns < 0) ns = 0;
    if (ns > max_value_ns) ns = max_value_ns;
    ++counts_[index_of(static_cast<std::uint64_t>(ns))];
    ++total_;
    if (ns > max_) max_ = ns;
    if (ns < min_) min_ = ns;
  }
  void merge(const Histogram& other);
  void reset();

  std::int64_t count() const { return total_; }
  std::int64_t max() const { return total_ == 0 ? 0 : max_; }
  std::int64_t min() const { return total_ == 0 ? 0 : min_; }
  double mean() const;
  // The smallest recorded value v (to bucket precision) such that at least `percentile`% of values are <= v;
  // 0 when empty. percentile in [0, 100].
  std::int64_t percentile(double percentile) const;

  // The non-empty buckets, for reports: each bucket's highest value and its count, ascending.
  struct Bucket {
    std::int64_t upper_ns;
    std::int64_t count;
  };
  std::vector<Bucket> buckets() const;

  static int index_of(std::uint64_t v) {
    if (v < (1u << sub_bits)) return static_cast<int>(v);
    const int shift = std::bit_width(v) - 1 - sub_bits;
    return ((shift + 1) << sub_bits) + static_cast<int>((v >> shift) - (1u << sub_bits));
  }
  // The range of values a bucket holds: [lowest, highest].
  static std::int64_t lowest_of(int index);
  static std::int64_t highest_of(int index);

  static constexpr int bucket_count = (37 - sub_bits) << sub_bits;  // covers values below 2^36 ns (68.7 s)

 private:
  std::array<std::int64_t, bucket_count> counts_{};
  std::int64_t total_ = 0;
  std::int64_t max_ = 0;
  std::int64_t min_ = max_value_ns;
};

}  // namespace cachelab::loadgen

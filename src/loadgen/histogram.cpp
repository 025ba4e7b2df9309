#include "loadgen/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace cachelab::loadgen {

std::int64_t Histogram::lowest_of(int index) {
  if (index < (1 << sub_bits)) return index;
  const int shift = (index >> sub_bits) - 1;
  const std::int64_t sub = (index & ((1 << sub_bits) - 1)) + (1 << sub_bits);
  return sub << shift;
}

std::int64_t Histogram::highest_of(int index) {
  if (index < (1 << sub_bits)) return index;
  const int shift = (index >> sub_bits) - 1;
  return lowest_of(index) + (std::int64_t{1} << shift) - 1;
}

void Histogram::merge(const Histogram& other) {
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  if (other.total_ > 0) {
    max_ = std::max(max_, other.max_);
    min_ = std::min(min_, other.min_);
  }
}

void Histogram::reset() {
  counts_.fill(0);
  total_ = 0;
  max_ = 0;
  min_ = max_value_ns;
}

double Histogram::mean() const {
  if (total_ == 0) return 0;
  double sum = 0;
  for (int i = 0; i < bucket_count; ++i) {
    if (counts_[i] != 0) sum += static_cast<double>(counts_[i]) * (lowest_of(i) + highest_of(i)) / 2.0;
  }
  return sum / static_cast<double>(total_);
}

std::int64_t Histogram::percentile(double p) const {
  if (total_ == 0) return 0;
  const auto wanted = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(p / 100.0 * total_)));
  std::int64_t seen = 0;
  for (int i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    // The bucket's highest value, but never above the largest value actually recorded.
    if (seen >= wanted) return std::min(highest_of(i), max_);
  }
  return max_;
}

std::vector<Histogram::Bucket> Histogram::buckets() const {
  std::vector<Bucket> out;
  for (int i = 0; i < bucket_count; ++i) {
    if (counts_[i] != 0) out.push_back({highest_of(i), counts_[i]});
  }
  return out;
}

}  // namespace cachelab::loadgen

#include "core/metrics.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <new>
#include <stdexcept>

#include <sys/mman.h>

namespace cachelab::metrics {
namespace {

std::atomic<std::uint64_t> next_registry_id{1};

// The block this thread used last, and for which registry: one comparison on every record.
thread_local std::uint64_t cached_registry = 0;
thread_local detail::Cell* cached_cells = nullptr;

void append_number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::trunc(v) && std::fabs(v) < 9.0e15) {
    append_int(out, static_cast<std::int64_t>(v));  // whole numbers (bytes, counts) in full
  } else {
    char digits[32];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
  }
}

// The format's escapes: backslash and line feed, and in a label value (`quote`) the double quote too.
void append_escaped(std::string& out, std::string_view v, bool quote) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

bool valid_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

constexpr std::array<double, 16> latency = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                            0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};

}  // namespace

std::span<const double> latency_buckets() {
  return latency;
}

namespace detail {
Cell* cells(const Registry& r) {
  if (cached_registry == r.id_) return cached_cells;
  Cell* block = r.block_for_this_thread();
  cached_registry = r.id_;
  cached_cells = block;
  return block;
}
}  // namespace detail

std::int64_t Counter::value() const {
  return registry_ ? registry_->sum(cell_) : 0;
}

std::int64_t Gauge::value() const {
  return registry_ ? registry_->sum(cell_) : 0;
}

void Histogram::observe(std::chrono::nanoseconds d) const {
  if (!registry_) return;
  const auto ns = d.count();
  const auto& bounds = *bounds_ns_;
  std::size_t bucket = 0;
  while (bucket < bounds.size() && ns > bounds[bucket]) ++bucket;  // le: a value on a bound is in it
  detail::Cell* cells = detail::cells(*registry_) + first_;
  detail::add(cells[bucket], 1);
  detail::add(cells[bounds.size() + 1], 1);
  detail::add(cells[bounds.size() + 2], ns);
}

std::int64_t Histogram::count() const {
  return registry_ ? registry_->sum(first_ + static_cast<std::uint32_t>(bounds_ns_->size()) + 1) : 0;
}

void Writer::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Writer::labels(std::span<const Label> labels) {
  if (labels.empty()) return;
  out_ += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out_ += ',';
    out_ += labels[i].first;
    out_ += "=\"";
    append_escaped(out_, labels[i].second, true);
    out_ += '"';
  }
  out_ += '}';
}

void Writer::sample(std::string_view name, double value, std::span<const Label> labels) {
  out_ += name;
  this->labels(labels);
  out_ += ' ';
  append_number(out_, value);
  out_ += '\n';
}

void Writer::sample(std::string_view name, std::int64_t value, std::span<const Label> labels) {
  out_ += name;
  this->labels(labels);
  out_ += ' ';
  append_int(out_, value);
  out_ += '\n';
}

void Writer::single(std::string_view name, std::string_view help, std::string_view type, double value) {
  family(name, help, type);
  sample(name, value);
}

Registry::Registry(std::size_t capacity)
    : id_(next_registry_id.fetch_add(1)),
      capacity_(capacity),
      blocks_(new std::atomic<detail::Cell*>[max_blocks]) {
  for (std::size_t i = 0; i < max_blocks; ++i) blocks_[i].store(nullptr, std::memory_order_relaxed);
}

Registry::~Registry() {
  const auto n = block_count_.load();
  for (std::size_t i = 0; i < n; ++i) ::munmap(blocks_[i].load(), capacity_ * sizeof(detail::Cell));
}

detail::Cell* Registry::block_for_this_thread() const {
  const std::lock_guard lock(mutex_);
  const auto me = std::this_thread::get_id();
  for (const auto& [thread, block] : owners_) {
    if (thread == me) return block;
  }
  detail::Cell* block = nullptr;
  const auto n = block_count_.load(std::memory_order_relaxed);
  if (n == max_blocks) {
    block = blocks_[max_blocks - 1].load(std::memory_order_relaxed);
  } else {
    // The kernel's zero pages, untouched: a page becomes resident when a cell on it is first recorded.
    void* mapped = ::mmap(nullptr, capacity_ * sizeof(detail::Cell), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) throw std::bad_alloc();
    block = static_cast<detail::Cell*>(mapped);
    blocks_[n].store(block, std::memory_order_release);
    block_count_.store(n + 1, std::memory_order_release);
  }
  owners_.emplace_back(me, block);
  return block;
}

std::int64_t Registry::sum(std::uint32_t cell) const {
  const auto n = block_count_.load(std::memory_order_acquire);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    total += std::atomic_ref<detail::Cell>(blocks_[i].load(std::memory_order_acquire)[cell])
                 .load(std::memory_order_relaxed);
  }
  return total;
}

std::uint32_t Registry::declare(std::string_view name, std::string_view help, Type type,
                                std::span<const std::string> label_names, const LabelValues& values,
                                std::span<const double> bounds, Family** out) {
  if (!valid_name(name)) throw std::logic_error("metrics: invalid name " + std::string(name));
  if (values.size() != label_names.size()) {
    throw std::logic_error("metrics: " + std::string(name) + " needs one value per label");
  }
  const std::lock_guard lock(mutex_);
  auto it = std::find_if(families_.begin(), families_.end(), [&](const auto& f) { return f->name == name; });
  Family* family = nullptr;
  if (it == families_.end()) {
    for (const auto& l : label_names) {
      if (!valid_name(l) || l.starts_with("__") || (type == Type::histogram && l == "le")) {
        throw std::logic_error("metrics: invalid label name " + l);
      }
    }
    auto f = std::make_unique<Family>();
    f->name = name;
    f->help = help;
    f->type = type;
    f->label_names.assign(label_names.begin(), label_names.end());
    f->bounds.assign(bounds.begin(), bounds.end());
    for (double b : bounds) f->bounds_ns.push_back(static_cast<std::int64_t>(std::llround(b * 1e9)));
    family = f.get();
    families_.push_back(std::move(f));
  } else {
    family = it->get();
    if (family->type != type || !std::equal(family->label_names.begin(), family->label_names.end(),
                                            label_names.begin(), label_names.end())) {
      throw std::logic_error("metrics: " + std::string(name) + " declared twice, differently");
    }
  }
  *out = family;
  for (const auto& child : family->children) {
    if (child.values == values) return child.cell;
  }
  const std::uint32_t width =
      type == Type::histogram ? static_cast<std::uint32_t>(family->bounds.size()) + 3 : 1;
  if (used_ + width > capacity_) throw std::logic_error("metrics: out of cells");
  const auto cell = used_;
  used_ += width;
  family->children.push_back({values, cell});
  return cell;
}

Counter Registry::counter(std::string_view name, std::string_view help,
                          std::span<const std::string> label_names, const LabelValues& values) {
  Family* f = nullptr;
  return {this, declare(name, help, Type::counter, label_names, values, {}, &f)};
}

Gauge Registry::gauge(std::string_view name, std::string_view help, std::span<const std::string> label_names,
                      const LabelValues& values) {
  Family* f = nullptr;
  return {this, declare(name, help, Type::gauge, label_names, values, {}, &f)};
}

Histogram Registry::histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                              std::span<const std::string> label_names, const LabelValues& values) {
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
    throw std::logic_error("metrics: " + std::string(name) + " needs increasing bucket bounds");
  }
  Family* f = nullptr;
  const auto cell = declare(name, help, Type::histogram, label_names, values, bounds, &f);
  if (!std::equal(f->bounds.begin(), f->bounds.end(), bounds.begin(), bounds.end())) {
    throw std::logic_error("metrics: " + std::string(name) + " declared twice, differently");
  }
  return {this, cell, &f->bounds_ns};
}

void Registry::collect(std::function<void(Writer&)> collector) {
  const std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::expose() const {
  std::string out;
  out.reserve(16 * 1024);
  Writer w(out);
  std::vector<std::function<void(Writer&)>> collectors;
  {
    const std::lock_guard lock(mutex_);
    collectors = collectors_;
    for (const auto& f : families_) {
      const char* type = f->type == Type::counter ? "counter"
                         : f->type == Type::gauge ? "gauge"
                                                  : "histogram";
      w.family(f->name, f->help, type);
      const std::string bucket = f->name + "_bucket", sum_name = f->name + "_sum", count = f->name + "_count";
      std::vector<Writer::Label> labels;
      std::string le;
      for (const auto& c : f->children) {
        labels.clear();
        for (std::size_t i = 0; i < f->label_names.size(); ++i)
          labels.emplace_back(f->label_names[i], c.values[i]);
        if (f->type != Type::histogram) {
          w.sample(f->name, sum(c.cell), labels);
          continue;
        }
        const auto n = static_cast<std::uint32_t>(f->bounds.size());
        std::int64_t cumulative = 0;
        for (std::uint32_t b = 0; b <= n; ++b) {
          cumulative += sum(c.cell + b);
          le.clear();
          if (b < n) {
            append_number(le, f->bounds[b]);
          } else {
            le = "+Inf";
          }
          labels.emplace_back("le", le);
          w.sample(bucket, cumulative, labels);
          labels.pop_back();
        }
        w.sample(sum_name, static_cast<double>(sum(c.cell + n + 2)) / 1e9, labels);
        w.sample(count, cumulative, labels);  // the +Inf bucket's figure, read once: the two always agree
      }
    }
  }
  for (const auto& collector : collectors) collector(w);
  return out;
}

}  // namespace cachelab::metrics

#include "loadgen/workload.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace cachelab::loadgen {
namespace {

namespace json = boost::json;

constexpr std::int64_t max_key_space = 1'000'000'000;

struct Checker {
  std::string_view source;
  Error bad(std::string_view what) const {
    return invalid("invalid_workload", fmt::format("{}: {}", source, what));
  }
  // Every field of `o` must be one of `allowed`.
  Result<void> only(const json::object& o, std::string_view where,
                    std::initializer_list<std::string_view> allowed) {
    for (const auto& [k, v] : o) {
      if (std::find(allowed.begin(), allowed.end(), std::string_view(k)) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        return bad(fmt::format("unknown field '{}{}' (allowed: {})", where, std::string_view(k), list));
      }
    }
    return {};
  }
  Result<double> number(const json::object& o, std::string_view key, std::string_view where, double lo,
                        double hi, bool lo_open, double fallback, bool required = false) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (required) return bad(fmt::format("'{}{}' is required", where, key));
      return fallback;
    }
    if (!it->value().is_number()) return bad(fmt::format("'{}{}' must be a number", where, key));
    const double v = it->value().to_number<double>();
    if (!std::isfinite(v) || v > hi || (lo_open ? v <= lo : v < lo)) {
      return bad(fmt::format("'{}{}' must be {} {} and at most {} (got {})", where, key,
                             lo_open ? ">" : ">=", lo, hi, v));
    }
    return v;
  }
};

Result<Endpoint> endpoint_named(std::string_view name, Checker& c) {
  for (auto e : {Endpoint::product, Endpoint::products, Endpoint::categories, Endpoint::search,
                 Endpoint::top_products}) {
    if (name == to_string(e)) return e;
  }
  return c.bad(
      fmt::format("unknown endpoint '{}' in 'mix' (known: product, products, categories, search, "
                  "top_products)",
                  name));
}

Result<KeyDistribution> parse_keys(const json::value& v, Checker& c) {
  if (!v.is_object()) return c.bad("'keys' must be an object");
  const auto& o = v.as_object();
  if (auto ok = c.only(o, "keys.", {"distribution", "s", "hot_requests", "hot_keys", "key_space"}); !ok)
    return ok.error();
  KeyDistribution d;
  auto kind = o.find("distribution");
  if (kind == o.end() || !kind->value().is_string())
    return c.bad("'keys.distribution' must be uniform, zipf or hotspot");
  const std::string_view k = kind->value().as_string();
  if (k == "uniform") {
    d.kind = KeyDistribution::Kind::uniform;
  } else if (k == "zipf") {
    d.kind = KeyDistribution::Kind::zipf;
    auto s = c.number(o, "s", "keys.", 0, 10, true, 0, true);
    if (!s) return s.error();
    d.s = *s;
  } else if (k == "hotspot") {
    d.kind = KeyDistribution::Kind::hotspot;
    auto r = c.number(o, "hot_requests", "keys.", 0, 1, true, 0, true);
    if (!r) return r.error();
    auto keys = c.number(o, "hot_keys", "keys.", 0, 1, true, 0, true);
    if (!keys) return keys.error();
    if (*keys >= 1) return c.bad("'keys.hot_keys' must be below 1 (a fraction of the keys)");
    d.hot_requests = *r;
    d.hot_keys = *keys;
  } else {
    return c.bad(fmt::format("'keys.distribution' must be uniform, zipf or hotspot (got '{}')", k));
  }
  auto space = o.find("key_space");
  if (space == o.end()) return c.bad("'keys.key_space' is required: a number of keys, or \"catalog\"");
  if (space->value().is_string() && space->value().as_string() == "catalog") {
    d.key_space = 0;
  } else {
    auto n = c.number(o, "key_space", "keys.", 1, static_cast<double>(max_key_space), false, 0, true);
    if (!n) return n.error();
    if (std::floor(*n) != *n) return c.bad("'keys.key_space' must be a whole number or \"catalog\"");
    d.key_space = static_cast<std::int64_t>(*n);
  }
  return d;
}

}  // namespace

std::string_view to_string(Endpoint e) {
  switch (e) {
    case Endpoint::product:
      return "product";
    case Endpoint::products:
      return "products";
    case Endpoint::categories:
      return "categories";
    case Endpoint::search:
      return "search";
    case Endpoint::top_products:
      return "top_products";
  }
  return "?";
}

Result<Workload> parse_workload(std::string_view text, std::string_view source) {
  Checker c{source};
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec) return c.bad("not valid JSON: " + ec.message());
  if (!doc.is_object()) return c.bad("a workload is a JSON object");
  const auto& o = doc.as_object();
  if (auto ok = c.only(o, "",
                       {"name", "description", "mix", "search_terms", "keys", "write_fraction",
                        "warmup_seconds", "duration_seconds"});
      !ok) {
    return ok.error();
  }
  Workload w;
  for (auto [field, target] : {std::pair{"name", &w.name}, std::pair{"description", &w.description}}) {
    auto it = o.find(field);
    if (it == o.end() || !it->value().is_string() || it->value().as_string().empty()) {
      return c.bad(fmt::format("'{}' must be a non-empty string", field));
    }
    *target = it->value().as_string();
  }
  auto mix = o.find("mix");
  if (mix == o.end() || !mix->value().is_object())
    return c.bad("'mix' must be an object of endpoint: weight");
  for (const auto& [name, weight] : mix->value().as_object()) {
    auto e = endpoint_named(name, c);
    if (!e) return e.error();
    if (!weight.is_number() || weight.to_number<double>() < 0 || !std::isfinite(weight.to_number<double>())) {
      return c.bad(fmt::format("'mix.{}' must be a weight >= 0", std::string_view(name)));
    }
    w.mix.push_back({*e, weight.to_number<double>()});
  }
  if (auto terms = o.find("search_terms"); terms != o.end()) {
    if (!terms->value().is_array()) return c.bad("'search_terms' must be an array of strings");
    for (const auto& t : terms->value().as_array()) {
      if (!t.is_string() || t.as_string().empty() || t.as_string().size() > 100) {
        return c.bad("'search_terms' must hold strings of 1 to 100 characters");
      }
      w.search_terms.emplace_back(t.as_string());
    }
  }
  auto keys = o.find("keys");
  if (keys == o.end()) return c.bad("'keys' is required");
  auto d = parse_keys(keys->value(), c);
  if (!d) return d.error();
  w.keys = *d;
  auto writes = c.number(o, "write_fraction", "", 0, 1, false, 0);
  if (!writes) return writes.error();
  w.write_fraction = *writes;
  auto warmup = c.number(o, "warmup_seconds", "", 0, 3600, false, 0);
  if (!warmup) return warmup.error();
  auto duration = c.number(o, "duration_seconds", "", 0, 24 * 3600, true, 10);
  if (!duration) return duration.error();
  w.warmup = std::chrono::seconds(static_cast<std::int64_t>(*warmup));
  w.duration = std::chrono::seconds(static_cast<std::int64_t>(std::max(1.0, *duration)));

  double read_weight = 0, search_weight = 0;
  for (const auto& s : w.mix) {
    read_weight += s.weight;
    if (s.endpoint == Endpoint::search) search_weight += s.weight;
  }
  if (read_weight <= 0 && w.write_fraction < 1)
    return c.bad("'mix' needs at least one endpoint with a weight > 0");
  if (search_weight > 0 && w.search_terms.empty()) return c.bad("'search' in 'mix' needs 'search_terms'");
  return w;
}

Result<Workload> load_workload(const std::string& path) {
  std::ifstream in(path);
  if (!in) return invalid("invalid_workload", fmt::format("{}: cannot read the file", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_workload(text.str(), path);
}

// --- keys
// ---------------------------------------------------------------------------------------------------------
// Rejection-inversion for Zipf(s) on 1..n, after W. Hörmann and G. Derflinger, "Rejection-inversion to
// generate variates from monotone discrete distributions" (1996): invert the integral of the hat function
// x^-s, accept the rounded value when it lies under the true mass. helper1/helper2 keep log1p/expm1 accurate
// near 0.
namespace {
double helper1(double x) {
  return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}
double helper2(double x) {
  return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1 + x * 0.5 * (1 + x * (1.0 / 3.0) * (1 + 0.25 * x));
}
}  // namespace

double KeySampler::h(double x) const {
  return std::exp(-d_.s * std::log(x));
}
double KeySampler::h_integral(double x) const {
  const double log_x = std::log(x);
  return helper2((1 - d_.s) * log_x) * log_x;
}
double KeySampler::h_integral_inverse(double x) const {
  double t = x * (1 - d_.s);
  if (t < -1) t = -1;  // numerical safety: the inverse's domain
  return std::exp(helper1(t) * x);
}

KeySampler::KeySampler(const KeyDistribution& d, std::int64_t n) : d_(d), n_(std::max<std::int64_t>(1, n)) {
  if (d_.kind == KeyDistribution::Kind::zipf) {
    h_integral_x1_ = h_integral(1.5) - 1;
    h_integral_n_ = h_integral(static_cast<double>(n_) + 0.5);
    s_threshold_ = 2 - h_integral_inverse(h_integral(2.5) - h(2));
  }
  hot_n_ = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(d_.hot_keys * static_cast<double>(n_))), 1, n_);
}

std::int64_t KeySampler::next(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  switch (d_.kind) {
    case KeyDistribution::Kind::uniform:
      return std::uniform_int_distribution<std::int64_t>(1, n_)(rng);
    case KeyDistribution::Kind::hotspot:
      if (hot_n_ == n_ || unit(rng) < d_.hot_requests)
        return std::uniform_int_distribution<std::int64_t>(1, hot_n_)(rng);
      return std::uniform_int_distribution<std::int64_t>(hot_n_ + 1, n_)(rng);
    case KeyDistribution::Kind::zipf:
      break;
  }
  for (;;) {
    const double u = h_integral_n_ + unit(rng) * (h_integral_x1_ - h_integral_n_);
    const double x = h_integral_inverse(u);
    auto k = static_cast<std::int64_t>(x + 0.5);
    k = std::clamp<std::int64_t>(k, 1, n_);
    if (static_cast<double>(k) - x <= s_threshold_ ||
        u >= h_integral(static_cast<double>(k) + 0.5) - h(static_cast<double>(k))) {
      return k;
    }
  }
}

// --- requests
// -----------------------------------------------------------------------------------------------------
namespace {
std::string url_encoded(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}
std::discrete_distribution<int> read_pick(const Workload& w) {
  std::vector<double> weights;
  for (const auto& s : w.mix) weights.push_back(s.weight);
  if (weights.empty()) weights.push_back(1);  // writes only: the read pick is never used
  return std::discrete_distribution<int>(weights.begin(), weights.end());
}
}  // namespace

RequestMix::RequestMix(const Workload& w, std::int64_t key_space, std::uint64_t seed)
    : w_(w),
      rng_(seed),
      keys_(w.keys, key_space),
      terms_(w.keys, static_cast<std::int64_t>(w.search_terms.size())),
      pick_(read_pick(w)) {}

void RequestMix::next(Request& out) {
  out.target.clear();
  out.body.clear();
  out.write = w_.write_fraction > 0 && unit_(rng_) < w_.write_fraction;
  if (out.write) {
    out.method = "PATCH";
    fmt::format_to(std::back_inserter(out.target), "/products/{}", keys_.next(rng_));
    const auto cents = std::uniform_int_distribution<int>(100, 99'999)(rng_);
    fmt::format_to(std::back_inserter(out.body), R"({{"price":{}.{:02}}})", cents / 100, cents % 100);
    return;
  }
  out.method = "GET";
  switch (w_.mix[static_cast<std::size_t>(pick_(rng_))].endpoint) {
    case Endpoint::product:
      fmt::format_to(std::back_inserter(out.target), "/products/{}", keys_.next(rng_));
      break;
    case Endpoint::products:
      fmt::format_to(std::back_inserter(out.target), "/products?limit=10&offset={}",
                     (keys_.next(rng_) - 1) / 10 * 10);
      break;
    case Endpoint::categories:
      out.target = "/api/categories";
      break;
    case Endpoint::search:
      out.target = "/api/products?q=";
      out.target += url_encoded(w_.search_terms[static_cast<std::size_t>(terms_.next(rng_) - 1)]);
      break;
    case Endpoint::top_products:
      out.target = "/api/top-products";
      break;
  }
}

}  // namespace cachelab::loadgen

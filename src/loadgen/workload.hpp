// loadgen/workload: what a load test asks for — which endpoints, in what proportions, over which keys, with
// how many writes — read from a small JSON file (bench/workloads/*.json, schema in docs/load-lab.md) and
// checked strictly: an unknown field, a wrong type or an out-of-range value is an error that names the file
// and the field. Also the request mix itself: given a random source, the next request to send. Never does I/O
// beyond reading the file.
#pragma once

#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace cachelab::loadgen {

enum class Endpoint { product, products, categories, search, top_products };

// How keys (product ids, page numbers, search terms) are drawn: uniformly, by a Zipf law with exponent s
// (rank 1 the most popular), or a hotspot where `hot_requests` of the requests go to the first `hot_keys` of
// the keys.
struct KeyDistribution {
  enum class Kind { uniform, zipf, hotspot };
  Kind kind = Kind::uniform;
  double s = 0.99;
  double hot_requests = 0.9;
  double hot_keys = 0.1;
  std::int64_t key_space = 500;  // keys 1..key_space; 0 in the file's "catalog": as many as the catalog has
};

struct Workload {
  std::string name;
  std::string description;
  struct Share {
    Endpoint endpoint;
    double weight;
  };
  std::vector<Share> mix;                 // reads, by weight
  std::vector<std::string> search_terms;  // for Endpoint::search
  KeyDistribution keys;
  double write_fraction = 0;  // of all requests: PATCH /products/{id} with a new price
  std::chrono::seconds warmup{0};
  std::chrono::seconds duration{10};
};

// Parses a workload document; `source` names it in errors (a file name).
Result<Workload> parse_workload(std::string_view json, std::string_view source);
// Reads and parses a file.
Result<Workload> load_workload(const std::string& path);

// Draws keys 1..n by a distribution. Zipf uses rejection-inversion sampling (Hörmann and Derflinger, 1996):
// constant time per draw and no table, whatever n is.
class KeySampler {
 public:
  KeySampler(const KeyDistribution& d, std::int64_t n);
  std::int64_t next(std::mt19937_64& rng);
  std::int64_t size() const { return n_; }

 private:
  double h(double x) const;
  double h_integral(double x) const;
  double h_integral_inverse(double x) const;
  KeyDistribution d_;
  std::int64_t n_;
  double h_integral_x1_ = 0, h_integral_n_ = 0, s_threshold_ = 0;
  std::int64_t hot_n_ = 1;
};

// One request of a workload: the method, the target, and for a write its JSON body.
struct Request {
  bool write = false;
  std::string_view method;
  std::string target;
  std::string body;
};

// Turns a workload into requests, one at a time (one per load-generator thread: it holds random state).
class RequestMix {
 public:
  RequestMix(const Workload& w, std::int64_t key_space, std::uint64_t seed);
  // Fills `out` (its strings keep their capacity between calls).
  void next(Request& out);

 private:
  const Workload& w_;
  std::mt19937_64 rng_;
  KeySampler keys_;
  KeySampler terms_;
  std::discrete_distribution<int> pick_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

std::string_view to_string(Endpoint e);

}  // namespace cachelab::loadgen

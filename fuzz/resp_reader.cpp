// Fuzz target: bytes a Redis server sends, fed to cache/resp_reader the way the connection feeds it: in
// pieces as the socket delivers them, taking every complete reply after each piece.
// Properties: no sanitizer report (a partial reply freed on an error, nothing leaked); the pieces do not
// matter: the same bytes fed whole and fed in pieces give the same replies and the same failure.
#include "cache/resp_reader.hpp"
#include "check.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using cachelab::cache::RedisReply;
using cachelab::cache::RespReader;
using cachelab::fuzz::check;

bool same(const RedisReply& a, const RedisReply& b) {
  if (a.type != b.type || a.str != b.str || a.integer != b.integer || a.elements.size() != b.elements.size())
    return false;
  for (std::size_t i = 0; i < a.elements.size(); ++i)
    if (!same(a.elements[i], b.elements[i])) return false;
  return true;
}

struct Outcome {
  std::vector<RedisReply> replies;
  bool failed = false;
};

// Feeds `wire` in pieces whose sizes come from `cuts` (cycled), draining replies after each piece.
Outcome read(std::string_view wire, std::string_view cuts) {
  Outcome out;
  RespReader reader;
  std::size_t at = 0, i = 0;
  while (at < wire.size()) {
    std::size_t n = wire.size() - at;
    if (!cuts.empty()) n = std::min<std::size_t>(n, 1 + static_cast<unsigned char>(cuts[i++ % cuts.size()]));
    reader.feed(wire.substr(at, n));
    at += n;
    while (auto reply = reader.next()) out.replies.push_back(std::move(*reply));
    if (reader.failed()) break;
  }
  out.failed = reader.failed();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first byte says how many of the following bytes describe the pieces; the rest is the wire.
  if (size == 0) return 0;
  const std::string_view all(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut_bytes = std::min<std::size_t>(data[0] % 16, all.size());
  const auto cuts = all.substr(0, cut_bytes), wire = all.substr(cut_bytes);

  const Outcome whole = read(wire, {});
  const Outcome pieces = read(wire, cuts.empty() ? std::string_view("\0", 1) : cuts);
  check(whole.failed == pieces.failed, "the pieces changed whether the reader failed");
  check(whole.replies.size() == pieces.replies.size(), "the pieces changed how many replies came");
  for (std::size_t i = 0; i < whole.replies.size(); ++i)
    check(same(whole.replies[i], pieces.replies[i]), "the pieces changed a reply");
  return 0;
}

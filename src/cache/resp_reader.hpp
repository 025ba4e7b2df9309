// cache/resp_reader: turns the bytes a Redis server sends into RedisReply values, through hiredis's RESP
// reader with reply objects of our own (no hiredis reply tree to convert and free).
// Owns the reader and its input buffer. Pure: never does I/O, so the fuzz target feeds it exactly as the
// connection does. Never trusts a length it has not received: an array's elements are stored as they
// arrive, so a header announcing 2³¹ elements costs nothing until they come. hiredis bounds the nesting
// (7 levels) and rejects malformed lines; after an error the reader stays failed until reset().
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct redisReader;

namespace cachelab::cache {

struct RedisReply {
  enum class Type { string, array, integer, nil, status, error };
  Type type = Type::nil;
  std::string str;  // string, status or error text
  long long integer = 0;
  std::vector<RedisReply> elements;
};

class RespReader {
 public:
  RespReader();
  ~RespReader();
  RespReader(const RespReader&) = delete;
  RespReader& operator=(const RespReader&) = delete;

  // Appends received bytes. False once the reader has failed.
  bool feed(std::string_view bytes);

  // The next complete reply, if the bytes fed so far hold one. Sets failed() on a protocol error.
  std::optional<RedisReply> next();

  bool failed() const;
  // hiredis's description of the failure ("Protocol error, got "x" as reply type byte").
  std::string error() const;

  // Forgets every byte fed and any failure, as for a new connection.
  void reset();

 private:
  RedisReply root_;  // the reply being read: hiredis builds it here (see place() in the .cpp)
  redisReader* reader_ = nullptr;
};

}  // namespace cachelab::cache

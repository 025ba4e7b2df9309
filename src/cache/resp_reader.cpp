#include "cache/resp_reader.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <memory>

namespace cachelab::cache {

namespace {

// hiredis builds a reply by calling these for each item, parents before children. A root item is allocated
// and becomes the reply hiredis hands back (or frees with free_reply on an error); a child is appended to
// its parent's elements and the returned pointer is where hiredis puts the child's own children.
// Only the last element of an array is ever being filled: hiredis moves to the next sibling when the
// previous one is complete, so appending never moves an element that is still referenced.
void* place(const redisReadTask* task, RedisReply value) {
  if (task->parent == nullptr) return new RedisReply(std::move(value));
  auto* parent = static_cast<RedisReply*>(task->parent->obj);
  parent->elements.push_back(std::move(value));
  return &parent->elements.back();
}

void* create_string(const redisReadTask* task, char* str, size_t len) {
  RedisReply r;
  switch (task->type) {
    case REDIS_REPLY_ERROR:
      r.type = RedisReply::Type::error;
      break;
    case REDIS_REPLY_STATUS:
      r.type = RedisReply::Type::status;
      break;
    default:
      r.type = RedisReply::Type::string;
      break;
  }
  r.str.assign(str, len);
  return place(task, std::move(r));
}

// A small first reservation: the announced count is not trusted, the elements are stored as they arrive.
constexpr int max_reserve = 1024;

void* create_array(const redisReadTask* task, int elements) {
  RedisReply r;
  r.type = RedisReply::Type::array;
  r.elements.reserve(static_cast<std::size_t>(std::clamp(elements, 0, max_reserve)));
  return place(task, std::move(r));
}

void* create_integer(const redisReadTask* task, long long value) {
  RedisReply r;
  r.type = RedisReply::Type::integer;
  r.integer = value;
  return place(task, std::move(r));
}

void* create_nil(const redisReadTask* task) {
  return place(task, RedisReply{});
}

// Called on the root only; the root owns its children.
void free_reply(void* reply) {
  delete static_cast<RedisReply*>(reply);
}

redisReplyObjectFunctions reply_functions = {create_string, create_array, create_integer, create_nil,
                                             free_reply};

}  // namespace

RespReader::RespReader() : reader_(redisReaderCreateWithFunctions(&reply_functions)) {
  if (reader_ == nullptr) throw std::bad_alloc();
}

RespReader::~RespReader() {
  redisReaderFree(reader_);
}

bool RespReader::feed(std::string_view bytes) {
  return redisReaderFeed(reader_, bytes.data(), bytes.size()) == REDIS_OK;
}

std::optional<RedisReply> RespReader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_, &raw) != REDIS_OK || raw == nullptr) return std::nullopt;
  std::unique_ptr<RedisReply> reply(static_cast<RedisReply*>(raw));
  return std::move(*reply);
}

bool RespReader::failed() const {
  return reader_->err != 0;
}

std::string RespReader::error() const {
  return reader_->errstr;
}

void RespReader::reset() {
  redisReader* fresh = redisReaderCreateWithFunctions(&reply_functions);
  if (fresh == nullptr) throw std::bad_alloc();
  redisReaderFree(reader_);
  reader_ = fresh;
}

}  // namespace cachelab::cache

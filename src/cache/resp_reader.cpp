#include "cache/resp_reader.hpp"

#include <hiredis/read.h>

#include <algorithm>
#include <new>

namespace cachelab::cache {

namespace {

// hiredis builds a reply by calling these for each item, parents before children. A root item goes into
// the RespReader's own slot (the reader's privdata), not a new allocation: hiredis hands a root back before
// it begins the next one, and next() moves it out, so one slot is enough. A child is appended to its
// parent's elements and the returned pointer is where hiredis puts the child's own children.
// Only the last element of an array is ever being filled: hiredis moves to the next sibling when the
// previous one is complete, so appending never moves an element that is still referenced.
void* place(const redisReadTask* task, RedisReply value) {
  if (task->parent == nullptr) {
    auto* root = static_cast<RedisReply*>(task->privdata);
    *root = std::move(value);
    return root;
  }
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

// Called on the root only (a reply abandoned after an error, or the reader freed mid-reply): the slot is
// emptied, children with it, and stays the reader's.
void free_reply(void* reply) {
  *static_cast<RedisReply*>(reply) = RedisReply{};
}

redisReplyObjectFunctions reply_functions = {create_string, create_array, create_integer, create_nil,
                                             free_reply};

}  // namespace

RespReader::RespReader() : reader_(redisReaderCreateWithFunctions(&reply_functions)) {
  if (reader_ == nullptr) throw std::bad_alloc();
  reader_->privdata = &root_;
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
  // Moved out of the slot; the next root overwrites what is left there (place()).
  return std::move(*static_cast<RedisReply*>(raw));
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
  redisReaderFree(reader_);  // empties the slot if a reply was half read
  fresh->privdata = &root_;
  reader_ = fresh;
}

}  // namespace cachelab::cache

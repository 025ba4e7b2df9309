// http/request_executor: the executor a connection's coroutine runs on: the I/O thread's own, plus the
// connection's current request id (core/log RequestId), put in scope each time the connection's work is
// resumed, so every log line written for a request says which one, however many times it waited on Redis or
// PostgreSQL in between. Owns nothing but a pointer to that id. Never changes where or when work runs: every
// call and property goes to the wrapped executor.
#pragma once

#include "core/log.hpp"

#include <boost/asio/execution.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>

#include <memory>
#include <type_traits>
#include <utility>

namespace cachelab::http {

template <class Inner>
class RequestExecutor {
 public:
  RequestExecutor(Inner inner, std::shared_ptr<const RequestId> id)
      : inner_(std::move(inner)), id_(std::move(id)) {}

  template <class F>
  void execute(F&& f) const {
    inner_.execute([id = id_, f = std::forward<F>(f)]() mutable {
      const RequestIdScope scope(id.get());
      std::move(f)();
    });
  }

  template <class Property,
            class = std::enable_if_t<boost::asio::can_query<const Inner&, const Property&>::value>>
  decltype(auto) query(const Property& p) const
      noexcept(boost::asio::is_nothrow_query<const Inner&, const Property&>::value) {
    return boost::asio::query(inner_, p);
  }

  template <class Property,
            class = std::enable_if_t<boost::asio::can_require<const Inner&, const Property&>::value>>
  auto require(const Property& p) const {
    using Required = std::decay_t<decltype(boost::asio::require(inner_, p))>;
    return RequestExecutor<Required>(boost::asio::require(inner_, p), id_);
  }

  template <class Property,
            class = std::enable_if_t<boost::asio::can_prefer<const Inner&, const Property&>::value>>
  auto prefer(const Property& p) const {
    using Preferred = std::decay_t<decltype(boost::asio::prefer(inner_, p))>;
    return RequestExecutor<Preferred>(boost::asio::prefer(inner_, p), id_);
  }

  friend bool operator==(const RequestExecutor& a, const RequestExecutor& b) noexcept {
    return a.inner_ == b.inner_ && a.id_ == b.id_;
  }
  friend bool operator!=(const RequestExecutor& a, const RequestExecutor& b) noexcept { return !(a == b); }

 private:
  template <class>
  friend class RequestExecutor;
  Inner inner_;
  std::shared_ptr<const RequestId> id_;
};

}  // namespace cachelab::http

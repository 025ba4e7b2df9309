#include "http/probe.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <optional>

namespace cachelab::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using Outcome = boost::system::result<ProbeAnswer, std::string>;

namespace {

// Resolve, connect, write, read; each failure says which step failed.
asio::awaitable<Outcome> get(std::string host, std::uint16_t port, std::string path) {
  auto ex = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fmt::format("cannot resolve {}: {}", host, ec.message());
  asio::ip::tcp::socket socket(ex);
  co_await asio::async_connect(socket, endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fmt::format("cannot connect to {}:{}: {}", host, port, ec.message());
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, path, 11};
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::connection, "close");
  co_await bhttp::async_write(socket, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fmt::format("sending the request failed: {}", ec.message());
  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(1 << 20);
  co_await bhttp::async_read(socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return fmt::format("reading the answer failed: {}", ec.message());
  co_return ProbeAnswer{parser.get().result_int(), std::move(parser.get().body())};
}

}  // namespace

Outcome probe(std::string_view host, std::uint16_t port, std::string_view path,
              std::chrono::milliseconds timeout) {
  // Declared before the io_context, which destroys a still-suspended coroutine that would write here.
  std::optional<Outcome> outcome;
  asio::io_context ctx;
  asio::co_spawn(ctx, get(std::string(host), port, std::string(path)),
                 [&outcome](std::exception_ptr e, Outcome r) {
                   if (e) {
                     outcome = Outcome(std::string("unexpected failure"));
                   } else {
                     outcome = std::move(r);
                   }
                 });
  // The overall deadline: run_for returns when the work is done or the time is up, whichever is first. A
  // coroutine still suspended then is destroyed with the io_context, closing its socket.
  ctx.run_for(timeout);
  if (!outcome) return fmt::format("no answer from {}:{}{} within {} ms", host, port, path, timeout.count());
  return std::move(*outcome);
}

}  // namespace cachelab::http

// http/message_io: one HTTP message read with Beast's parser from a connection's buffer, and bytes written at
// once when the socket takes them. Shared by the server's sessions (requests) and the load generator's
// connections (responses), so both parse and write the same way.
// Owns nothing: the caller's stream, buffer and parser. Never waits when the bytes are already there: a
// message that is whole in the buffer is parsed without a turn of the event loop, and a write the kernel
// takes at once completes without one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_suffix.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>

namespace cachelab::http {

// The message's head (or, with `whole`, the whole message) parsed from what `buffer` holds, as Beast's
// http::read_some would: true when it is complete or `ec` is set, false when more bytes are needed.
template <class Parser>
bool parse_buffered(Parser& parser, boost::beast::flat_buffer& buffer, bool whole,
                    boost::system::error_code& ec) {
  while (buffer.size() > 0) {
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == boost::beast::http::error::need_more) {
      ec = {};
      return false;
    }
    if (ec || (whole ? parser.is_done() : parser.is_header_done())) return true;
  }
  return whole ? parser.is_done() : parser.is_header_done();
}

// Reads until parse_buffered is satisfied. The end of the stream inside a message is the parser's to judge
// (put_eof); before its first byte it is end_of_stream.
template <class Stream, class Parser>
boost::asio::awaitable<void> read_more(Stream& stream, boost::beast::flat_buffer& buffer, Parser& parser,
                                       bool whole, boost::system::error_code& ec) {
  constexpr std::size_t read_bytes = 4096;
  while (!parse_buffered(parser, buffer, whole, ec)) {
    const auto room = std::max(read_bytes, buffer.capacity() - buffer.size());
    const auto n = co_await stream.async_read_some(
        buffer.prepare(room), boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    buffer.commit(n);
    if (ec == boost::asio::error::eof) {
      if (!parser.got_some()) {
        ec = boost::beast::http::error::end_of_stream;
      } else {
        ec = {};
        parser.put_eof(ec);
      }
      co_return;
    }
    if (ec) co_return;
  }
}

// Writes all of `buffers` (one sendmsg when the socket takes them at once). A stream with write_now (a
// TimedSocket) is tried without waiting first, which saves the event loop a turn; what it did not take, and
// everything on other streams, goes through async_write.
template <class Stream, class Buffers>
boost::asio::awaitable<void> write_all(Stream& stream, const Buffers& buffers,
                                       boost::system::error_code& ec) {
  std::size_t written = 0;
  if constexpr (requires { stream.write_now(buffers, ec); }) {
    written = stream.write_now(buffers, ec);
    if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) ec = {};
    if (ec || written == boost::asio::buffer_size(buffers)) co_return;
  }
  boost::beast::buffers_suffix<Buffers> rest(buffers);
  rest.consume(written);
  co_await boost::asio::async_write(stream, rest,
                                    boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

}  // namespace cachelab::http

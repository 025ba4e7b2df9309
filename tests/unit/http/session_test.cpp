#include "http/session.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include <stdexcept>

namespace cachelab::http {
namespace {

using test_stream = boost::beast::test::stream;

// One connection served from an in-memory stream: the client's bytes go in, everything is served until the
// client's end closes, and the server's bytes come back as one string.
struct SessionTest : ::testing::Test {
  asio::io_context ctx;
  ServerOptions options = [] {
    ServerOptions o;
    o.max_header_bytes = 1024;
    o.max_body_bytes = 16;
    o.on_error = [](beast_http::status s, std::string_view code, std::string_view) {
      Response r{s, 11};
      r.body() = std::string(code);
      return r;
    };
    return o;
  }();
  std::atomic<bool> draining{false};
  int handled = 0;
  Handler handler = [this](Request& req, const Peer& peer, BodyStream&) -> asio::awaitable<Response> {
    ++handled;
    if (req.target() == "/throw") throw std::runtime_error("secret detail");
    Response res{beast_http::status::ok, 11};
    res.body() = std::string(req.target()) + " for " + peer.address + " body=" + req.body();
    co_return res;
  };

  std::string serve(std::string_view request_bytes, bool client_closes = true) {
    test_stream server(ctx), client(ctx);
    server.connect(client);
    server.append(request_bytes);
    if (client_closes) client.close();
    const Peer peer{"127.0.0.1", true};
    asio::co_spawn(ctx, serve_session(server, peer, SessionEnv{options, handler, draining}), asio::detached);
    ctx.run();
    ctx.restart();
    return std::string(client.str());
  }
  static int count(std::string_view haystack, std::string_view needle) {
    int n = 0;
    for (auto at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1))
      ++n;
    return n;
  }
};

TEST_F(SessionTest, PipelinedKeepAliveRequestsAreAnsweredInOrder) {
  auto out = serve(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nhey"
      "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(count(out, "HTTP/1.1 200 OK"), 3);
  const auto a = out.find("/a for 127.0.0.1 body="), b = out.find("/b for 127.0.0.1 body=hey"),
             c = out.find("/c for");
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(c, std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_NE(out.find("Server: cachelab"), std::string::npos);
}

TEST_F(SessionTest, ConnectionCloseEndsTheSessionAfterTheAnswer) {
  auto out = serve(
      "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: x\r\n\r\n", false);
  EXPECT_EQ(count(out, "HTTP/1.1 200"), 1);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  EXPECT_EQ(handled, 1);
}

TEST_F(SessionTest, OversizedHeadsAndBodiesAreRefusedBeforeTheHandler) {
  auto big_head = serve("GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(2000, 'a') + "\r\n\r\n");
  EXPECT_NE(big_head.find("HTTP/1.1 431"), std::string::npos);
  EXPECT_NE(big_head.find("header_too_large"), std::string::npos);
  auto big_body = serve("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'b'));
  EXPECT_NE(big_body.find("HTTP/1.1 413"), std::string::npos);
  EXPECT_NE(big_body.find("Connection: close"), std::string::npos);
  EXPECT_EQ(handled, 0);
}

TEST_F(SessionTest, MalformedRequestsGet400AndTheConnectionCloses) {
  auto out = serve("GET / HTTP/1.1\r\nHost x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos);
  EXPECT_NE(out.find("bad_request"), std::string::npos);
  EXPECT_EQ(handled, 0);
}

TEST_F(SessionTest, AHandlerExceptionIsA500WithoutItsDetail) {
  auto out = serve("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 500"), std::string::npos);
  EXPECT_NE(out.find("internal_error"), std::string::npos);
  EXPECT_EQ(out.find("secret detail"), std::string::npos);
}

TEST_F(SessionTest, HeadGetsTheHeadOfGetWithoutTheBody) {
  auto out = serve("HEAD /a HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto length = std::string("/a for 127.0.0.1 body=").size();
  EXPECT_NE(out.find("Content-Length: " + std::to_string(length)), std::string::npos) << out;
  EXPECT_EQ(out.find("/a for"), std::string::npos);
}

TEST_F(SessionTest, ADrainThatStartsDuringARequestClosesTheConnectionAfterItsAnswer) {
  handler = [this](Request&, const Peer&, BodyStream&) -> asio::awaitable<Response> {
    draining = true;  // SIGTERM arrives while this request is being handled
    co_return Response{beast_http::status::ok, 11};
  };
  auto out = serve("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n", false);
  EXPECT_EQ(count(out, "HTTP/1.1 200"), 1);
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
}

TEST_F(SessionTest, AStreamedBodyGoesOutInChunksUntilTheStreamEndsThenTheConnectionCloses) {
  handler = [](Request&, const Peer&, BodyStream& body) -> asio::awaitable<Response> {
    body = [](Send send) -> asio::awaitable<void> {
      for (const char* event : {"data: one\n\n", "data: two\n\n"}) {
        std::string e = event;
        if (!co_await send(std::move(e))) co_return;
      }
    };
    Response head{beast_http::status::ok, 11};
    head.set(beast_http::field::content_type, "text/event-stream");
    co_return head;
  };
  auto out = serve("GET /events HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n", false);
  EXPECT_NE(out.find("Transfer-Encoding: chunked"), std::string::npos) << out;
  EXPECT_NE(out.find("text/event-stream"), std::string::npos);
  const auto one = out.find("data: one"), two = out.find("data: two");
  ASSERT_NE(one, std::string::npos);
  ASSERT_NE(two, std::string::npos);
  EXPECT_LT(one, two);
  EXPECT_NE(out.find("\r\n0\r\n\r\n"), std::string::npos) << "the last chunk ends the body";
  EXPECT_EQ(count(out, "HTTP/1.1 200"), 1) << "the connection closes after a stream";
}

TEST_F(SessionTest, AStreamStopsSendingWhenTheServerDrains) {
  int sent = 0;
  handler = [&](Request&, const Peer&, BodyStream& body) -> asio::awaitable<Response> {
    body = [&](Send send) -> asio::awaitable<void> {
      for (int i = 0; i < 100; ++i) {
        if (i == 3) draining = true;
        std::string e = "data: x\n\n";
        if (!co_await send(std::move(e))) co_return;
        ++sent;
      }
    };
    co_return Response{beast_http::status::ok, 11};
  };
  serve("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(sent, 3);
}

TEST_F(SessionTest, Http11WithoutHostIs400ButHttp10NeedsNone) {
  auto out = serve("GET /a HTTP/1.1\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << out;
  EXPECT_NE(out.find("missing_host"), std::string::npos);
  EXPECT_EQ(handled, 0);
  auto old = serve("GET /a HTTP/1.0\r\n\r\n");
  EXPECT_NE(old.find("HTTP/1.0 200"), std::string::npos) << old;
}

TEST_F(SessionTest, AnAbsoluteFormTargetIsServedAsItsPath) {
  std::string seen;
  handler = [&](Request& req, const Peer&, BodyStream&) -> asio::awaitable<Response> {
    seen = std::string(req.target()) + " host=" + std::string(req[beast_http::field::host]);
    co_return Response{beast_http::status::ok, 11};
  };
  serve("GET http://127.0.0.1:8000/products/1?cache=bypass HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n");
  EXPECT_EQ(seen, "/products/1?cache=bypass host=127.0.0.1:8000");
  serve("GET HTTP://example.com HTTP/1.0\r\n\r\n");  // no path, no Host: both from the target
  EXPECT_EQ(seen, "/ host=example.com");
  serve("GET https://example.com#top HTTP/1.1\r\nHost: x\r\n\r\n");  // a fragment is dropped
  EXPECT_EQ(seen, "/ host=x");
}

// Found by fuzz/http_request: any other target reached the handler as it was.
TEST_F(SessionTest, ATargetInNoFormTheServerServesIs400BeforeTheHandler) {
  for (std::string_view target : {"rttp://x/products/1", "products/1", "example.com:443", "*"}) {
    const int before = handled;
    auto out = serve("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_NE(out.find("HTTP/1.1 400"), std::string::npos) << target;
    EXPECT_NE(out.find("invalid_target"), std::string::npos) << target;
    EXPECT_EQ(handled, before) << target;
  }
  auto out = serve("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");  // the one place "*" belongs
  EXPECT_NE(out.find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(SessionTest, TransferCodingsOtherThanChunkedAre501) {
  auto out = serve("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  EXPECT_NE(out.find("HTTP/1.1 501"), std::string::npos) << out;
  EXPECT_NE(out.find("unsupported_transfer_encoding"), std::string::npos);
  EXPECT_EQ(handled, 0);
  auto chunked =
      serve("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_NE(chunked.find("body=abc"), std::string::npos) << chunked;
}

TEST_F(SessionTest, AnHttp2RequestLineIs505) {
  auto out = serve("GET /a HTTP/2.0\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find(" 505 "), std::string::npos) << out;
  EXPECT_EQ(handled, 0);
}

TEST_F(SessionTest, Expect100ContinueGetsTheGoAheadBeforeTheAnswer) {
  auto out = serve("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nok");
  const auto go = out.find("HTTP/1.1 100 Continue\r\n\r\n"), answer = out.find("HTTP/1.1 200 OK");
  ASSERT_NE(go, std::string::npos) << out;
  ASSERT_NE(answer, std::string::npos);
  EXPECT_LT(go, answer);
  EXPECT_NE(out.find("body=ok"), std::string::npos);
  auto other = serve("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: tea\r\n\r\nok");
  EXPECT_NE(other.find("HTTP/1.1 417"), std::string::npos) << other;
}

TEST_F(SessionTest, StaticFilesAreAnsweredBeforeTheHandler) {
  static constexpr StaticFile files[] = {
      {"/", "text/html; charset=utf-8", "<!doctype html>", "", "\"e1\"", false}};
  StaticFilesOptions so;
  so.on_error = options.on_error;
  options.static_files = std::make_shared<StaticFiles>(files, so);
  auto out = serve("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /api HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(out.find("/api for"), std::string::npos);
  EXPECT_EQ(handled, 1);
}

// The head is rendered by the session: the status line of the request's version, the handler's fields once,
// Server and Content-Length added only when the handler set none, and no Content-Length on a 304.
TEST_F(SessionTest, TheHeadCarriesTheHandlersFieldsOnceAndTheLengthItNeeds) {
  handler = [](Request& req, const Peer&, BodyStream&) -> asio::awaitable<Response> {
    if (req.target() == "/not-modified") co_return Response{beast_http::status::not_modified, 11};
    Response res{beast_http::status::ok, 11};
    res.set(beast_http::field::server, "custom");
    res.set("X-Cache", "HIT");
    res.body() = "hello";
    co_return res;
  };
  auto out = serve("GET /a HTTP/1.0\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << out;
  EXPECT_EQ(count(out, "Server:"), 1);
  EXPECT_NE(out.find("Server: custom\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Cache: HIT\r\n"), std::string::npos);
  EXPECT_EQ(count(out, "Content-Length: 5\r\n"), 1);
  EXPECT_EQ(out.substr(out.size() - 9), "\r\n\r\nhello");
  auto not_modified = serve("GET /not-modified HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(not_modified.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u) << not_modified;
  EXPECT_EQ(not_modified.find("Content-Length"), std::string::npos);
  EXPECT_NE(not_modified.find("Server: cachelab\r\n"), std::string::npos);
}

}  // namespace
}  // namespace cachelab::http

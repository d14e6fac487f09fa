// HTTP/1.1 pipelining on the public side: a client writes several requests in
// one write on one keep-alive connection. The edge answers them one after the
// other, in order, each response complete and matching its request (the local
// service's /reflect names method, target and a hash of the body it got).
//
// After an error page the edge goes on only when it is still in sync with
// the client: a 404 (no route) to a request without a body keeps the
// connection and answers what follows; a 404 to a request whose body the
// edge never read says `Connection: close` and closes, and nothing after it
// is forwarded (the unread body could otherwise be taken for a request).
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

struct Req {
  std::string method;
  std::string target;
  std::string body{};
  std::string host = std::string(kHost);
  bool chunked = false;
};

std::string hex(std::size_t n) {
  char text[32];
  std::snprintf(text, sizeof text, "%zx", n);
  return text;
}

std::string wire(const Req& r) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: " + r.host + "\r\n";
  if (r.chunked) {
    out += "Transfer-Encoding: chunked\r\n\r\n";
    // Three uneven chunks, then the last-chunk.
    const std::size_t a = r.body.size() / 3;
    const std::size_t b = r.body.size() / 2;
    const std::pair<std::size_t, std::size_t> pieces[] = {{0, a}, {a, b}, {b, r.body.size()}};
    for (auto [from, to] : pieces) {
      if (to == from) continue;
      out += hex(to - from) + "\r\n" + r.body.substr(from, to - from) + "\r\n";
    }
    out += "0\r\n\r\n";
  } else {
    if (!r.body.empty() || r.method == "POST") {
      out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    }
    out += "\r\n" + r.body;
  }
  return out;
}

// What /reflect answers for `r`.
std::string reflected(const Req& r) {
  return r.method + " " + r.target + " " + sha256_hex(r.body) + " " + std::to_string(r.body.size());
}

struct Pipelined {
  error_code ec;  // a transport or parse error before all responses were read
  std::vector<http::response<http::string_body>> responses;
  bool eof = false;   // the edge closed after the responses (only when asked to read on)
  std::string after;  // bytes that followed the responses
};

// Writes every request in one write, then reads `expected` responses (HEAD
// ones without a body). With `read_to_eof` it then reads until the edge
// closes; otherwise `after` is what was already buffered past the last response.
Task<Pipelined> pipeline(tcp::endpoint edge, beast::tcp_stream& stream, beast::flat_buffer& buffer,
                         const std::vector<Req>& requests, std::size_t expected,
                         bool read_to_eof = false) {
  Pipelined out;
  std::string bytes;
  for (const Req& r : requests) bytes += wire(r);
  stream.expires_after(std::chrono::seconds(8));
  if (!stream.socket().is_open()) {
    co_await stream.async_connect(edge, nothrow(out.ec));
    if (out.ec) co_return out;
  }
  co_await asio::async_write(stream, asio::buffer(bytes), nothrow(out.ec));
  if (out.ec) co_return out;
  for (std::size_t i = 0; i < expected; ++i) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64u << 20);
    if (requests[i].method == "HEAD") parser.skip(true);
    co_await http::async_read(stream, buffer, parser, nothrow(out.ec));
    if (out.ec) co_return out;
    out.responses.push_back(parser.release());
  }
  out.after = beast::buffers_to_string(buffer.data());
  buffer.consume(buffer.size());
  if (read_to_eof) {
    std::array<char, 4096> scratch;
    for (;;) {
      error_code ec;
      const std::size_t n = co_await stream.async_read_some(asio::buffer(scratch), nothrow(ec));
      out.after.append(scratch.data(), n);
      if (ec == asio::error::eof) {
        out.eof = true;
        break;
      }
      if (ec) {
        out.ec = ec;
        break;
      }
    }
  }
  stream.expires_never();
  co_return out;
}

class PipeliningTest : public TunnelFixture {
 protected:
  void SetUp() override {
    TunnelFixture::SetUp();
    start_edge();
    start_agent();
    ASSERT_TRUE(wait_ready(1));
  }

  // The response to `r` is the local service's reflection of exactly `r`.
  static void expect_reflected(const http::response<http::string_body>& response, const Req& r) {
    SCOPED_TRACE(r.method + " " + r.target);
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response["X-Reflect"], r.method + " " + r.target);
    EXPECT_TRUE(response.keep_alive());
    if (r.method == "HEAD") {
      // The head of the GET answer: its Content-Length, no body bytes.
      EXPECT_EQ(response[http::field::content_length], std::to_string(reflected(r).size()));
      EXPECT_EQ(response.body(), "");
    } else {
      EXPECT_EQ(response.body(), reflected(r));
    }
  }

  // A further request on the same connection is answered: it was kept open.
  void expect_still_usable(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    const Req next{"GET", "/reflect?n=after"};
    auto got = run(pipeline(public_endpoint(), stream, buffer, {next}, 1), 10s);
    ASSERT_FALSE(got.ec) << "connection not kept open: " << got.ec.message();
    ASSERT_EQ(got.responses.size(), 1u);
    expect_reflected(got.responses[0], next);
  }
};

TEST_F(PipeliningTest, MixedRequestsInOneWriteAreAnsweredInOrder) {
  const std::vector<Req> requests = {
      {"GET", "/reflect?n=1"},
      {"POST", "/reflect?n=2", pattern_bytes(200 * 1024)},  // larger than one body chunk
      {"HEAD", "/reflect?n=3"},
      {"POST", "/reflect?n=4", pattern_bytes(70'001), std::string(kHost), true},
      {"GET", "/reflect?n=5"},
  };
  beast::tcp_stream stream(executor_);
  beast::flat_buffer buffer;
  auto got = run(pipeline(public_endpoint(), stream, buffer, requests, requests.size()), 10s);
  ASSERT_FALSE(got.ec) << got.ec.message() << " after " << got.responses.size() << " responses";
  ASSERT_EQ(got.responses.size(), requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) expect_reflected(got.responses[i], requests[i]);
  EXPECT_EQ(got.after, "") << "bytes after the last response";
  EXPECT_EQ(upstream_->requests_seen(), requests.size());

  expect_still_usable(stream, buffer);
  EXPECT_EQ(edge_->counters().requests, requests.size() + 1);
  EXPECT_EQ(edge_->counters().requests_failed, 0u);
}

TEST_F(PipeliningTest, NoRoute404WithoutBodyKeepsThePipelineGoing) {
  const std::vector<Req> requests = {
      {"GET", "/reflect?n=1"},
      {"GET", "/reflect?n=2", "", "nobody.test"},
      {"POST", "/reflect?n=3", pattern_bytes(5000)},
      {"HEAD", "/reflect?n=4"},
  };
  beast::tcp_stream stream(executor_);
  beast::flat_buffer buffer;
  auto got = run(pipeline(public_endpoint(), stream, buffer, requests, requests.size()), 10s);
  ASSERT_FALSE(got.ec) << got.ec.message() << " after " << got.responses.size() << " responses";
  ASSERT_EQ(got.responses.size(), requests.size());
  expect_reflected(got.responses[0], requests[0]);
  EXPECT_EQ(got.responses[1].result_int(), 404u);
  EXPECT_TRUE(got.responses[1].keep_alive()) << "the edge is in sync: no reason to close";
  EXPECT_NE(got.responses[1].body().find("no tunnel serves this host"), std::string::npos)
      << got.responses[1].body();
  expect_reflected(got.responses[2], requests[2]);
  expect_reflected(got.responses[3], requests[3]);
  EXPECT_EQ(got.after, "");
  EXPECT_EQ(upstream_->requests_seen(), 3u);
  EXPECT_EQ(edge_->counters().requests_no_route, 1u);

  expect_still_usable(stream, buffer);
}

TEST_F(PipeliningTest, NoRoute404WithUnreadBodyClosesAndForwardsNothingAfter) {
  // The unrouted POST's body is itself a request line: if the edge read on
  // after its 404 without consuming the body, it would forward it.
  const std::string smuggled = "GET /reflect?smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n";
  const std::vector<Req> requests = {
      {"GET", "/reflect?n=1"},
      {"POST", "/reflect?n=2", smuggled, "nobody.test"},
      {"GET", "/reflect?n=3"},
  };
  beast::tcp_stream stream(executor_);
  beast::flat_buffer buffer;
  auto got =
      run(pipeline(public_endpoint(), stream, buffer, requests, 2, /*read_to_eof=*/true), 10s);
  ASSERT_FALSE(got.ec) << got.ec.message() << " after " << got.responses.size() << " responses";
  ASSERT_EQ(got.responses.size(), 2u);
  expect_reflected(got.responses[0], requests[0]);
  EXPECT_EQ(got.responses[1].result_int(), 404u);
  EXPECT_FALSE(got.responses[1].keep_alive());
  EXPECT_EQ(got.responses[1][http::field::connection], "close");
  EXPECT_TRUE(got.eof) << "the edge must close after a 404 that left a body unread";
  EXPECT_EQ(got.after, "") << "nothing may be answered after the closing 404";
  EXPECT_EQ(upstream_->requests_seen(), 1u) << "only the first request may reach the service";
  EXPECT_EQ(edge_->counters().requests, 2u);
  EXPECT_EQ(edge_->counters().requests_no_route, 1u);
}

}  // namespace
}  // namespace dialback::test

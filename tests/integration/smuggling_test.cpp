// Issue 3, "Public side": the edge refuses smuggling vectors and malformed or
// oversized requests before anything reaches a tunnel, and enforces its
// timeouts. Each table row sends raw bytes over plain TCP to the edge's public
// port and asserts the status line, that the edge closed the connection (read
// returns EOF), and that the local service saw nothing.
#include <regex>

#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

constexpr auto kHeaderTimeout = 400ms;
constexpr std::uint64_t kMaxBodyBytes = 1000;

// What a raw client saw: every byte until EOF, reset or the deadline.
struct RawExchange {
  std::string received;
  bool eof = false;       // the edge closed the connection cleanly
  error_code read_error;  // set when the read ended otherwise (timeout, reset)
  std::chrono::milliseconds elapsed{0};

  // Status code of the first response, 0 when there is none.
  int status() const {
    static const std::regex kStatusLine(R"(^HTTP/1\.1 (\d{3}) )");
    std::smatch match;
    if (!std::regex_search(received, match, kStatusLine)) return 0;
    return std::stoi(match[1]);
  }
  std::size_t responses() const {
    std::size_t n = 0;
    for (auto pos = received.find("HTTP/1.1 "); pos != std::string::npos;
         pos = received.find("HTTP/1.1 ", pos + 1)) {
      ++n;
    }
    return n;
  }
};

// Connects, writes `bytes` as they are (never half-closes, so an EOF is the
// edge's doing), then reads until EOF or `deadline`.
Task<RawExchange> raw_exchange(tcp::endpoint edge, std::string bytes,
                               std::chrono::milliseconds deadline = 5000ms) {
  RawExchange out;
  const auto started = Clock::now();
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(deadline);
  error_code ec;
  co_await stream.async_connect(edge, nothrow(ec));
  if (ec) {
    out.read_error = ec;
    co_return out;
  }
  if (!bytes.empty()) {
    // A write error is not a failure by itself (the edge may refuse before
    // reading everything); what was answered is judged from the reads.
    co_await asio::async_write(stream, asio::buffer(bytes), nothrow(ec));
  }
  std::array<char, 4096> chunk;
  for (;;) {
    error_code read_ec;
    const std::size_t n = co_await stream.async_read_some(asio::buffer(chunk), nothrow(read_ec));
    out.received.append(chunk.data(), n);
    if (read_ec == asio::error::eof) {
      out.eof = true;
      break;
    }
    if (read_ec) {
      out.read_error = read_ec;
      break;
    }
  }
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  co_return out;
}

std::string request(std::string_view request_line, std::string_view fields,
                    std::string_view body = {}) {
  return std::string(request_line) + "\r\n" + std::string(fields) + "\r\n" + std::string(body);
}

const std::string kHost = "Host: app.test\r\n";

std::string many_fields(std::size_t n) {
  std::string fields = kHost;
  for (std::size_t i = 1; i < n; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  return fields;
}

// A request that, if the edge misread the framing, would carry a second
// ("smuggled") request to the local service.
const std::string kSmuggled = "0\r\n\r\nGET /hello HTTP/1.1\r\nHost: app.test\r\n\r\n";

struct Row {
  const char* name;
  std::string bytes;
  int status;
  std::size_t upstream_requests = 0;  // requests the local service must see
};

class SmugglingTest : public TunnelFixture {
 protected:
  void start(std::function<void(EdgeConfig&)> configure = {}, agent::StreamHandler handler = {}) {
    EdgeOptions options;
    options.configure = [configure](EdgeConfig& config) {
      config.public_.header_timeout = kHeaderTimeout;
      config.public_.max_body_bytes = kMaxBodyBytes;
      if (configure) configure(config);
    };
    start_edge(options);
    start_agent({}, std::move(handler));
    ASSERT_TRUE(wait_ready(1));
  }

  void check(const Row& row) {
    SCOPED_TRACE(row.name);
    const std::size_t seen_before = upstream_->requests_seen();
    const std::uint64_t rejected_before = edge_->counters().requests_rejected;
    const RawExchange got = run(raw_exchange(public_endpoint(), row.bytes), 10s);
    EXPECT_EQ(got.status(), row.status) << got.received.substr(0, 300);
    EXPECT_EQ(got.responses(), 1u) << got.received.substr(0, 300);
    EXPECT_TRUE(got.eof) << "connection not closed by the edge: " << got.read_error.message();
    EXPECT_EQ(upstream_->requests_seen() - seen_before, row.upstream_requests);
    if (row.status >= 400) {
      EXPECT_EQ(edge_->counters().requests_rejected - rejected_before, 1u);
      EXPECT_NE(got.received.find("Connection: close"), std::string::npos) << got.received;
    }
  }
};

TEST_F(SmugglingTest, RefusedBeforeTheTunnel) {
  start();
  const std::vector<Row> rows = {
      // Rows that must pass: they prove the checks can fail.
      {"ValidRequest", request("GET /hello HTTP/1.1", kHost + "Connection: close\r\n"), 200, 1},
      {"AbsoluteFormSameHostIsNormalised",
       request("GET http://app.test/hello HTTP/1.1", kHost + "Connection: close\r\n"), 200, 1},
      {"ChunkedWithLegalOws",
       request("POST /echo HTTP/1.1",
               kHost + "Connection: close\r\nTransfer-Encoding: \t chunked\r\n",
               "5\r\nhello\r\n0\r\n\r\n"),
       200, 1},
      // Framing.
      {"ClAndTe",
       request("POST /echo HTTP/1.1", kHost + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
               kSmuggled),
       400},
      {"TeAndCl",
       request("POST /echo HTTP/1.1", kHost + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
               kSmuggled),
       400},
      {"TeIdentityAndCl",
       request("POST /echo HTTP/1.1",
               kHost + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n", "hello"),
       400},
      {"TwoDifferentCl",
       request("POST /echo HTTP/1.1", kHost + "Content-Length: 5\r\nContent-Length: 50\r\n",
               "hello"),
       400},
      // Decision: two equal Content-Lengths are refused too (RFC 9112 §6.3
      // allows merging them; refusing removes any doubt which field won).
      {"TwoEqualCl",
       request("POST /echo HTTP/1.1", kHost + "Content-Length: 5\r\nContent-Length: 5\r\n",
               "hello"),
       400},
      {"ClList", request("POST /echo HTTP/1.1", kHost + "Content-Length: 5, 5\r\n", "hello"), 400},
      {"ClNonDigits", request("POST /echo HTTP/1.1", kHost + "Content-Length: 5x\r\n", "hello"),
       400},
      {"ClNegative", request("POST /echo HTTP/1.1", kHost + "Content-Length: -5\r\n", "hello"),
       400},
      {"ClOverflow",
       request("POST /echo HTTP/1.1", kHost + "Content-Length: 184467440737095516160\r\n", "hello"),
       400},
      {"TeChunkedIdentity",
       request("POST /echo HTTP/1.1", kHost + "Transfer-Encoding: chunked, identity\r\n",
               kSmuggled),
       400},
      {"TeXchunked",
       request("POST /echo HTTP/1.1", kHost + "Transfer-Encoding: xchunked\r\n", kSmuggled), 400},
      {"TeLeadingSpaceLine",
       request("POST /echo HTTP/1.1", kHost + " Transfer-Encoding: chunked\r\n", kSmuggled), 400},
      {"TeSpaceBeforeColon",
       request("POST /echo HTTP/1.1", kHost + "Transfer-Encoding : chunked\r\n", kSmuggled), 400},
      {"TeVerticalTabObfuscated",
       request("POST /echo HTTP/1.1",
               kHost + "Transfer-Encoding:\x0b"
                       "chunked\r\n",
               kSmuggled),
       400},
      {"TeObsFoldContinuation",
       request("POST /echo HTTP/1.1", kHost + "Transfer-Encoding:\r\n chunked\r\n", kSmuggled),
       400},
      {"TeChunkedPlusObsFold",
       request("POST /echo HTTP/1.1", kHost + "Transfer-Encoding: chunked\r\n\tidentity\r\n",
               kSmuggled),
       400},
      // Malformed heads.
      {"ObsFoldAnyHeader", request("GET /hello HTTP/1.1", kHost + "X-A: b\r\n c\r\n"), 400},
      {"BareLf", "GET /hello HTTP/1.1\nHost: app.test\n\n", 400},
      {"BareLfMixed", "GET /hello HTTP/1.1\r\nHost: app.test\nX-A: b\r\n\r\n", 400},
      {"EmptyHeaderName", request("GET /hello HTTP/1.1", kHost + ": x\r\n"), 400},
      {"SpaceInMethod", request("GE T /hello HTTP/1.1", kHost), 400},
      {"NulInValue", request("GET /hello HTTP/1.1", kHost + std::string("X-A: a\0b\r\n", 10)), 400},
      {"CrInValue", request("GET /hello HTTP/1.1", kHost + "X-A: a\rb\r\n"), 400},
      {"AbsoluteFormOtherHost", request("GET http://other.test/hello HTTP/1.1", kHost), 400},
      {"TwoHosts", request("GET /hello HTTP/1.1", kHost + "Host: other.test\r\n"), 400},
      // Limits.
      {"TooManyFields", request("GET /hello HTTP/1.1", many_fields(101)), 431},
      {"HeaderTooLarge",
       request("GET /hello HTTP/1.1", kHost + "X-Big: " + std::string(65 << 10, 'a') + "\r\n"),
       431},
      {"BodyOverLimit",
       request("POST /echo HTTP/1.1", kHost + "Content-Length: 1001\r\n", std::string(1001, 'b')),
       413},
  };
  for (const Row& row : rows) check(row);
}

TEST_F(SmugglingTest, SlowlorisHeaderIs408WithinHeaderTimeout) {
  start();
  const Row row{"Slowloris", "GET /hello HTTP/1.1\r\nHost: app.test\r\nX-Slow: ", 408};
  const auto started = Clock::now();
  check(row);
  const auto elapsed = Clock::now() - started;
  EXPECT_GE(elapsed, kHeaderTimeout - 50ms);
  EXPECT_LT(elapsed, kHeaderTimeout + 2s);
}

TEST_F(SmugglingTest, ConnectionThatSendsNothingClosesSilently) {
  start();
  const RawExchange got = run(raw_exchange(public_endpoint(), ""), 10s);
  EXPECT_TRUE(got.eof) << got.read_error.message();
  EXPECT_EQ(got.received, "");
  EXPECT_GE(got.elapsed, kHeaderTimeout - 50ms);
  EXPECT_LT(got.elapsed, kHeaderTimeout + 2s);
}

TEST_F(SmugglingTest, IdleKeepAliveConnectionClosesSilently) {
  start([](EdgeConfig& config) { config.public_.idle_timeout = 300ms; });
  const RawExchange got =
      run(raw_exchange(public_endpoint(), request("GET /hello HTTP/1.1", kHost)), 10s);
  EXPECT_EQ(got.status(), 200) << got.received;
  EXPECT_EQ(got.responses(), 1u) << got.received;  // no 408 after the idle wait
  EXPECT_TRUE(got.eof) << got.read_error.message();
  EXPECT_GE(got.elapsed, 300ms);
  EXPECT_LT(got.elapsed, 3s);
}

TEST_F(SmugglingTest, ChunkedBodyOverLimitIs413AndCloses) {
  start();
  std::string body;
  for (int i = 0; i < 3; ++i) body += "258\r\n" + std::string(600, 'c') + "\r\n";
  body += "0\r\n\r\n";
  const RawExchange got = run(
      raw_exchange(public_endpoint(),
                   request("POST /echo HTTP/1.1", kHost + "Transfer-Encoding: chunked\r\n", body)),
      10s);
  // The head was forwarded before the body went over the limit: the stream
  // was reset, so the local service got no complete request to answer.
  EXPECT_EQ(got.status(), 413) << got.received;
  EXPECT_TRUE(got.eof) << got.read_error.message();
  EXPECT_EQ(got.received.find("200 OK"), std::string::npos) << got.received;
}

// A chunked body the parser rejects after the head went to the agent (a bad
// chunk size; Content-Length in the trailer section) is the client's error:
// 400, the stream reset, the connection closed; never 502.
TEST_F(SmugglingTest, MalformedChunkedBodyIs400AndCloses) {
  start();
  const std::pair<const char*, std::string> bodies[] = {
      {"BadChunkSize", "5\r\nhello\r\nzz\r\n\r\n"},
      {"ContentLengthInTrailer", "5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"},
  };
  for (const auto& [name, body] : bodies) {
    SCOPED_TRACE(name);
    const RawExchange got = run(
        raw_exchange(public_endpoint(), request("POST /echo HTTP/1.1",
                                                kHost + "Transfer-Encoding: chunked\r\n", body)),
        10s);
    EXPECT_EQ(got.status(), 400) << got.received;
    EXPECT_NE(got.received.find("malformed request body"), std::string::npos) << got.received;
    EXPECT_TRUE(got.eof) << got.read_error.message();
  }
}

TEST_F(SmugglingTest, StreamIdleBeforeResponseIs504) {
  start([](EdgeConfig& config) { config.public_.stream_idle_timeout = 300ms; });
  const RawExchange got =
      run(raw_exchange(public_endpoint(),
                       request("GET /slow?ms=4000 HTTP/1.1", kHost + "Connection: close\r\n")),
          10s);
  EXPECT_EQ(got.status(), 504) << got.received;
  EXPECT_TRUE(got.eof) << got.read_error.message();
  EXPECT_LT(got.elapsed, 3s);
}

// The agent answers a head and one chunk, then goes quiet while it waits for
// the rest of the request body, which the client never sends: after
// stream_idle_timeout the edge resets the stream and closes the connection.
Task<void> answer_then_stall(std::unique_ptr<IncomingStream> stream) {
  ResponseHead head;
  head.status = 200;
  if (!stream->respond(head, false)) co_return;
  auto written = co_await stream->write_body("partial");
  if (!written) co_return;
  for (;;) {
    auto chunk = co_await stream->read_body();  // fails when the edge resets the stream
    if (!chunk || !chunk->has_value()) break;
  }
}

TEST_F(SmugglingTest, StreamIdleAfterResponseStartedCloses) {
  start([](EdgeConfig& config) { config.public_.stream_idle_timeout = 300ms; }, answer_then_stall);
  const RawExchange got =
      run(raw_exchange(public_endpoint(), request("POST /upload HTTP/1.1",
                                                  kHost + "Content-Length: 100\r\n", "only10byt")),
          10s);
  EXPECT_EQ(got.status(), 200) << got.received;
  EXPECT_NE(got.received.find("partial"), std::string::npos) << got.received;
  EXPECT_TRUE(got.eof) << got.read_error.message();
  EXPECT_EQ(got.received.find("\r\n0\r\n\r\n"), std::string::npos) << "body must not end cleanly";
  EXPECT_LT(got.elapsed, 3s);
}

}  // namespace
}  // namespace dialback::test

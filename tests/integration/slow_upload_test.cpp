// An upload that keeps moving bytes is not an exchange waiting for its
// response: the timeouts that bound the wait for a response head (the edge's
// public.request_timeout, the agent's upstream_response_timeout) must not cut
// it while the client is still sending. Each test paces a 320 KiB upload over
// about 2 s against a 1 s timeout on one side (10 s on the other); the local
// service reads the whole body and answers with the number of bytes it got.
#include <charconv>

#include "core/ascii.hpp"
#include "scripted_service.hpp"
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

using Conn = ScriptedService::Conn;
constexpr std::size_t kPiece = 16 * 1024;
constexpr int kPieces = 20;
constexpr auto kPace = 100ms;  // between pieces: the upload lasts about 2 s

// Reads the head and a Content-Length body, then answers "<bytes read>".
Task<void> count_body(Conn& conn) {
  const bool got_head = co_await conn.read_head();
  if (!got_head) co_return;
  const std::string head = to_lower_ascii(conn.head());
  const auto field = head.find("\r\ncontent-length: ");
  std::uint64_t length = 0;
  if (field != std::string::npos) {
    const char* digits = head.data() + field + 18;
    std::from_chars(digits, head.data() + head.size(), length);
  }
  while (conn.bytes_read() < length) {
    const std::size_t n = co_await conn.read_some();
    if (n == 0) co_return;
  }
  const std::string body = std::to_string(conn.bytes_read());
  co_await conn.write("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\n\r\n" + body);
}

// Sends a POST of kPieces * kPiece bytes, one piece every kPace, and reads the response.
Task<HttpResult> paced_upload(tcp::endpoint edge) {
  HttpResult result;
  const auto started = Clock::now();
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  stream.expires_after(15s);
  co_await stream.async_connect(edge, nothrow(result.ec));
  if (result.ec) co_return result;
  std::string head = "POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: " +
                     std::to_string(kPiece * kPieces) + "\r\n\r\n";
  co_await asio::async_write(stream, asio::buffer(head), nothrow(result.ec));
  const std::string piece = pattern_bytes(kPiece);
  asio::steady_timer pace(co_await asio::this_coro::executor);
  for (int i = 0; i < kPieces && !result.ec; ++i) {
    pace.expires_after(kPace);
    error_code ignored;
    co_await pace.async_wait(nothrow(ignored));
    co_await asio::async_write(stream, asio::buffer(piece), nothrow(result.ec));
  }
  // A write error (the edge gave up and closed) is judged by the response read next.
  result.ec = {};
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  co_await http::async_read(stream, buffer, parser, nothrow(result.ec));
  if (!result.ec) result.response = parser.release();
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  error_code ignored;
  stream.socket().close(ignored);
  co_return result;
}

class SlowUploadTest : public TunnelFixture {
 protected:
  void start(std::chrono::milliseconds edge_request_timeout,
             std::chrono::milliseconds agent_response_timeout) {
    service_ = std::make_unique<ScriptedService>(executor_, count_body);
    service_->start();
    start_edge({.request_timeout = edge_request_timeout});
    start_agent(
        {.upstream_url = service_->url(), .upstream_response_timeout = agent_response_timeout});
    ASSERT_TRUE(wait_ready(1));
  }

  void TearDown() override {
    if (service_) service_->stop();
    TunnelFixture::TearDown();
  }

  void expect_whole_upload_answered() {
    const HttpResult result = run(paced_upload(public_endpoint()), 20s);
    ASSERT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.status(), 200) << result.response.body();
    EXPECT_EQ(result.response.body(), std::to_string(kPiece * kPieces));
    EXPECT_GE(result.elapsed, kPace * kPieces) << "the upload was not paced";
  }

  std::unique_ptr<ScriptedService> service_;
};

TEST_F(SlowUploadTest, EdgeRequestTimeoutDoesNotCutAProgressingUpload) {
  start(1000ms, 10s);
  expect_whole_upload_answered();
}

TEST_F(SlowUploadTest, AgentResponseTimeoutDoesNotCutAProgressingUpload) {
  start(10s, 1000ms);
  expect_whole_upload_answered();
}

// The control: with both timeouts longer than the upload, it goes through.
TEST_F(SlowUploadTest, UploadWithinTheTimeoutsIsAnswered) {
  start(10s, 10s);
  expect_whole_upload_answered();
}

}  // namespace
}  // namespace dialback::test

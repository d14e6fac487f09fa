// The Envoy reverse-tunnel wire (transport/envoy): telling the handshake
// request from other first bytes, parsing both messages, and the RPING
// keepalive before HTTP/2 in both directions.
#include <gtest/gtest.h>

#include <deque>

#include "transport/envoy/envoy_handshake.hpp"
#include "transport/envoy/rping_stream.hpp"

namespace dialback::envoy {
namespace {

TEST(EnvoyHandshake, ClaimsOnlyRequestsForTheHandshakePath) {
  EXPECT_EQ(is_handshake_request("GET /reverse_connections/request HTTP/1.1\r\n"), true);
  EXPECT_EQ(is_handshake_request("POST /reverse_connections/request HTTP/1.1\r\n"), true);
  EXPECT_EQ(is_handshake_request("GET /reverse_connections/request?x=1 HTTP/1.1"), true);
  EXPECT_EQ(is_handshake_request("GET /.well-known/dialback/v1/tunnel HTTP/1.1\r\n"), false);
  EXPECT_EQ(is_handshake_request("GET /reverse_connections/requests HTTP/1.1"), false);
  EXPECT_EQ(is_handshake_request("PRI * HTTP/2.0\r\n"), false);
  EXPECT_EQ(is_handshake_request("\x16\x03\x01"), false);
  // Too short to tell: wait for more bytes.
  EXPECT_EQ(is_handshake_request("GE"), std::nullopt);
  EXPECT_EQ(is_handshake_request("GET /reverse_conn"), std::nullopt);
  EXPECT_EQ(is_handshake_request("GET /reverse_connections/request"), std::nullopt);
}

http::request<http::empty_body> request_with(std::string_view method, std::string_view target) {
  SessionIdentity identity;
  identity.node = "node-a";
  identity.cluster = "web";
  identity.tenant = "acme";
  auto request = build_handshake_request("edge.test", identity, "Bearer tok");
  request.method_string(method);
  request.target(target);
  return request;
}

TEST(EnvoyHandshake, RequestRoundTripsItsIdentity) {
  auto request = request_with("GET", kRequestPath);
  EXPECT_EQ(request[http::field::authorization], "Bearer tok");
  EXPECT_EQ(request[http::field::content_length], "0");
  auto parsed = parse_handshake_request(request);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->node, "node-a");
  EXPECT_EQ(parsed->cluster, "web");
  EXPECT_EQ(parsed->tenant, "acme");
}

TEST(EnvoyHandshake, RefusalsHaveEnvoysStatuses) {
  EXPECT_EQ(parse_handshake_request(request_with("POST", kRequestPath)).error().status, 404);
  EXPECT_EQ(parse_handshake_request(request_with("GET", "/other")).error().status, 404);
  auto missing = request_with("GET", kRequestPath);
  missing.erase(kTenantHeader);
  EXPECT_EQ(parse_handshake_request(missing).error().status, 400);
  auto bad = request_with("GET", kRequestPath);
  bad.set(kNodeHeader, "node:a");  // ':' is Envoy's tenant delimiter
  EXPECT_EQ(parse_handshake_request(bad).error().status, 400);
  auto twice = request_with("GET", kRequestPath);
  twice.insert(kClusterHeader, "other");
  EXPECT_EQ(parse_handshake_request(twice).error().status, 400);
}

TEST(EnvoyHandshake, ResponseStatusesReachTheInitiator) {
  http::response<http::string_body> ok{http::status::ok, 11};
  EXPECT_FALSE(parse_handshake_response(ok).has_value());
  auto busy = build_handshake_reject(RegistrationRejection::draining("edge is shutting down", 3));
  http::response<http::string_body> received{busy.result(), 11, busy.body()};
  received.set(http::field::retry_after, busy[http::field::retry_after]);
  auto refused = parse_handshake_response(received);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->retry_after_seconds, 3);
  EXPECT_EQ(refused->message, "edge is shutting down");
}

// An in-memory ByteStream: reads return the scripted chunks, then EOF;
// writes are recorded.
class ScriptedStream final : public ByteStream {
 public:
  ScriptedStream(asio::any_io_executor executor, std::deque<std::string> chunks)
      : executor_(std::move(executor)), chunks_(std::move(chunks)) {}
  Task<std::size_t> read_some(asio::mutable_buffer buffer, error_code& ec) override {
    if (chunks_.empty()) {
      ec = asio::error::eof;
      co_return 0;
    }
    std::string& front = chunks_.front();
    const std::size_t n = asio::buffer_copy(buffer, asio::buffer(front));
    front.erase(0, n);
    if (front.empty()) chunks_.pop_front();
    co_return n;
  }
  Task<void> write_all(asio::const_buffer buffer, error_code&) override {
    written->append(static_cast<const char*>(buffer.data()), buffer.size());
    co_return;
  }
  Task<void> shutdown() override { co_return; }
  void close() override {}
  asio::any_io_executor executor() override { return executor_; }

  std::shared_ptr<std::string> written = std::make_shared<std::string>();

 private:
  asio::any_io_executor executor_;
  std::deque<std::string> chunks_;
};

struct Outcome {
  std::string passed_on;  // what the session above would read
  std::string written;    // what reached the peer
  std::uint64_t rpings = 0;
  int empty_reads = 0;
};

// Runs a session-like reader and an early writer over an RpingStream.
Outcome run_over(RpingStream::Mode mode, std::deque<std::string> chunks, std::string initial) {
  asio::io_context io;
  auto inner = std::make_unique<ScriptedStream>(io.get_executor(), std::move(chunks));
  auto written = inner->written;
  RpingStream stream(std::move(inner), mode, std::move(initial));
  Outcome out;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        error_code ec;
        co_await stream.write_all(asio::buffer(std::string_view("SETTINGS")), ec);
      },
      asio::detached);
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        for (;;) {
          char buffer[64];
          error_code ec;
          const std::size_t n = co_await stream.read_some(asio::buffer(buffer), ec);
          if (ec) break;
          if (n == 0) ++out.empty_reads;
          out.passed_on.append(buffer, n);
        }
      },
      asio::detached);
  io.run_for(std::chrono::seconds(5));
  out.written = *written;
  out.rpings = stream.rpings();
  return out;
}

TEST(RpingStream, InitiatorEchoesRpingsAndHoldsItsOutputUntilHttp2) {
  // Split across reads, as TCP may deliver them.
  const auto out =
      run_over(RpingStream::Mode::echo, {"RPI", "NGRPING", "RP", "INGPRI * HT", "TP"}, "RPING");
  EXPECT_EQ(out.rpings, 4u);
  EXPECT_EQ(out.written, "RPINGRPINGRPINGRPINGSETTINGS");  // every echo before our first byte
  EXPECT_EQ(out.passed_on, "PRI * HTTP");
  EXPECT_GT(out.empty_reads, 0);  // liveness saw the keepalives
}

TEST(RpingStream, ResponderDropsRpingsWithoutAnswering) {
  const auto out =
      run_over(RpingStream::Mode::strip, {"RPINGRP", std::string("ING\x00\x00\x12", 6)}, "");
  EXPECT_EQ(out.rpings, 2u);
  EXPECT_EQ(out.written, "SETTINGS");  // not held back, nothing answered
  EXPECT_EQ(out.passed_on, std::string("\x00\x00\x12", 3));
}

TEST(RpingStream, AnythingElseFirstEndsTheKeepaliveAtOnce) {
  const auto out = run_over(RpingStream::Mode::echo, {"RPXNG", "RPING"}, "");
  EXPECT_EQ(out.rpings, 0u);
  EXPECT_EQ(out.written, "SETTINGS");
  EXPECT_EQ(out.passed_on, "RPXNGRPING");  // later RPINGs are HTTP/2 bytes
}

}  // namespace
}  // namespace dialback::envoy

// Cancellation both ways. When the public client goes away, the exchange is
// aborted end to end: the agent drops its request to the local service
// (which sees its connection closed or its writes fail) and no stream stays
// open on the edge or the agent. When the local service goes away, the public
// client learns it at once: a closed connection with an incomplete body once
// the response started, a 502 before it did. "At once" is 1 s here.
//
// The local service is a ScriptedService whose script is written per test;
// the public client is a raw socket, so that the test decides exactly when it
// closes and sees exactly how the edge ended the response.
#include <memory>

#include "core/ascii.hpp"
#include "scripted_service.hpp"
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

constexpr auto kPrompt = 1s;  // how soon the other end must learn of an abort

using Conn = ScriptedService::Conn;

// A raw public client on one connection.
class RawClient {
 public:
  explicit RawClient(asio::any_io_executor executor) : stream_(std::move(executor)) {}

  Task<error_code> connect(tcp::endpoint endpoint) {
    error_code ec;
    stream_.expires_after(5s);
    co_await stream_.async_connect(endpoint, nothrow(ec));
    stream_.expires_never();
    co_return ec;
  }
  Task<error_code> send(std::string bytes) {
    error_code ec;
    stream_.expires_after(5s);
    co_await asio::async_write(stream_, asio::buffer(bytes), nothrow(ec));
    stream_.expires_never();
    co_return ec;
  }
  // Reads until `received()` holds `needle`; false when the connection
  // ended first or nothing more came within 5 s.
  Task<bool> read_until(std::string needle) {
    while (received_.find(needle) == std::string::npos) {
      const error_code ec = co_await read_once();
      if (ec) co_return false;
    }
    co_return true;
  }
  // Reads until at least `n` bytes were received.
  Task<bool> read_at_least(std::size_t n) {
    while (received_.size() < n) {
      const error_code ec = co_await read_once();
      if (ec) co_return false;
    }
    co_return true;
  }
  // Reads until the edge ends the connection (EOF or reset; the error is
  // returned) or nothing comes for 5 s (timeout).
  Task<error_code> read_to_end() {
    for (;;) {
      const error_code ec = co_await read_once();
      if (ec) {
        ended_at_ = Clock::now();
        co_return ec;
      }
    }
  }
  // Closes the socket: a FIN, or a RST when received bytes are still unread.
  void close() {
    error_code ignored;
    stream_.socket().close(ignored);
  }

  const std::string& received() const { return received_; }
  Clock::time_point ended_at() const { return ended_at_; }

 private:
  Task<error_code> read_once() {
    std::array<char, 16 * 1024> buffer;
    error_code ec;
    stream_.expires_after(5s);
    const std::size_t n = co_await stream_.async_read_some(asio::buffer(buffer), nothrow(ec));
    stream_.expires_never();
    received_.append(buffer.data(), n);
    co_return ec;
  }

  beast::tcp_stream stream_;
  std::string received_;
  Clock::time_point ended_at_{};
};

std::string get(std::string_view target) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: app.test\r\n\r\n";
}

bool head_is(const Conn& conn, std::string_view request_line_start) {
  return conn.head().rfind(request_line_start, 0) == 0;
}

// The script's answer to GET /hello: lets a test prove the tunnel still works.
Task<bool> answer_hello(Conn& conn) {
  const bool ok = co_await conn.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
  co_return ok;
}

// Reads (and drops) the request until the peer goes away or the service stops.
Task<void> read_until_gone(Conn& conn) {
  for (;;) {
    const std::size_t n = co_await conn.read_some();
    if (n == 0) break;
    conn.pending().clear();
  }
}

class CancellationTest : public TransportMatrix {
 protected:
  // The local service runs `script` on each connection; GET /hello is
  // answered "hello" first (and the connection kept) on the service's behalf.
  void start(std::function<Task<void>(Conn&)> script, EdgeOptions edge_options = {}) {
    service_ = std::make_unique<ScriptedService>(
        executor_, [script = std::move(script)](Conn& conn) -> Task<void> {
          for (;;) {
            const bool got_head = co_await conn.read_head();
            if (!got_head) co_return;
            if (!head_is(conn, "GET /hello ")) break;
            const bool answered = co_await answer_hello(conn);
            if (!answered) co_return;
          }
          co_await script(conn);
        });
    service_->start();
    start_edge(edge_options);
    start_agent({.upstream_url = service_->url()});
    ASSERT_TRUE(wait_ready(1));
  }

  void TearDown() override {
    if (service_) service_->stop();
    TunnelFixture::TearDown();
    if (service_) {
      EXPECT_TRUE(service_->idle()) << "a script outlived the service";
    }
  }

  // The local service saw its connection end within kPrompt of `since`.
  void expect_service_aborted_soon(Clock::time_point since) {
    ASSERT_TRUE(run_until([&] { return service_->peer_gone_at().has_value(); }, 5s))
        << "the local service still has its request: the agent never aborted it";
    EXPECT_LT(*service_->peer_gone_at() - since, kPrompt)
        << "aborted after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(*service_->peer_gone_at() - since)
               .count()
        << " ms";
  }

  // No stream is left open on the edge or the agent; the tunnel still serves.
  void expect_clean_afterwards() {
    EXPECT_TRUE(run_until([&] { return edge_inflight() == 0 && agent_inflight() == 0; }, kPrompt))
        << "streams still open: edge " << edge_inflight() << ", agent " << agent_inflight();
    EXPECT_TRUE(run_until([&] { return service_->scripts_running() == 0; }, kPrompt))
        << "the local service is still serving an aborted request";
    EXPECT_EQ(edge_->session_count(kTunnel), 1u) << "an aborted stream must not end the session";
    auto again = run(fetch_get(public_endpoint(), "/hello"));
    ASSERT_FALSE(again.ec) << again.ec.message();
    EXPECT_EQ(again.status(), 200);
    EXPECT_EQ(again.response.body(), "hello");
  }

  std::unique_ptr<ScriptedService> service_;
};

// ---- the public client goes away -----------------------------------------

TEST_P(CancellationTest, ClientGoneMidDrippingResponse) {
  // 1 KiB every 20 ms for up to 30 s: the edge notices at its next write.
  start([](Conn& conn) -> Task<void> {
    bool ok = co_await conn.write(chunked_response_head());
    for (int i = 0; ok && i < 1500; ++i) {
      ok = co_await conn.write(chunk(std::string(1024, 'd')));
      if (!ok) break;
      ok = co_await conn.pause(20ms);
    }
  });
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  ASSERT_FALSE(run(client.send(get("/drip"))));
  ASSERT_TRUE(run(client.read_at_least(4096), 5s)) << client.received();
  ASSERT_EQ(client.received().rfind("HTTP/1.1 200 ", 0), 0u) << client.received().substr(0, 200);
  client.close();
  const auto closed_at = Clock::now();

  expect_service_aborted_soon(closed_at);
  expect_clean_afterwards();
  EXPECT_EQ(edge_->counters().requests_failed, 1u);
  EXPECT_TRUE(logs_->contains("error=client-gone"));
}

TEST_P(CancellationTest, ClientGoneWhileResponseIsHeldBackByFlowControl) {
  // As fast as the tunnel takes it, without end: the service is blocked in
  // a write when the client goes away, the agent in write_body.
  start([](Conn& conn) -> Task<void> {
    bool ok = co_await conn.write(chunked_response_head());
    const std::string piece = chunk(pattern_bytes(64 * 1024));
    for (int i = 0; ok && i < 16 * 1024; ++i) ok = co_await conn.write(piece);  // at most 1 GiB
  });
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  ASSERT_FALSE(run(client.send(get("/firehose"))));
  ASSERT_TRUE(run(client.read_at_least(256 * 1024), 5s));
  // The client stops reading: the service soon blocks in a write, the agent
  // in write_body. It then leaves with unread bytes, so its close is a RST.
  client.close();
  const auto closed_at = Clock::now();

  expect_service_aborted_soon(closed_at);
  expect_clean_afterwards();
  EXPECT_EQ(edge_->counters().requests_failed, 1u);
}

TEST_P(CancellationTest, ClientGoneBeforeTheResponseHead) {
  // The service takes its time to answer (here: never); the client gives up.
  start([](Conn& conn) -> Task<void> { co_await read_until_gone(conn); });
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  ASSERT_FALSE(run(client.send(get("/never"))));
  ASSERT_TRUE(run_until([&] { return service_->heads_read() == 1; }));
  client.close();
  const auto closed_at = Clock::now();

  expect_service_aborted_soon(closed_at);
  expect_clean_afterwards();
}

TEST_P(CancellationTest, ClientGoneWhileTheResponseIsQuiet) {
  // Head and a first chunk, then silence (a long poll, an idle event stream).
  start([](Conn& conn) -> Task<void> {
    const bool ok = co_await conn.write(chunked_response_head() + chunk("first"));
    if (ok) co_await read_until_gone(conn);
  });
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  ASSERT_FALSE(run(client.send(get("/quiet"))));
  ASSERT_TRUE(run(client.read_until("first"), 5s)) << client.received();
  client.close();
  const auto closed_at = Clock::now();

  expect_service_aborted_soon(closed_at);
  expect_clean_afterwards();
}

// ---- the edge gives up on a stream -----------------------------------------
// public.stream_idle_timeout resets a stream without progress: the agent must
// then drop the local request as it does for a client that went away.

EdgeOptions stream_idle_timeout(std::chrono::milliseconds timeout) {
  EdgeOptions options;
  options.configure = [timeout](EdgeConfig& config) {
    config.public_.stream_idle_timeout = timeout;
  };
  return options;
}

TEST_P(CancellationTest, EdgeResetBeforeTheResponseHeadAbortsTheLocalRequest) {
  start([](Conn& conn) -> Task<void> { co_await read_until_gone(conn); },
        stream_idle_timeout(300ms));
  auto result = run(fetch_get(public_endpoint(), "/never"), 5s);
  const auto reset_at = Clock::now();
  ASSERT_FALSE(result.ec) << result.ec.message();
  ASSERT_EQ(result.status(), 504);

  expect_service_aborted_soon(reset_at);
  expect_clean_afterwards();
}

TEST_P(CancellationTest, EdgeResetWhileTheResponseIsQuietAbortsTheLocalRequest) {
  start(
      [](Conn& conn) -> Task<void> {
        const bool ok = co_await conn.write(chunked_response_head() + chunk("first"));
        if (ok) co_await read_until_gone(conn);
      },
      stream_idle_timeout(300ms));
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  ASSERT_FALSE(run(client.send(get("/quiet"))));
  ASSERT_TRUE(run(client.read_until("first"), 5s)) << client.received();
  const error_code ended = run(client.read_to_end(), 5s);
  ASSERT_TRUE(ended == asio::error::eof || ended == asio::error::connection_reset)
      << ended.message();

  expect_service_aborted_soon(client.ended_at());
  expect_clean_afterwards();
}

// The service reads the body as it comes; a complete one is answered 200.
Task<void> read_body_then_answer(Conn& conn, std::uint64_t expected) {
  while (conn.bytes_read() < expected) {
    const std::size_t n = co_await conn.read_some();
    if (n == 0) co_return;
    conn.pending().clear();
  }
  co_await conn.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
}

class UploadCancellationTest : public CancellationTest {
 protected:
  void client_gone_mid_upload(bool chunked);
};

void UploadCancellationTest::client_gone_mid_upload(bool chunked) {
  constexpr std::size_t kDeclared = 8u << 20;
  // A chunked body is read to its end by the service only through an
  // explicit last-chunk, which never comes: `expected` is never reached.
  start([](Conn& conn) -> Task<void> { co_await read_body_then_answer(conn, kDeclared); });
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  const std::string part = pattern_bytes(256 * 1024);
  std::string request = "POST /upload HTTP/1.1\r\nHost: app.test\r\n";
  if (chunked) {
    request += "Transfer-Encoding: chunked\r\n\r\n" + chunk(part);
  } else {
    request += "Content-Length: " + std::to_string(kDeclared) + "\r\n\r\n" + part;
  }
  ASSERT_FALSE(run(client.send(std::move(request))));
  // The upload is under way: body bytes reached the local service.
  ASSERT_TRUE(run_until([&] { return service_->body_bytes() >= 64 * 1024; }))
      << "got " << service_->body_bytes();
  client.close();
  const auto closed_at = Clock::now();

  expect_service_aborted_soon(closed_at);
  EXPECT_LT(service_->body_bytes(), kDeclared);
  expect_clean_afterwards();
  EXPECT_EQ(edge_->counters().requests_failed, 1u);
}

TEST_P(UploadCancellationTest, ClientGoneMidUploadWithContentLength) {
  client_gone_mid_upload(/*chunked=*/false);
}

TEST_P(UploadCancellationTest, ClientGoneMidChunkedUpload) {
  client_gone_mid_upload(/*chunked=*/true);
}

INSTANTIATE_TEST_SUITE_P(Transports, UploadCancellationTest, AllTransports(), TransportName);

// ---- the local service goes away -----------------------------------------

TEST_P(CancellationTest, ServiceResetMidChunkedResponseClosesThePublicConnection) {
  // The service waits until the client got the first bytes, then resets.
  bool client_has_partial = false;
  std::optional<Clock::time_point> reset_at;
  start([&](Conn& conn) -> Task<void> {
    bool ok = co_await conn.write(chunked_response_head() + chunk("partial-body"));
    for (int i = 0; ok && !client_has_partial && i < 1000; ++i) ok = co_await conn.pause(5ms);
    reset_at = Clock::now();
    conn.reset();
  });
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  ASSERT_FALSE(run(client.send(get("/partial"))));
  ASSERT_TRUE(run(client.read_until("partial-body"), 5s)) << client.received();
  client_has_partial = true;
  const error_code ended = run(client.read_to_end(), 10s);

  ASSERT_TRUE(reset_at.has_value());
  EXPECT_TRUE(ended == asio::error::eof || ended == asio::error::connection_reset)
      << "the connection was not closed: " << ended.message();
  EXPECT_LT(client.ended_at() - *reset_at, kPrompt);
  EXPECT_EQ(client.received().rfind("HTTP/1.1 200 ", 0), 0u);
  EXPECT_EQ(client.received().find("\r\n0\r\n\r\n"), std::string::npos)
      << "an aborted body must not end with the last-chunk";
  EXPECT_EQ(edge_->counters().requests_failed, 1u);
  expect_clean_afterwards();
}

TEST_P(CancellationTest, ServiceClosedShortOfContentLengthClosesThePublicConnection) {
  bool client_has_partial = false;
  std::optional<Clock::time_point> closed_at;
  start([&](Conn& conn) -> Task<void> {
    bool ok = co_await conn.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" +
                                  std::string(5000, 'p'));
    for (int i = 0; ok && !client_has_partial && i < 1000; ++i) ok = co_await conn.pause(5ms);
    closed_at = Clock::now();
    conn.close();  // a clean FIN, 95000 bytes short
  });
  RawClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));
  ASSERT_FALSE(run(client.send(get("/short"))));
  ASSERT_TRUE(run(client.read_until(std::string(5000, 'p')), 5s)) << client.received().size();
  client_has_partial = true;
  const error_code ended = run(client.read_to_end(), 10s);

  ASSERT_TRUE(closed_at.has_value());
  EXPECT_TRUE(ended == asio::error::eof || ended == asio::error::connection_reset)
      << "the connection was not closed: " << ended.message();
  EXPECT_LT(client.ended_at() - *closed_at, kPrompt);
  const auto body_start = client.received().find("\r\n\r\n");
  ASSERT_NE(body_start, std::string::npos);
  const std::string head = to_lower_ascii(client.received().substr(0, body_start));
  EXPECT_NE(head.find("\r\ncontent-length: 100000"), std::string::npos) << head;
  EXPECT_EQ(client.received().size() - body_start - 4, 5000u);
  EXPECT_EQ(edge_->counters().requests_failed, 1u);
  expect_clean_afterwards();
}

TEST_P(CancellationTest, ServiceGoneBeforeTheResponseHeadIs502) {
  // FIN or RST right after reading the request, before any response byte.
  start([](Conn& conn) -> Task<void> {
    if (head_is(conn, "GET /rst ")) {
      conn.reset();
    } else {
      conn.close();
    }
    co_return;
  });
  for (const std::string target : {"/fin", "/rst"}) {
    SCOPED_TRACE(target);
    const auto started = Clock::now();
    auto result = run(fetch_get(public_endpoint(), target), 5s);
    ASSERT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.status(), 502);
    EXPECT_LT(Clock::now() - started, kPrompt);
    EXPECT_NE(result.response.body().find("local service"), std::string::npos)
        << result.response.body();
  }
  expect_clean_afterwards();
}

INSTANTIATE_TEST_SUITE_P(Transports, CancellationTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test

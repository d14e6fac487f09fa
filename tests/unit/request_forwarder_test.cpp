// edge::RequestForwarder over FakeTunnelSessions registered in a real
// SessionRegistry: routing, opening (and the one retry), and how the public
// front ends map what the tunnel stream does to a status. forward() below is
// the tunnel half of PublicH2Session::forward in miniature — open,
// IdleTimeoutStream, StreamBridge::read_response, describe_tunnel_failure —
// because the front ends' own forward() is private and needs a public
// HTTP/2 connection.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "coro_test.hpp"
#include "edge/error_page.hpp"
#include "edge/idle_timeout_stream.hpp"
#include "edge/request_forwarder.hpp"
#include "fake_streams.hpp"
#include "fake_tunnel_session.hpp"
#include "stream_test_util.hpp"
#include "tunnel/stream_bridge.hpp"

namespace dialback::test {
namespace {

using namespace std::chrono_literals;
using edge::RequestForwarder;

constexpr std::string_view kHost = "app.example.test";

EdgeConfig make_config() {
  EdgeConfig config;
  TunnelConfig tunnel;
  tunnel.name = "web";
  tunnel.hosts = {std::string(kHost)};
  tunnel.auth.tokens = {"forwarder-test-token"};
  config.tunnels.push_back(std::move(tunnel));
  config.public_.request_timeout = 5s;
  config.public_.stream_idle_timeout = 5s;
  return config;
}

SessionIdentity identity_of(std::string session_id) {
  SessionIdentity identity;
  identity.tunnel = "web";
  identity.node = "node-" + session_id;
  identity.cluster = "web";
  identity.session_id = std::move(session_id);
  return identity;
}

// What the public client got.
struct Outcome {
  int status = 0;
  std::string reason;  // describe_tunnel_failure's, or the refusal's `via`
  std::optional<int> retry_after;
  std::string body;
};

class RequestForwarderTest : public ::testing::Test {
 protected:
  RequestForwarderTest()
      : config_(make_config()),
        tunnels_(std::move(*edge::TunnelTable::build(config_.tunnels))),
        forwarder_(config_, tunnels_, registry_, counters_, make_null_logger("access")) {}

  void run(Task<void> task) { EXPECT_TRUE(run_task(io_, std::move(task), 10s)); }

  // A GET for `path` on the tunnel's host, forwarded as a public HTTP/2
  // request is: the public client's end is `client`'s opener.
  Task<Outcome> forward(std::string path, Clock::duration request_timeout = 5s) {
    auto executor = co_await asio::this_coro::executor;
    RequestHead head = make_request_head("GET", path, std::string(kHost));
    auto public_side = make_fake_stream_pair(executor, head, true);
    const auto peer = forwarder_.peer("192.0.2.7");
    forwarder_.add_forwarding(head, peer, "https", forwarder_.next_request_id());
    auto opened = co_await forwarder_.open(head, true, peer);
    if (!opened) {
      const auto& refusal = opened.error();
      co_return Outcome{static_cast<int>(refusal.status), refusal.via, refusal.retry_after, ""};
    }
    edge::IdleTimeoutStream tunnel(std::move(opened->stream), executor,
                                   config_.public_.stream_idle_timeout,
                                   config_.public_.first_byte_timeout, nullptr);
    StreamBridge bridge(*public_side.answerer, tunnel, executor);
    auto response = co_await bridge.read_response(Clock::now() + request_timeout);
    if (!response) {
      co_await bridge.finish();
      const auto failure = edge::describe_tunnel_failure(response.error());
      co_return Outcome{static_cast<int>(failure.status), failure.reason, std::nullopt, ""};
    }
    auto relayed = co_await bridge.relay_response(*response);
    co_await bridge.finish();
    Outcome outcome{response->status, "", std::nullopt, ""};
    if (!relayed) outcome.reason = edge::relay_failure_reason(relayed.error());
    auto client_head = co_await public_side.opener->read_response(in(5s));
    if (client_head) {
      auto body = co_await read_all(*public_side.opener);
      if (body) outcome.body = *body;
    }
    co_return outcome;
  }

  asio::io_context io_;
  EdgeConfig config_;
  edge::TunnelTable tunnels_;
  edge::SessionRegistry registry_;
  edge::EdgeCounters counters_;
  RequestForwarder forwarder_;
};

// Plays the agent for the next stream on `session`: answers `status` with `body`.
Task<void> answer_next(FakeTunnelSession& session, int status, std::string body,
                       std::optional<RequestHead>& seen) {
  auto stream = co_await session.next_incoming(in(5s));
  if (!stream) co_return;
  seen = stream->request();
  if (!stream->respond({status, {{"content-type", "text/plain"}}}, false)) co_return;
  auto written = co_await stream->write_body(body);
  if (written) stream->end_body();
}

TEST_F(RequestForwarderTest, ForwardsToTheTunnelsSessionAndRelaysTheResponse) {
  run([this]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession session(executor, identity_of("s1"));
    registry_.add("web", &session);
    std::optional<RequestHead> seen;
    asio::co_spawn(executor, answer_next(session, 200, "hello from the agent", seen),
                   asio::detached);

    auto outcome = co_await forward("/hello?x=1");
    EXPECT_EQ(outcome.status, 200);
    EXPECT_EQ(outcome.body, "hello from the agent");
    EXPECT_EQ(outcome.reason, "");
    CO_ASSERT_TRUE(seen.has_value());
    EXPECT_EQ(seen->path, "/hello?x=1");
    EXPECT_EQ(seen->authority, kHost);
    EXPECT_EQ(header_or_none(seen->headers, "x-forwarded-for"), "192.0.2.7");
    EXPECT_EQ(session.open_calls(), 1u);
    EXPECT_EQ(counters_.requests_no_session, 0u);
    registry_.remove("web", &session);
  }());
}

TEST_F(RequestForwarderTest, AnUnknownHostIs404) {
  run([this]() -> Task<void> {
    RequestHead head = make_request_head("GET", "/", "other.example.test");
    auto opened = co_await forwarder_.open(head, true, forwarder_.peer("192.0.2.7"));
    CO_ASSERT_TRUE(!opened);
    EXPECT_EQ(opened.error().status, http::status::not_found);
    EXPECT_EQ(counters_.requests_no_route, 1u);
  }());
}

TEST_F(RequestForwarderTest, NoSessionIs503WithRetryAfter) {
  run([this]() -> Task<void> {
    auto outcome = co_await forward("/");
    EXPECT_EQ(outcome.status, 503);
    EXPECT_EQ(outcome.retry_after, std::optional<int>(5));
    EXPECT_NE(outcome.reason.find("no-session"), std::string::npos) << outcome.reason;
    EXPECT_EQ(counters_.requests_no_session, 1u);
  }());
}

TEST_F(RequestForwarderTest, ASessionThatFailsToOpenIsTriedOnceMoreThen503) {
  run([this]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession session(executor, identity_of("s1"));
    session.fail_opens(code(Error::stream_refused));
    registry_.add("web", &session);

    auto outcome = co_await forward("/");
    EXPECT_EQ(outcome.status, 503);
    EXPECT_EQ(session.open_calls(), 2u) << "one retry";
    EXPECT_EQ(counters_.requests_no_session, 1u);
    registry_.remove("web", &session);
  }());
}

// A session admitted by an allocation-scoped token serves what was leased
// to its node, never the tunnel's configured host.
TEST_F(RequestForwarderTest, ALeasesOnlySessionServesItsLeaseOnly) {
  run([this]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession scoped(executor, identity_of("s1"));
    registry_.add("web", &scoped, /*leases_only=*/true);

    auto outcome = co_await forward("/");
    EXPECT_EQ(outcome.status, 503);
    EXPECT_EQ(scoped.open_calls(), 0u);

    RequestHead head = make_request_head("GET", "/", "192.0.2.1:9000");
    auto opened = co_await forwarder_.open_in(*tunnels_.find("web"), head, true,
                                              forwarder_.peer("192.0.2.7"), "node-s1");
    CO_ASSERT_TRUE(opened.has_value());
    EXPECT_EQ(scoped.open_calls(), 1u);
    registry_.remove("web", &scoped);
  }());
}

TEST_F(RequestForwarderTest, AFailedOpenMovesToAnotherSession) {
  run([this]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession failing(executor, identity_of("s1"));
    FakeTunnelSession working(executor, identity_of("s2"));
    failing.fail_opens(code(Error::session_closed));
    registry_.add("web", &failing);
    registry_.add("web", &working);
    std::optional<RequestHead> seen;
    asio::co_spawn(executor, answer_next(working, 200, "ok", seen), asio::detached);

    auto outcome = co_await forward("/");
    EXPECT_EQ(outcome.status, 200);
    EXPECT_EQ(outcome.body, "ok");
    EXPECT_EQ(failing.open_calls(), 1u);
    EXPECT_EQ(working.open_calls(), 1u);
    registry_.remove("web", &failing);
    registry_.remove("web", &working);
  }());
}

TEST_F(RequestForwarderTest, AResetBeforeTheResponseHeadIs502AgentReset) {
  run([this]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession session(executor, identity_of("s1"));
    registry_.add("web", &session);
    asio::co_spawn(
        executor,
        [](FakeTunnelSession& s) -> Task<void> {
          auto stream = co_await s.next_incoming(in(5s));
          if (stream) stream->reset(Error::cancelled);
        }(session),
        asio::detached);

    auto outcome = co_await forward("/");
    EXPECT_EQ(outcome.status, 502);
    EXPECT_EQ(outcome.reason, "agent-reset");
    registry_.remove("web", &session);
  }());
}

TEST_F(RequestForwarderTest, NoResponseHeadInTimeIs504AndResetsTheTunnelStream) {
  run([this]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession session(executor, identity_of("s1"));
    registry_.add("web", &session);
    std::unique_ptr<FakeIncomingStream> silent;  // the agent takes the stream and says nothing
    asio::co_spawn(
        executor,
        [](FakeTunnelSession& s, std::unique_ptr<FakeIncomingStream>& out) -> Task<void> {
          out = co_await s.next_incoming(in(5s));
        }(session, silent),
        asio::detached);

    const auto started = Clock::now();
    auto outcome = co_await forward("/slow", 100ms);
    EXPECT_EQ(outcome.status, 504);
    EXPECT_EQ(outcome.reason, "timeout");
    EXPECT_GE(Clock::now() - started, 100ms);
    CO_ASSERT_TRUE(silent != nullptr);
    EXPECT_EQ(error_of(silent->respond({200, {}}, true)), code(Error::stream_reset))
        << "the tunnel stream was reset";
    registry_.remove("web", &session);
  }());
}

TEST_F(RequestForwarderTest, ASessionEndingBeforeTheHeadIs502) {
  run([this]() -> Task<void> {
    auto executor = co_await asio::this_coro::executor;
    FakeTunnelSession session(executor, identity_of("s1"));
    registry_.add("web", &session);
    asio::co_spawn(
        executor,
        [](FakeTunnelSession& s) -> Task<void> {
          auto stream = co_await s.next_incoming(in(5s));
          s.close(Error::ping_timeout);
        }(session),
        asio::detached);

    auto outcome = co_await forward("/");
    EXPECT_EQ(outcome.status, 502);
    EXPECT_NE(outcome.reason.find("agent-session-ended"), std::string::npos) << outcome.reason;
    registry_.remove("web", &session);
  }());
}

}  // namespace
}  // namespace dialback::test

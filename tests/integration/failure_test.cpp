// A session that dies while a request is in flight: the public client gets
// a 502 naming the tunnel, promptly, never a hang.
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class FailureTest : public TransportMatrix {};

TEST_P(FailureTest, ConnectionToAgentResetMidRequestIs502) {
  if (GetParam() == AgentTransport::h3) {
    // UDP has no reset: a QUIC peer that vanishes is noticed at the idle
    // timeout (QuicEngine.SilenceEndsTheConnectionAtTheIdleTimeout), and
    // the public client then gets its 502 (the session-end cases below).
    GTEST_SKIP() << "no TCP connection to cut under h3";
  }
  start_edge();
  // The agent dials through a relay that the test can cut: to the edge this
  // is what a killed agent process or a dead network looks like (RST, no GOAWAY).
  auto& proxy = *proxies_.emplace_back(std::make_unique<TcpProxy>(executor_, agent_endpoint()));
  const auto relay = proxy.start();
  start_agent({.edge_port = relay.port()});
  ASSERT_TRUE(wait_ready(1));

  auto pending = spawn(fetch_get(public_endpoint(), "/slow?ms=4000"));
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() == 1; }));
  const auto killed_at = Clock::now();
  proxy.kill_all();
  if (GetParam() == AgentTransport::poll) {
    // A poll session is not a connection: the agent redials through the
    // relay and the request in flight completes.
    ASSERT_TRUE(run_until([&] { return pending->has_value(); }, 8s)) << "public client hangs";
    const HttpResult& result = **pending;
    ASSERT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.status(), 200);
    EXPECT_EQ(result.response.body(), "slow");
    EXPECT_EQ(edge_->counters().requests_failed, 0u);
    EXPECT_EQ(edge_->session_count(kTunnel), 1u);
    return;
  }

  ASSERT_TRUE(run_until([&] { return pending->has_value(); }, 3s)) << "public client hangs";
  const HttpResult& result = **pending;
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 502);
  EXPECT_LT(Clock::now() - killed_at, 1s);
  EXPECT_NE(result.response.body().find("tunnel to the agent failed"), std::string::npos)
      << result.response.body();
  EXPECT_EQ(edge_->counters().requests_failed, 1u);

  // The agent redials through the relay and serves again.
  ASSERT_TRUE(wait_ready(1, 4s));
  auto again = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(again.ec) << again.ec.message();
  EXPECT_EQ(again.status(), 200);
}

TEST_P(FailureTest, AgentStoppedWithoutGraceMidRequestIs502) {
  start_edge();
  auto& agent = start_agent();
  ASSERT_TRUE(wait_ready(1));

  auto pending = spawn(fetch_get(public_endpoint(), "/slow?ms=1500"));
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() == 1; }));
  // Drain deadline already passed: the agent cuts its in-flight stream and
  // closes; then it is destroyed, as an embedding program would do.
  destroy_agent(agent, 0s);

  ASSERT_TRUE(run_until([&] { return pending->has_value(); }, 3s)) << "public client hangs";
  const HttpResult& result = **pending;
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 502);
  EXPECT_LT(result.elapsed, 3000ms);
  EXPECT_EQ(edge_->counters().requests_failed, 1u);
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 0; }));
  // The local service answers the abandoned request later; nothing of the
  // destroyed agent may still be waiting for it.
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() == 0; }, 3s));
  ASSERT_TRUE(run_until([&] { return upstream_->open_connections() == 0; }, 3s));
}

INSTANTIATE_TEST_SUITE_P(Transports, FailureTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test

// Restarts and graceful stops.
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class LifecycleTest : public TransportMatrix {};

Task<bool> shut_down(edge::Edge* edge, Clock::time_point deadline) {
  co_await edge->shutdown(deadline);
  co_return true;
}

// True while something accepts TCP connections on 127.0.0.1:port.
bool accepts_connections(std::uint16_t port) {
  asio::io_context io;
  tcp::socket socket(io);
  error_code ec;
  socket.connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), ec);
  return !ec;
}

TEST_P(LifecycleTest, AgentReconnectsToRestartedEdgeOnTheSamePort) {
  start_edge();
  const auto port = agent_endpoint().port();
  const auto quic_port = edge_->agent_quic_endpoint().port();
  auto& agent = start_agent({.connections = 2});
  ASSERT_TRUE(wait_ready(2));
  auto first = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_EQ(first.status(), 200);

  stop_edge();
  EXPECT_TRUE(run_until([&] { return agent.connected_sessions() == 0; }, 2s));
  const auto restarted_at = Clock::now();
  start_edge({.agent_port = port, .quic_port = quic_port});
  ASSERT_EQ(agent_endpoint().port(), port);

  ASSERT_TRUE(wait_ready(2, 3s)) << "agent did not come back within 3 s";
  EXPECT_LT(Clock::now() - restarted_at, 3s);
  auto again = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(again.ec) << again.ec.message();
  EXPECT_EQ(again.status(), 200);
  EXPECT_EQ(again.response.body(), "hello");
}

// A rolling edge restart: the old edge drains (GOAWAY) while a new edge
// takes over its port. The agent opens a replacement session to the new
// edge at once, and the request in flight on the old session still finishes.
TEST_P(LifecycleTest, AgentReplacesSessionsOfADrainingEdge) {
  if (GetParam() == AgentTransport::h3) {
    // The draining edge still needs its UDP socket for the sessions it
    // drains, so a new edge cannot take over that port meanwhile (see
    // docs/protocol.md §10, "Draining").
    GTEST_SKIP() << "a QUIC port is not shared between two edge processes";
  }
  start_edge();
  const auto port = agent_endpoint().port();
  auto& agent = start_agent({.connections = 1});
  ASSERT_TRUE(wait_ready(1));

  auto pending = spawn(fetch_get(public_endpoint(), "/slow?ms=800"));
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() == 1; }));
  auto old_edge = std::move(edge_);
  auto drained = spawn(shut_down(old_edge.get(), Clock::now() + 5s));
  ASSERT_TRUE(run_until([&] { return !accepts_connections(port); }, 2s));

  const auto restarted_at = Clock::now();
  start_edge({.agent_port = port});
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 1; }, 3s))
      << "no replacement session on the new edge";
  EXPECT_LT(Clock::now() - restarted_at, 3s);
  EXPECT_FALSE(pending->has_value()) << "the slow request should still be in flight";

  ASSERT_TRUE(run_until([&] { return pending->has_value() && drained->has_value(); }, 5s));
  const HttpResult& result = **pending;
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body(), "slow");
  old_edge.reset();

  auto after = run(fetch_get(public_endpoint(), "/hello"));
  EXPECT_EQ(after.status(), 200);
  EXPECT_EQ(agent.connected_sessions(), 1u);
}

TEST_P(LifecycleTest, AgentShutdownLetsInFlightRequestFinish) {
  start_edge();
  auto& agent = start_agent();
  ASSERT_TRUE(wait_ready(1));

  auto pending = spawn(fetch_get(public_endpoint(), "/slow?ms=500"));
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() == 1; }));
  shutdown_agent(agent, 5s);  // returns once the session has drained and closed

  ASSERT_TRUE(pending->has_value()) << "shutdown finished before the in-flight request";
  const HttpResult& result = **pending;
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body(), "slow");
  EXPECT_EQ(agent.connected_sessions(), 0u);
  EXPECT_EQ(edge_->counters().requests_failed, 0u);
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 0; }));

  // With the agent gone the edge answers 503.
  auto after = run(fetch_get(public_endpoint(), "/hello"));
  EXPECT_EQ(after.status(), 503);
}

INSTANTIATE_TEST_SUITE_P(Transports, LifecycleTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test

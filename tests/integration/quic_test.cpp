// The QUIC transports beyond the transport matrix (which runs every
// scenario over `h3` too): `transport: auto` falling back to h2 when UDP
// is blocked and moving back to QUIC once it passes again, Reverst's
// registration (`transport: reverst`) by tunnel group, with its
// credentials and its refusals, and the edge's Retry.
#include "tunnel_fixture.hpp"

#include <algorithm>

#include "transport/quic/quic_engine.hpp"
#include "udp_gate.hpp"

namespace dialback::test {
namespace {

class QuicTest : public TunnelFixture {
 protected:
  // A gate in front of the edge's QUIC listener (after start_edge()).
  UdpGate& gate() {
    gate_ = std::make_unique<UdpGate>(executor_, edge_->agent_quic_endpoint());
    gate_port_ = gate_->start().port();
    return *gate_;
  }
  void TearDown() override {
    if (gate_) {
      gate_->stop();
      EXPECT_TRUE(run_until([&] { return gate_->idle(); }));
    }
    TunnelFixture::TearDown();
  }
  std::unique_ptr<UdpGate> gate_;
  std::uint16_t gate_port_ = 0;
};

// A UDP port nothing listens on: datagrams to it are refused (ICMP) or lost.
std::uint16_t closed_udp_port(asio::any_io_executor executor) {
  asio::ip::udp::socket socket(executor, {asio::ip::make_address("127.0.0.1"), 0});
  return socket.local_endpoint().port();
}

TEST_F(QuicTest, H3SessionServesRequests) {
  start_edge();
  start_agent({.transport = AgentTransport::h3});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(edge_->quic_stats().connections, 1u);
  const std::string body = pattern_bytes(300'000);
  auto echo =
      run(fetch(public_endpoint(), make_request(http::verb::post, "/echo", "app.test", body)));
  ASSERT_FALSE(echo.ec) << echo.ec.message();
  EXPECT_EQ(echo.status(), 200);
  EXPECT_TRUE(echo.response.body() == body);
}

TEST_F(QuicTest, AutoUsesQuicWhenItPasses) {
  start_edge();
  start_agent({.transport = AgentTransport::automatic});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(edge_->quic_stats().connections, 1u);
  auto hello = run(fetch_get(public_endpoint(), "/hello"));
  EXPECT_EQ(hello.status(), 200);
}

TEST_F(QuicTest, AutoFallsBackToH2WhenUdpIsBlocked) {
  start_edge();
  const auto started = Clock::now();
  start_agent({.transport = AgentTransport::automatic,
               .quic_port = closed_udp_port(executor_),
               .auto_transport = {.fallback_after = 500ms, .probe_interval = 1h}});
  ASSERT_TRUE(wait_ready(1));
  const auto took = Clock::now() - started;
  EXPECT_EQ(edge_->quic_stats().connections, 0u) << "the session runs over h2";
  EXPECT_GE(took, 500ms);
  EXPECT_LT(took, 3s) << "falls back after fallback_after, not after a long timeout";
  std::cout << "auto fell back to h2 after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  auto hello = run(fetch_get(public_endpoint(), "/hello"));
  EXPECT_EQ(hello.status(), 200);
}

TEST_F(QuicTest, AutoMovesBackToQuicOnceUdpPasses) {
  start_edge();
  UdpGate& udp = gate();  // closed: UDP blocked
  start_agent({.transport = AgentTransport::automatic,
               .quic_port = gate_port_,
               .auto_transport = {.fallback_after = 300ms, .probe_interval = 1s}});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(edge_->quic_stats().connections, 0u) << "UDP is blocked: the session runs over h2";
  ASSERT_TRUE(run_until([&] { return udp.dropped() > 0; })) << "QUIC was never tried";
  udp.set_open(true);
  // The next probe (within probe_interval) completes a handshake; the h2
  // session drains and the slot's replacement dials QUIC.
  ASSERT_TRUE(run_until(
      [&] { return edge_->quic_stats().connections == 1 && edge_->session_count(kTunnel) == 1; },
      8s));
  auto hello = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(hello.ec) << hello.ec.message();
  EXPECT_EQ(hello.status(), 200);
  EXPECT_EQ(edge_->quic_stats().connections, 1u) << "served over QUIC";
}

TEST_F(QuicTest, ReverstAgentRegistersByTunnelGroup) {
  start_edge({.configure = [](EdgeConfig& config) {
    config.tunnels[0].reverst_group = std::string(kTunnel);
  }});
  start_agent({.transport = AgentTransport::reverst});
  ASSERT_TRUE(wait_ready(1));
  auto hello = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(hello.ec) << hello.ec.message();
  EXPECT_EQ(hello.status(), 200);
  EXPECT_EQ(hello.response.body(), "hello");
}

TEST_F(QuicTest, ReverstAgentWithWrongTokenIsRefusedForGood) {
  start_edge();
  start_agent({.transport = AgentTransport::reverst, .token = "not-the-token"});
  ASSERT_TRUE(run_until([&] { return !fatal_log_.empty(); }));
  EXPECT_EQ(fatal_log_[0], "agent-0 401 unauthorized");
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
}

TEST_F(QuicTest, H3AgentWithWrongTokenGetsTheSameStatusAsOverH2) {
  start_edge();
  start_agent({.transport = AgentTransport::h3, .token = "not-the-token"});
  ASSERT_TRUE(run_until([&] { return !fatal_log_.empty(); }));
  EXPECT_EQ(fatal_log_[0], "agent-0 401 unauthorized");
}

TEST_F(QuicTest, RetryValidatesTheAgentsAddressFirst) {
  start_edge({.configure = [](EdgeConfig& config) { config.agents.quic->retry = true; }});
  start_agent({.transport = AgentTransport::h3});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_GE(edge_->quic_stats().retries_sent, 1u);
  auto hello = run(fetch_get(public_endpoint(), "/hello"));
  EXPECT_EQ(hello.status(), 200);
}

// Client Initials that never go further (as from forged addresses): the
// edge keeps at most agents.quic.max_connections of them, each until its
// handshake times out, and then serves real agents again.
TEST_F(QuicTest, InitialFloodIsBoundedByMaxConnections) {
  start_edge({.configure = [](EdgeConfig& config) {
    config.agents.quic->max_connections = 20;
    config.agents.quic->settings.handshake_timeout = 1s;
    config.agents.limits.handshakes_per_ip = {1000, 1000};
    config.agents.limits.handshakes = {1000, 1000};
  }});
  struct Silent : quic::QuicObserver {
    void on_handshake_completed() override {}
    void on_registration_data(std::string_view, bool) override {}
    void on_request(std::shared_ptr<quic::H3StreamState>) override {}
    void on_goaway() override {}
    void on_stream_closed() override {}
    void on_connection_id(const ngtcp2_cid&, bool) override {}
    void on_output_ready() override {}
  } silent;
  auto credentials = quic::QuicTlsCredentials::client_from_pem(pki_.ca.cert_pem, "", "",
                                                               std::string(quic::kAlpnDialbackH3));
  ASSERT_TRUE(credentials.has_value());
  asio::ip::udp::socket socket(executor_, {asio::ip::make_address("127.0.0.1"), 0});
  const asio::ip::udp::endpoint edge(asio::ip::make_address("127.0.0.1"),
                                     edge_->agent_quic_endpoint().port());
  std::vector<std::uint8_t> datagram(quic::QuicEngine::kMaxDatagram);
  for (int i = 0; i < 200; ++i) {
    auto engine =
        quic::QuicEngine::connect({}, silent, *(*credentials)->client_session("localhost"),
                                  {socket.local_endpoint(), edge}, Clock::now());
    ASSERT_TRUE(engine.has_value());
    quic::UdpPath path;
    const std::size_t n = (*engine)->write_datagram(datagram, path, Clock::now());
    ASSERT_GT(n, 0u);
    socket.send_to(asio::buffer(datagram.data(), n), edge);
  }
  std::size_t peak = 0;
  auto connections = [&] {
    peak = std::max(peak, edge_->quic_stats().connections);
    return edge_->quic_stats().connections;
  };
  ASSERT_TRUE(run_until([&] { return connections() == 20; }, 5s));
  ASSERT_TRUE(run_until([&] { return connections() == 0; }, 5s)) << "handshakes time out";
  EXPECT_EQ(peak, 20u);
  start_agent({.transport = AgentTransport::h3});
  ASSERT_TRUE(wait_ready(1));
}

}  // namespace
}  // namespace dialback::test

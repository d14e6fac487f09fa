// The rhttp transport (docs/protocol.md §5): ALPN h2, the agent writes the
// preface, the client certificate is the identity.
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class TransportTest : public TunnelFixture {};

TEST_F(TransportTest, RhttpAgentWithClientCertificateServesRoundTrip) {
  start_edge();
  start_agent({.transport = AgentTransport::rhttp, .token = "", .cert = ClientCert::trusted});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(edge_->counters().sessions_accepted, 1u);

  auto hello = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(hello.ec) << hello.ec.message();
  EXPECT_EQ(hello.status(), 200);
  EXPECT_EQ(hello.response.body(), "hello");

  const std::string body = pattern_bytes(200'000);
  auto echo = run(fetch(public_endpoint(), make_request(http::verb::post, "/echo", "app.test", body)));
  ASSERT_FALSE(echo.ec) << echo.ec.message();
  EXPECT_EQ(echo.status(), 200);
  EXPECT_EQ(echo.response.body(), body);
}

TEST_F(TransportTest, RhttpAgentWithUnlistedCertificateIsRefused) {
  start_edge();
  // A certificate from the edge's client CA whose name no tunnel lists.
  CertificateRequest other;
  other.name = "someone-else.test";
  other.kind = CertificateRequest::Kind::client;
  auto issued = issue_certificate(pki_.ca, other);
  ASSERT_TRUE(issued);
  pki_.client = *issued;  // start_agent presents pki_.client for ClientCert::trusted
  start_agent({.transport = AgentTransport::rhttp, .token = "", .cert = ClientCert::trusted});
  ASSERT_TRUE(run_until([&] { return edge_->counters().registrations_rejected >= 2; }));
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
  EXPECT_EQ(edge_->counters().sessions_accepted, 0u);
}

// Each dialer offers its own ALPN: an agent's edges may mix transports in
// any order and every session comes up.
TEST_F(TransportTest, AgentMixingTransportsBringsUpEverySession) {
  start_edge();
  start_agent({.transport = AgentTransport::h2,
               .more_edges = {AgentTransport::rhttp},
               .cert = ClientCert::trusted});
  start_agent({.transport = AgentTransport::rhttp,
               .more_edges = {AgentTransport::h2},
               .cert = ClientCert::trusted});
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 4; }));
  EXPECT_EQ(edge_->counters().registrations_rejected, 0u);
  for (int i = 0; i < 8; ++i) {
    auto hello = run(fetch_get(public_endpoint(), "/hello"));
    ASSERT_FALSE(hello.ec) << hello.ec.message();
    EXPECT_EQ(hello.status(), 200);
  }
}

}  // namespace
}  // namespace dialback::test

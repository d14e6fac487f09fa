// Who may register a session (docs/protocol.md §2, §5): tokens and client certificates.
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class AdmissionTest : public TunnelFixture {};

TEST_F(AdmissionTest, WrongTokenIsFatal401AndCounted) {
  start_edge();
  std::optional<RegistrationRejection> rejected;
  auto& agent = start_agent({.token = "not-the-token"});
  agent.on_fatal([&](const RegistrationRejection& rejection) { rejected = rejection; });

  ASSERT_TRUE(run_until([&] { return rejected.has_value(); }));
  EXPECT_EQ(rejected->status, 401);
  EXPECT_EQ(edge_->counters().registrations_rejected, 1u);
  EXPECT_EQ(edge_->counters().sessions_accepted, 0u);
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
  EXPECT_EQ(agent.connected_sessions(), 0u);
  EXPECT_TRUE(logs_->contains("registration for tunnel 'web' refused: 401"));
}

TEST_F(AdmissionTest, ClientCertificateFromUnknownCaNeverRegisters) {
  start_edge();
  auto& agent = start_agent({.token = "", .cert = ClientCert::rogue});

  // The edge refuses the TLS handshake (the certificate does not chain to its
  // client CA); wait until it has done so twice, i.e. the agent retried.
  ASSERT_TRUE(run_until([&] { return edge_->counters().agent_handshakes_failed >= 2; }, 5s));
  // One log line per source per interval, not one per attempt.
  EXPECT_EQ(logs_->count("TLS handshake failed"), 1u);
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
  EXPECT_EQ(edge_->counters().sessions_accepted, 0u);
  EXPECT_EQ(agent.connected_sessions(), 0u);
  EXPECT_TRUE(fatal_log_.empty());
}

TEST_F(AdmissionTest, TrustedClientCertificateWithoutTokenRegisters) {
  start_edge();
  auto& agent = start_agent({.token = "", .cert = ClientCert::trusted});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(agent.connected_sessions(), 1u);
  EXPECT_EQ(edge_->counters().sessions_accepted, 1u);
  EXPECT_EQ(edge_->counters().registrations_rejected, 0u);

  auto result = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body(), "hello");
}

TEST_F(AdmissionTest, EdgeWithoutClientCaServesTokenAgents) {
  start_edge({.client_ca = false});
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  auto result = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
}

}  // namespace
}  // namespace dialback::test

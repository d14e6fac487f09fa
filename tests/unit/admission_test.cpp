// The registration decision every transport shares (edge/admission.hpp),
// from tables: one row per claim and edge state, the status it must get.
#include <gtest/gtest.h>

#include <map>

#include "edge/admission.hpp"

namespace dialback::edge {
namespace {

constexpr const char* kWebToken = "web-token-0123456789";
constexpr const char* kApiToken = "api-token-0123456789";

TunnelTable make_tunnels() {
  std::vector<TunnelConfig> tunnels(3);
  tunnels[0].name = "web";
  tunnels[0].hosts = {"web.example.test"};
  tunnels[0].auth.tokens = {kWebToken};
  tunnels[1].name = "api";
  tunnels[1].hosts = {"api.example.test"};
  tunnels[1].auth.tokens = {kApiToken};
  tunnels[2].name = "mtls";
  tunnels[2].hosts = {"mtls.example.test"};
  tunnels[2].auth.client_names = {"agent-1.example.test"};
  auto table = TunnelTable::build(tunnels);
  EXPECT_TRUE(table.has_value());
  return std::move(*table);
}

struct Row {
  const char* what;
  TunnelNamedBy named_by;
  const char* tunnel;
  std::optional<std::string> token;
  std::vector<std::string> cert_names;
  bool over_budget = false;
  bool draining = false;
  std::size_t live_sessions = 0;
  int status;  // 0: admitted
  const char* admitted_to = "";
};

AdmissionClaim claim_of(const Row& row) {
  AdmissionClaim claim;
  claim.named_by = row.named_by;
  claim.identity.tunnel = row.tunnel;
  claim.credentials.token = row.token;
  claim.credentials.cert_names = row.cert_names;
  return claim;
}

TEST(Admission, DecidesEveryStatusInOrder) {
  const TunnelTable tunnels = make_tunnels();
  const std::vector<Row> rows = {
      {"right token", TunnelNamedBy::name, "web", kWebToken, {}, false, false, 0, 0, "web"},
      {"no credential", TunnelNamedBy::name, "web", std::nullopt, {}, false, false, 0, 401},
      {"wrong token", TunnelNamedBy::name, "web", "nope-0123456789", {}, false, false, 0, 401},
      // No oracle: without a credential valid somewhere, an unknown tunnel is 401 too.
      {"unknown tunnel, bad token", TunnelNamedBy::name, "nope", "x", {}, false, false, 0, 401},
      {"unknown tunnel, valid token",
       TunnelNamedBy::name,
       "nope",
       kWebToken,
       {},
       false,
       false,
       0,
       404},
      {"other tunnel's token", TunnelNamedBy::name, "api", kWebToken, {}, false, false, 0, 403},
      {"certificate not allowed anywhere",
       TunnelNamedBy::name,
       "mtls",
       std::nullopt,
       {"stranger.example.test"},
       false,
       false,
       0,
       401},
      {"certificate of another tunnel",
       TunnelNamedBy::name,
       "web",
       std::nullopt,
       {"agent-1.example.test"},
       false,
       false,
       0,
       403},
      {"certificate by name",
       TunnelNamedBy::name,
       "mtls",
       std::nullopt,
       {"AGENT-1.example.test"},
       false,
       false,
       0,
       0,
       "mtls"},
      {"tunnel found by certificate",
       TunnelNamedBy::certificate,
       "",
       std::nullopt,
       {"agent-1.example.test"},
       false,
       false,
       0,
       0,
       "mtls"},
      {"no tunnel for certificate",
       TunnelNamedBy::certificate,
       "",
       std::nullopt,
       {"stranger.example.test"},
       false,
       false,
       0,
       401},
      // Over the failure budget: 429 whatever the credential.
      {"over failure budget", TunnelNamedBy::name, "web", kWebToken, {}, true, false, 0, 429},
      {"draining", TunnelNamedBy::name, "web", kWebToken, {}, false, true, 0, 503},
      // Draining and limits only after authentication: no hint to strangers.
      {"draining, no credential",
       TunnelNamedBy::name,
       "web",
       std::nullopt,
       {},
       false,
       true,
       0,
       401},
      {"session limit", TunnelNamedBy::name, "web", kWebToken, {}, false, false, 4, 429},
      {"below session limit", TunnelNamedBy::name, "web", kWebToken, {}, false, false, 3, 0, "web"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    AdmissionState state;
    state.over_failure_budget = row.over_budget;
    state.retry_after_seconds = 7;
    state.draining = row.draining;
    state.max_sessions_per_tunnel = 4;
    state.sessions = [&](std::string_view) { return row.live_sessions; };
    const auto decided = decide_admission(claim_of(row), tunnels, state);
    if (row.status == 0) {
      ASSERT_TRUE(decided.has_value()) << decided.error().status;
      EXPECT_EQ(tunnels[*decided].name, row.admitted_to);
    } else {
      ASSERT_FALSE(decided.has_value());
      EXPECT_EQ(decided.error().status, row.status);
    }
  }
}

TEST(Admission, TenantsOwnTheirTunnels) {
  std::vector<TunnelConfig> configs(2);
  configs[0].name = "web";
  configs[0].hosts = {"web.example.test"};
  configs[0].auth.tokens = {kWebToken};
  configs[1].name = "acme-web";
  configs[1].hosts = {"acme.example.test"};
  configs[1].auth.tokens = {kWebToken};
  configs[1].tenant = "acme";
  auto tunnels = TunnelTable::build(configs);
  ASSERT_TRUE(tunnels.has_value());
  const struct {
    const char* tunnel;
    const char* tenant;
    int status;  // 0: admitted
  } rows[] = {
      {"web", "default", 0},        {"web", "acme", 403}, {"acme-web", "acme", 0},
      {"acme-web", "default", 403}, {"acme-web", "", 0},  // rhttp: no tenant stated, the tunnel's
                                                          // applies
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(std::string(row.tunnel) + " as tenant '" + row.tenant + "'");
    AdmissionClaim claim;
    claim.identity.tunnel = row.tunnel;
    claim.identity.tenant = row.tenant;
    claim.credentials.token = kWebToken;
    const auto decided = decide_admission(claim, *tunnels, AdmissionState{});
    EXPECT_EQ(decided ? 0 : decided.error().status, row.status);
  }
}

TEST(Admission, MalformedClaimKeepsItsStatusUnlessOverBudget) {
  const TunnelTable tunnels = make_tunnels();
  const ParsedClaim malformed = tl::unexpected(RegistrationRejection::bad_request("bad label"));
  AdmissionState state;
  auto decided = decide_admission(malformed, tunnels, state);
  ASSERT_FALSE(decided.has_value());
  EXPECT_EQ(decided.error().status, 400);
  EXPECT_TRUE(counts_as_failure(decided.error()));

  state.over_failure_budget = true;
  state.retry_after_seconds = 9;
  decided = decide_admission(malformed, tunnels, state);
  ASSERT_FALSE(decided.has_value());
  EXPECT_EQ(decided.error().status, 429);
  EXPECT_EQ(decided.error().retry_after_seconds, 9);
}

TEST(Admission, RetryAfterOnEveryRetryableRefusal) {
  const TunnelTable tunnels = make_tunnels();
  AdmissionClaim claim;
  claim.identity.tunnel = "web";
  claim.credentials.token = kWebToken;
  AdmissionState state;
  state.draining = true;
  auto decided = decide_admission(claim, tunnels, state);
  ASSERT_FALSE(decided.has_value());
  EXPECT_TRUE(decided.error().retry_after_seconds.has_value());
  EXPECT_FALSE(counts_as_failure(decided.error()));

  state.draining = false;
  state.max_sessions_per_tunnel = 1;
  state.sessions = [](std::string_view tunnel) { return tunnel == "web" ? 1u : 0u; };
  decided = decide_admission(claim, tunnels, state);
  ASSERT_FALSE(decided.has_value());
  EXPECT_EQ(decided.error().status, 429);
  EXPECT_TRUE(decided.error().retry_after_seconds.has_value());
  EXPECT_FALSE(counts_as_failure(decided.error()));
}

}  // namespace
}  // namespace dialback::edge

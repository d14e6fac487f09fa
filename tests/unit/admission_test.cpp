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
      EXPECT_EQ(tunnels[decided->tunnel].name, row.admitted_to);
    } else {
      ASSERT_FALSE(decided.has_value());
      EXPECT_EQ(decided.error().status, row.status);
    }
  }
}

// A table with every kind of local credential and one tunnel that asks an
// external endpoint.
TunnelTable make_credential_tunnels() {
  std::vector<TunnelConfig> tunnels(3);
  tunnels[0].name = "web";
  tunnels[0].hosts = {"web.example.test"};
  tunnels[0].auth.basic = {{"agent", "right-password"}};
  tunnels[0].auth.token_files = {{"/etc/dialback/web.tokens", {"file-token-0123456789"}}};
  tunnels[1].name = "ext";
  tunnels[1].hosts = {"ext.example.test"};
  tunnels[1].auth.tokens = {kApiToken};
  tunnels[1].auth.external = ExternalAuthConfig{};
  tunnels[1].auth.external->url = *parse_external_auth_url("http://127.0.0.1:9/check");
  tunnels[2].name = "mtls";
  tunnels[2].hosts = {"mtls.example.test"};
  tunnels[2].auth.client_names = {"agent-1.example.test"};
  auto table = TunnelTable::build(tunnels);
  EXPECT_TRUE(table.has_value()) << (table ? "" : table.error());
  return std::move(*table);
}

struct StepRow {
  const char* what;
  const char* tunnel;
  const char* authorization;  // "" for none
  std::vector<std::string> cert_names;
  // Step 1: "accepted:<tunnel>", "ask:<tunnel>" or "reject:<status>".
  const char* step;
  ExternalVerdict external = ExternalVerdict::unavailable;
  int status = 0;  // of the whole decision; 0: admitted
  bool draining = false;
};

std::string describe(const CredentialStep& step, const TunnelTable& tunnels) {
  if (const auto* accepted = std::get_if<Admitted>(&step)) {
    return "accepted:" + tunnels[accepted->tunnel].name;
  }
  if (const auto* ask = std::get_if<AskExternal>(&step)) return "ask:" + tunnels[ask->tunnel].name;
  return "reject:" + std::to_string(std::get<RegistrationRejection>(step).status);
}

TEST(Admission, CredentialStepThenExternalAnswer) {
  const TunnelTable tunnels = make_credential_tunnels();
  // base64 of agent:right-password, agent:wrong-password, x:file-token-0123456789
  constexpr const char* kRightBasic = "Basic YWdlbnQ6cmlnaHQtcGFzc3dvcmQ=";
  constexpr const char* kWrongBasic = "Basic YWdlbnQ6d3JvbmctcGFzc3dvcmQ=";
  constexpr const char* kFileTokenAsPassword = "Basic eDpmaWxlLXRva2VuLTAxMjM0NTY3ODk=";
  const std::string api = std::string("Bearer ") + kApiToken;
  const std::vector<StepRow> rows = {
      {"basic pair", "web", kRightBasic, {}, "accepted:web"},
      {"wrong password", "web", kWrongBasic, {}, "reject:401", {}, 401},
      {"token from a token file", "web", "Bearer file-token-0123456789", {}, "accepted:web"},
      {"token file entry as Basic password", "web", kFileTokenAsPassword, {}, "accepted:web"},
      {"no credential", "web", "", {}, "reject:401", {}, 401},
      {"local token of the external tunnel", "ext", api.c_str(), {}, "accepted:ext"},
      // Unknown to every local list: the endpoint decides, for its tunnel only.
      {"unknown token, external allows", "ext", "Bearer other", {}, "ask:ext",
       ExternalVerdict::allowed, 0},
      {"unknown token, external 401", "ext", "Bearer other", {}, "ask:ext",
       ExternalVerdict::unauthorized, 401},
      {"unknown token, external 403", "ext", "Bearer other", {}, "ask:ext",
       ExternalVerdict::forbidden, 403},
      {"unknown token, external unavailable", "ext", "Bearer other", {}, "ask:ext",
       ExternalVerdict::unavailable, 503},
      {"no credential at all, external allows", "ext", "", {}, "ask:ext", ExternalVerdict::allowed,
       0},
      {"another tunnel's credential goes to the endpoint too", "ext", kRightBasic, {}, "ask:ext",
       ExternalVerdict::forbidden, 403},
      {"unknown certificate goes to the endpoint", "ext", "", {"stranger"}, "ask:ext",
       ExternalVerdict::forbidden, 403},
      // The no-oracle rule is kept for tunnels without an endpoint.
      {"unknown tunnel, unknown token", "nope", "Bearer other", {}, "reject:401", {}, 401},
      {"unknown tunnel, basic pair valid elsewhere", "nope", kRightBasic, {}, "reject:404", {},
       404},
      {"basic pair of another tunnel", "mtls", kRightBasic, {}, "reject:403", {}, 403},
      // Draining and the limits only after the endpoint allowed.
      {"external allows while draining", "ext", "Bearer other", {}, "ask:ext",
       ExternalVerdict::allowed, 503, true},
      {"external refuses while draining", "ext", "Bearer other", {}, "ask:ext",
       ExternalVerdict::unauthorized, 401, true},
  };
  for (const StepRow& row : rows) {
    SCOPED_TRACE(row.what);
    AdmissionClaim claim;
    claim.identity.tunnel = row.tunnel;
    claim.credentials = credentials_from(row.authorization, row.cert_names);
    AdmissionState state;
    state.draining = row.draining;
    state.max_sessions_per_tunnel = 4;
    state.sessions = [](std::string_view) { return std::size_t{0}; };
    EXPECT_EQ(describe(check_credentials(claim, tunnels, state), tunnels), row.step);
    const auto decided = decide_admission(claim, tunnels, state, row.external);
    EXPECT_EQ(decided ? 0 : decided.error().status, row.status);
    if (!decided && row.status == 503 && !row.draining) {
      EXPECT_EQ(decided.error().retry_after_seconds, kExternalAuthRetryAfterSeconds);
      EXPECT_FALSE(counts_as_failure(decided.error()));  // the endpoint's outage, not the agent's
    }
  }
}

TEST(Admission, OverBudgetNeverAsksTheEndpoint) {
  const TunnelTable tunnels = make_credential_tunnels();
  AdmissionClaim claim;
  claim.identity.tunnel = "ext";
  claim.credentials = credentials_from("Bearer other", {});
  AdmissionState state;
  state.over_failure_budget = true;
  EXPECT_EQ(describe(check_credentials(claim, tunnels, state), tunnels), "reject:429");
}

TEST(Admission, TenantIsCheckedAfterTheEndpointAllows) {
  const TunnelTable tunnels = make_credential_tunnels();
  AdmissionClaim claim;
  claim.identity.tunnel = "ext";
  claim.identity.tenant = "acme";
  const auto decided = finish_admission(claim, Admitted{*tunnels.find("ext")},
                                        ExternalVerdict::allowed, tunnels, {});
  ASSERT_FALSE(decided.has_value());
  EXPECT_EQ(decided.error().status, 403);
}

TEST(Admission, ExternalQueryCarriesIdentityNotTheCertificateGarbage) {
  const TunnelTable tunnels = make_credential_tunnels();
  AdmissionClaim claim;
  claim.named_by = TunnelNamedBy::envoy_cluster;
  claim.identity.node = "node-1";
  claim.identity.cluster = "ext";
  claim.identity.tenant = "default";
  claim.credentials = credentials_from("Bearer other", {"agent-1.example.test", "bad, name", ""});
  const auto query = make_external_auth_query(claim, tunnels[*tunnels.find("ext")], "envoy");
  EXPECT_EQ(query.url, "http://127.0.0.1:9/check");
  EXPECT_EQ(query.authorization, "Bearer other");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Dialback-Tunnel", "ext"},        {"Dialback-Node", "node-1"},
      {"Dialback-Cluster", "ext"},       {"Dialback-Tenant", "default"},
      {"Dialback-Transport", "envoy"},   {"Dialback-Client-Cert-Names", "agent-1.example.test"},
  };
  EXPECT_EQ(query.headers, expected);
  // No client certificate: no such header; empty identity values are left out.
  AdmissionClaim bare;
  const auto plain = make_external_auth_query(bare, tunnels[*tunnels.find("ext")], "h2");
  const std::vector<std::pair<std::string, std::string>> minimal = {
      {"Dialback-Tunnel", "ext"}, {"Dialback-Transport", "h2"}};
  EXPECT_EQ(plain.headers, minimal);
  EXPECT_TRUE(plain.authorization.empty());
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

// allocate.tokens admit an agent to the tunnel's leases only, and only
// when it asks for one; a full credential of the tunnel stays full.
TEST(Admission, AllocationTokensAdmitToLeasesOnly) {
  constexpr const char* kDevToken = "dev-token-0123456789";
  std::vector<TunnelConfig> configs(2);
  configs[0].name = "dev";
  configs[0].hosts = {"shared.dev.example.test"};
  configs[0].auth.tokens = {kWebToken};
  configs[0].allocate = AllocateConfig{};
  configs[0].allocate->first_port = configs[0].allocate->last_port = 9000;
  configs[0].allocate->tokens = {kDevToken};
  configs[1].name = "api";
  configs[1].hosts = {"api.example.test"};
  configs[1].auth.tokens = {kApiToken};
  const auto tunnels = TunnelTable::build(configs);
  ASSERT_TRUE(tunnels.has_value()) << tunnels.error();

  AdmissionClaim asking;
  asking.identity.tunnel = "dev";
  asking.credentials.token = kDevToken;
  asking.allocation.port_kind = AllocationRequest::Kind::any;
  auto decided = decide_admission(asking, *tunnels, AdmissionState{});
  ASSERT_TRUE(decided.has_value()) << decided.error().message;
  EXPECT_EQ((*tunnels)[decided->tunnel].name, "dev");
  EXPECT_TRUE(decided->leases_only);

  AdmissionClaim not_asking = asking;
  not_asking.allocation = {};
  decided = decide_admission(not_asking, *tunnels, AdmissionState{});
  ASSERT_FALSE(decided.has_value());
  EXPECT_EQ(decided.error().status, 403);
  EXPECT_NE(decided.error().message.find("Dialback-Request-Port"), std::string::npos);

  AdmissionClaim full = asking;
  full.credentials.token = kWebToken;
  decided = decide_admission(full, *tunnels, AdmissionState{});
  ASSERT_TRUE(decided.has_value());
  EXPECT_FALSE(decided->leases_only);

  // A scoped token is a credential valid somewhere: 403 elsewhere, not 401.
  AdmissionClaim elsewhere = asking;
  elsewhere.identity.tunnel = "api";
  decided = decide_admission(elsewhere, *tunnels, AdmissionState{});
  ASSERT_FALSE(decided.has_value());
  EXPECT_EQ(decided.error().status, 403);
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

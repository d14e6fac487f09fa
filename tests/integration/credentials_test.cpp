// Credentials end to end (docs/configuration.md, "Tunnels"; docs/protocol.md
// §2.2): HTTP Basic pairs, token files and the external credential check,
// with a real edge and real agents over TLS. The external
// endpoint is a ScriptedService on 127.0.0.1 answering per test.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "auth/authorization_header.hpp"
#include "auth/token.hpp"
#include "config/token_list_file.hpp"
#include "scripted_service.hpp"
#include "tls/tls_context.hpp"
#include "transport/h2/registration_dialer.hpp"
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

using Conn = ScriptedService::Conn;

// Secrets: none of them, nor their base64 forms, may reach a log line.
constexpr std::string_view kUser = "agent-basic";
constexpr std::string_view kPassword = "right-password-SECRET-2";
constexpr std::string_view kWrongPassword = "wrong-password-SECRET-3";
constexpr std::string_view kWrongToken = "wrong-token-SECRET-1";
constexpr std::string_view kExternalToken = "external-token-SECRET-4";
constexpr std::string_view kFileToken = "file-token-SECRET-5";

// What the external endpoint answers; every request head it read.
struct EndpointState {
  int status = 200;
  bool hang = false;  // read the request, never answer
  std::vector<std::string> heads;
};

class CredentialsTest : public TunnelFixture {
 protected:
  void TearDown() override {
    if (endpoint_) endpoint_->stop();
    TunnelFixture::TearDown();
    if (endpoint_) {
      EXPECT_TRUE(endpoint_->idle()) << "an endpoint script outlived the service";
    }
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // The external endpoint: answers `endpoint_state_->status` (or hangs).
  std::string start_endpoint() {
    auto state = endpoint_state_;
    endpoint_ = std::make_unique<ScriptedService>(executor_, [state](Conn& conn) -> Task<void> {
      const bool got_head = co_await conn.read_head();
      if (!got_head) co_return;
      state->heads.push_back(conn.head());
      if (state->hang) {
        // Until the edge gives up and closes, or the service stops.
        while (co_await conn.read_some() > 0) {
        }
        co_return;
      }
      co_await conn.write("HTTP/1.1 " + std::to_string(state->status) +
                          " Answer\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      conn.close();
    });
    endpoint_->start();
    return endpoint_->url() + "/check";
  }

  // An edge whose tunnel `web` takes the Basic pair (password stored
  // hashed), the fixture's token and, when `external_url` is set, asks it.
  void start_credential_edge(std::string external_url = {}, std::chrono::milliseconds timeout = 2s,
                             std::chrono::milliseconds cache = 30s) {
    start_edge({.configure = [=](EdgeConfig& config) {
      TunnelAuthConfig& auth = config.tunnels[0].auth;
      auth.basic = {{std::string(kUser), hash_token(kPassword)}};
      if (!external_url.empty()) {
        auto url = parse_external_auth_url(external_url);
        if (!url) throw std::runtime_error(url.error());
        auth.external = ExternalAuthConfig{*url, timeout, cache};
      }
    }});
  }

  // Waits for agent `index`'s fatal refusal; its status, or 0 at the deadline.
  int wait_fatal_status(std::size_t index, Clock::duration timeout = 5s) {
    const std::string prefix = "agent-" + std::to_string(index) + " ";
    std::string found;
    run_until(
        [&] {
          for (const auto& entry : fatal_log_) {
            if (entry.starts_with(prefix)) found = entry.substr(prefix.size());
          }
          return !found.empty();
        },
        timeout);
    return found.empty() ? 0 : std::stoi(found);
  }

  // One h2 registration with `authorization`, outside any agent: its
  // outcome with the edge's Retry-After (an agent only logs it).
  DialOutcome dial_once(std::string authorization) {
    auto tls = make_client_context(ClientTlsPem{pki_.ca.cert_pem, {}, {}}, AlpnSet::none);
    if (!tls) throw std::runtime_error("client context: " + tls.error().message());
    EdgeTargetConfig edge;
    edge.host = "127.0.0.1";
    edge.port = agent_endpoint().port();
    edge.server_name = "localhost";
    DialRequest request;
    request.executor = executor_;
    request.tls = &*tls;
    request.identity.tunnel = std::string(kTunnel);
    request.identity.node = "direct-dial";
    request.identity.cluster = std::string(kTunnel);
    request.identity.tenant = "default";
    request.identity.session_id = generate_session_id();
    request.authorization = std::move(authorization);
    request.logger = logger("direct-dial");
    request.on_stream = [](std::unique_ptr<IncomingStream>) {};
    h2::RegistrationDialer dialer;
    DialOutcome outcome = run(dialer.dial(edge, std::move(request)), 10s);
    if (outcome.session) {
      outcome.session->close(Error::cancelled);
      run([](Session& session) -> Task<void> { co_await session.run(); }(*outcome.session));
    }
    return outcome;
  }

  std::filesystem::path write_file(const std::string& name, std::string_view content) {
    if (dir_.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "dialback-credentials-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
      dir_ = pattern;
    }
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  std::shared_ptr<EndpointState> endpoint_state_ = std::make_shared<EndpointState>();
  std::unique_ptr<ScriptedService> endpoint_;
  std::filesystem::path dir_;
};

bool has_header(const std::string& head, std::string_view line) {
  return head.find("\r\n" + std::string(line) + "\r\n") != std::string::npos;
}

// ---- HTTP Basic ------------------------------------------------------------

TEST_F(CredentialsTest, BasicPairRegistersOverH2AndEnvoyAndServes) {
  start_credential_edge();
  start_agent({.token = "", .user = std::string(kUser), .password = std::string(kPassword)});
  start_agent({.transport = AgentTransport::envoy,
               .token = "",
               .user = std::string(kUser),
               .password = std::string(kPassword)});
  ASSERT_TRUE(wait_ready(2));
  auto result = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body(), "hello");
  EXPECT_EQ(edge_->counters().registrations_rejected, 0u);
}

TEST_F(CredentialsTest, WrongBasicPasswordIsFatal401) {
  start_credential_edge();
  auto& agent = start_agent(
      {.token = "", .user = std::string(kUser), .password = std::string(kWrongPassword)});
  EXPECT_EQ(wait_fatal_status(0), 401);
  EXPECT_EQ(agent.connected_sessions(), 0u);
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
  EXPECT_TRUE(logs_->contains("registration for tunnel 'web' refused: 401"));
  // The agent reports it.
  EXPECT_TRUE(logs_->contains("refused tunnel 'web': 401 unauthorized"));
}

TEST_F(CredentialsTest, WrongUserWithTheRightPasswordIsRefused) {
  start_credential_edge();
  start_agent({.token = "", .user = "someone-else", .password = std::string(kPassword)});
  EXPECT_EQ(wait_fatal_status(0), 401);
}

// ---- token files -------------------------------------------------------------

TEST_F(CredentialsTest, TokenFileEntriesRegisterCommentedOnesDoNot) {
  const auto file = write_file(
      "web.tokens", "# agents of web\n\n" + std::string(kFileToken) + "\r\n# retired-token-0123\n");
  auto tokens = read_token_list_file(file.string());
  ASSERT_TRUE(tokens) << tokens.error();
  start_edge({.configure = [&](EdgeConfig& config) {
    config.tunnels[0].auth.tokens.clear();
    config.tunnels[0].auth.token_files = {{file.string(), *tokens}};
  }});
  start_agent({.token = std::string(kFileToken)});
  ASSERT_TRUE(wait_ready(1));
  auto result = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);

  start_agent({.token = "retired-token-0123"});
  EXPECT_EQ(wait_fatal_status(1), 401);
  start_agent({.token = std::string(kToken)});  // auth.tokens was cleared
  EXPECT_EQ(wait_fatal_status(2), 401);
}

// ---- the external check ------------------------------------------------------

TEST_F(CredentialsTest, ExternalAllowsAndReceivesTheIdentity) {
  const std::string url = start_endpoint();
  start_credential_edge(url);
  start_agent({.token = std::string(kExternalToken), .node = "node-ext", .tenant = "default"});
  ASSERT_TRUE(wait_ready(1));
  auto result = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);

  ASSERT_EQ(endpoint_state_->heads.size(), 1u);
  const std::string& head = endpoint_state_->heads[0];
  EXPECT_TRUE(head.starts_with("GET /check HTTP/1.1\r\n")) << head;
  EXPECT_TRUE(has_header(head, "Authorization: Bearer " + std::string(kExternalToken))) << head;
  EXPECT_TRUE(has_header(head, "Dialback-Tunnel: web")) << head;
  EXPECT_TRUE(has_header(head, "Dialback-Node: node-ext")) << head;
  EXPECT_TRUE(has_header(head, "Dialback-Cluster: web")) << head;
  EXPECT_TRUE(has_header(head, "Dialback-Tenant: default")) << head;
  EXPECT_TRUE(has_header(head, "Dialback-Transport: h2")) << head;
  EXPECT_EQ(head.find("Dialback-Client-Cert-Names"), std::string::npos) << head;
}

TEST_F(CredentialsTest, LocalCredentialsNeverAskTheEndpoint) {
  const std::string url = start_endpoint();
  start_credential_edge(url);
  start_agent();  // the fixture's token
  start_agent({.token = "", .user = std::string(kUser), .password = std::string(kPassword)});
  ASSERT_TRUE(wait_ready(2));
  EXPECT_EQ(endpoint_->heads_read(), 0u);
}

TEST_F(CredentialsTest, ExternalRefusalsKeepTheirStatus) {
  const std::string url = start_endpoint();
  start_credential_edge(url, 2s, 0ms);  // no cache: each agent asks
  endpoint_state_->status = 401;
  start_agent({.token = std::string(kExternalToken)});
  EXPECT_EQ(wait_fatal_status(0), 401);
  endpoint_state_->status = 403;
  start_agent({.token = std::string(kExternalToken)});
  EXPECT_EQ(wait_fatal_status(1), 403);
  EXPECT_EQ(endpoint_->heads_read(), 2u);
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
}

TEST_F(CredentialsTest, ExternalServerErrorIs503WithRetryAfterNeverAllowed) {
  const std::string url = start_endpoint();
  start_credential_edge(url);
  endpoint_state_->status = 500;
  const DialOutcome outcome = dial_once(bearer_authorization(kExternalToken));
  EXPECT_EQ(outcome.session, nullptr);
  ASSERT_TRUE(outcome.rejection.has_value());
  EXPECT_EQ(outcome.rejection->status, 503);
  EXPECT_EQ(outcome.rejection->retry_after_seconds, 5);
  EXPECT_TRUE(logs_->contains("refused: 503 auth_unavailable")) << "the edge logs the reason";
  EXPECT_TRUE(logs_->contains("answered 500"));

  // An agent retries (503 is not fatal) and never gets a session.
  auto& agent = start_agent({.token = std::string(kExternalToken)});
  ASSERT_TRUE(run_until([&] { return logs_->contains("refused the session for now: 503"); }));
  EXPECT_EQ(agent.connected_sessions(), 0u);
  EXPECT_TRUE(fatal_log_.empty());
  // Not cached: the endpoint was asked again.
  EXPECT_EQ(endpoint_->heads_read(), 2u);
}

TEST_F(CredentialsTest, ExternalTimeoutIs503) {
  const std::string url = start_endpoint();
  endpoint_state_->hang = true;
  start_credential_edge(url, 300ms);
  const auto started = Clock::now();
  const DialOutcome outcome = dial_once(bearer_authorization(kExternalToken));
  const auto took = Clock::now() - started;
  ASSERT_TRUE(outcome.rejection.has_value());
  EXPECT_EQ(outcome.rejection->status, 503);
  EXPECT_EQ(outcome.rejection->retry_after_seconds, 5);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 3s) << "the timeout bounds the whole check";
  EXPECT_TRUE(logs_->contains("timed out after 300ms"));
  EXPECT_EQ(endpoint_->heads_read(), 1u);
}

TEST_F(CredentialsTest, ExternalUnreachableIs503) {
  // A port nobody listens on: bind one, note it, close it.
  tcp::acceptor probe(executor_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = probe.local_endpoint().port();
  probe.close();
  start_credential_edge("http://127.0.0.1:" + std::to_string(port) + "/check");
  const DialOutcome outcome = dial_once(bearer_authorization(kExternalToken));
  ASSERT_TRUE(outcome.rejection.has_value());
  EXPECT_EQ(outcome.rejection->status, 503);
  EXPECT_TRUE(logs_->contains("connect: "));
}

TEST_F(CredentialsTest, ExternalAnswersAreCachedPerCredentialAndIdentity) {
  const std::string url = start_endpoint();
  start_credential_edge(url, 2s, 30s);
  start_agent({.token = std::string(kExternalToken), .node = "same-node"});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(endpoint_->heads_read(), 1u);
  // Same credential and identity: answered from the cache.
  start_agent({.token = std::string(kExternalToken), .node = "same-node"});
  ASSERT_TRUE(wait_ready(2));
  EXPECT_EQ(endpoint_->heads_read(), 1u);
  // Another node is another question.
  start_agent({.token = std::string(kExternalToken), .node = "other-node"});
  ASSERT_TRUE(wait_ready(3));
  EXPECT_EQ(endpoint_->heads_read(), 2u);

  // A refusal is cached too.
  endpoint_state_->status = 401;
  start_agent({.token = "refused-token-0123", .node = "same-node"});
  EXPECT_EQ(wait_fatal_status(3), 401);
  start_agent({.token = "refused-token-0123", .node = "same-node"});
  EXPECT_EQ(wait_fatal_status(4), 401);
  EXPECT_EQ(endpoint_->heads_read(), 3u);
}

// ---- no secret in any log line -------------------------------------------------

TEST_F(CredentialsTest, NoCredentialReachesTheLog) {
  const std::string url = start_endpoint();
  start_credential_edge(url, 2s, 0ms);
  // Wrong token: the endpoint refuses it.
  endpoint_state_->status = 401;
  start_agent({.token = std::string(kWrongToken)});
  ASSERT_EQ(wait_fatal_status(0), 401);
  // Wrong Basic password: the endpoint refuses it too.
  start_agent({.token = "", .user = std::string(kUser), .password = std::string(kWrongPassword)});
  ASSERT_EQ(wait_fatal_status(1), 401);
  // Right Basic password: local, no question asked. (wait_ready() would
  // wait for the refused agents too.)
  start_agent({.token = "", .user = std::string(kUser), .password = std::string(kPassword)});
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 1; }));
  // Through the endpoint: allowed, then unavailable.
  endpoint_state_->status = 200;
  start_agent({.token = std::string(kExternalToken)});
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 2; }));
  endpoint_state_->status = 500;
  const DialOutcome outcome = dial_once(basic_authorization(kUser, kWrongPassword));
  ASSERT_TRUE(outcome.rejection.has_value());
  EXPECT_EQ(outcome.rejection->status, 503);

  // The secrets really travelled (to the endpoint, which is allowed to see them).
  std::string seen;
  for (const auto& head : endpoint_state_->heads) seen += head;
  ASSERT_NE(seen.find(std::string(kWrongToken)), std::string::npos);
  ASSERT_NE(seen.find(std::string(kExternalToken)), std::string::npos);

  std::vector<std::string> secrets = {std::string(kPassword), std::string(kWrongPassword),
                                      std::string(kWrongToken), std::string(kExternalToken)};
  for (const auto password : {kPassword, kWrongPassword}) {
    secrets.push_back(basic_authorization(kUser, password).substr(6));  // base64 of user:pass
  }
  const auto lines = logs_->lines();
  ASSERT_FALSE(lines.empty());
  for (const auto& line : lines) {
    for (const auto& secret : secrets) {
      EXPECT_EQ(line.find(secret), std::string::npos) << "secret in log line: " << line;
    }
  }
}

}  // namespace
}  // namespace dialback::test

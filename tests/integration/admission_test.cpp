// Who may register a session (docs/protocol.md §2, §5): tokens and client
// certificates; and what the edge does with poll requests (§12) that name
// no session it knows or carry bytes that are not HTTP/2.
#include <nlohmann/json.hpp>

#include "tls/tls_context.hpp"
#include "tls/tls_stream.hpp"
#include "transport/poll/poll_wire.hpp"
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

// Poll requests written by hand, as a broken or hostile agent sends them:
// each on a TLS connection of its own to the agent listener.
class PollRequestsTest : public TunnelFixture {
 protected:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  Response send(Request request) {
    auto tls = make_client_context(ClientTlsPem{pki_.ca.cert_pem, {}, {}}, AlpnSet::none);
    if (!tls) throw std::runtime_error("client TLS: " + tls.error().message());
    return run(exchange(*tls, agent_endpoint(), std::move(request)));
  }

  static Request poll_request(http::verb method, std::string_view path, std::string_view session) {
    Request request{method, path, 11};
    request.set(http::field::host, "localhost");
    if (!session.empty()) request.set(poll::kHeaderSession, session);
    request.keep_alive(false);
    request.prepare_payload();
    return request;
  }

  // Registers tunnel web by hand and returns the session token.
  std::string register_by_hand() {
    Request request = poll_request(http::verb::post, poll::kRegisterPath, "");
    request.set(http::field::authorization, "Bearer " + std::string(kToken));
    request.set("Dialback-Tunnel", kTunnel);
    request.set("Dialback-Node", "by-hand");
    request.set("Dialback-Session", "0123456789abcdef0123456789abcdef");
    request.prepare_payload();
    const Response answer = send(std::move(request));
    EXPECT_EQ(answer.result_int(), 200) << answer.body();
    const auto json = nlohmann::json::parse(answer.body(), nullptr, false);
    return json.is_object() && json.contains("session") ? json["session"].get<std::string>() : "";
  }

 private:
  static Task<Response> exchange(asio::ssl::context& tls, tcp::endpoint edge, Request request) {
    TlsStream stream(co_await asio::this_coro::executor, tls);
    co_await stream.next_layer().async_connect(edge, asio::use_awaitable);
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_await http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    Response response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    co_return response;
  }
};

TEST_F(PollRequestsTest, UnknownSessionsAre404CountedAndSpareTheFailureBudget) {
  // Two failed registrations from 127.0.0.1 would put it over its budget.
  start_edge({.configure = [](EdgeConfig& config) {
    config.agents.limits.failures_per_ip = RateLimit{0.01, 2};
  }});
  for (int i = 0; i < 5; ++i) {
    const Response answer =
        send(poll_request(http::verb::get, poll::kNextPath, "dbt_no-such-session"));
    EXPECT_EQ(answer.result_int(), 404);
    EXPECT_NE(answer.body().find("unknown_session"), std::string::npos) << answer.body();
  }
  EXPECT_EQ(send(poll_request(http::verb::get, poll::kNextPath, "")).result_int(), 401);
  EXPECT_EQ(edge_->counters().agent_requests_refused, 6u);
  EXPECT_TRUE(
      logs_->contains("poll request refused: GET /.well-known/dialback/v1/poll/next "
                      "answered 404"));

  // A token is hopeless to guess, and an edge restart makes every token
  // unknown at once: none of that may lock a source out of registering.
  start_agent({.transport = AgentTransport::poll});
  ASSERT_TRUE(wait_ready(1));
  EXPECT_EQ(edge_->counters().registrations_rejected, 0u);
}

TEST_F(PollRequestsTest, BytesThatAreNotHttp2EndTheSessionAsAProtocolError) {
  start_edge();
  const std::string session = register_by_hand();
  ASSERT_FALSE(session.empty());
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 1; }));

  Request bad_number = poll_request(http::verb::post, poll::kSendPath, session);
  bad_number.set(poll::kHeaderSeq, "one");
  EXPECT_EQ(send(std::move(bad_number)).result_int(), 400);
  EXPECT_EQ(edge_->counters().agent_requests_refused, 1u);

  Request garbage = poll_request(http::verb::post, poll::kSendPath, session);
  garbage.set(poll::kHeaderSeq, "1");
  garbage.body() = "this is not an HTTP/2 SETTINGS frame, nor any other";
  garbage.prepare_payload();
  EXPECT_EQ(send(std::move(garbage)).result_int(), 204);  // the pipe took it; the session reads it

  ASSERT_TRUE(run_until([&] { return edge_->counters().sessions_protocol_errors == 1; }));
  EXPECT_EQ(edge_->counters().sessions_closed, 1u);
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
  EXPECT_EQ(send(poll_request(http::verb::get, poll::kNextPath, session)).result_int(), 404);
}

}  // namespace
}  // namespace dialback::test

// The agent's h2c upstream (issue 3): HTTP/2 with prior knowledge to the
// local service, per route (h2c: true) or for gRPC calls on any route.
// Public HTTP/2 client -> edge -> tunnel -> agent -> h2c service, with
// bodies and trailers both ways.
#include "h2_client.hpp"
#include "h2c_service.hpp"
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class H2cUpstreamTest : public TunnelFixture {
 protected:
  void TearDown() override {
    service_.stop();
    TunnelFixture::TearDown();
  }

  void start(bool h2c_route, std::string url = {}, std::string host_rewrite = {}) {
    service_.start();
    EdgeOptions edge;
    edge.public_https = true;
    start_edge(edge);
    auto parsed = parse_upstream_url(url.empty() ? service_.url() : url);
    ASSERT_TRUE(parsed);
    AgentOptions agent;
    agent.routes = {AgentRoute{"/", *parsed, h2c_route, std::move(host_rewrite)}};
    start_agent(agent);
    ASSERT_TRUE(wait_ready(1));
    client_ = run(H2Client::connect(executor_, public_tls_endpoint(), pki_.ca.cert_pem));
  }

  H2Result call(RequestHead head, std::string body = {}, HeaderList trailers = {}) {
    return run(client_->request(std::move(head), std::move(body), std::move(trailers)), 20s);
  }

  H2cService service_{executor_};
  std::unique_ptr<H2Client> client_;
};

TEST_F(H2cUpstreamTest, H2cRouteCarriesBodiesAndTrailersBothWays) {
  start(true);
  const std::string body = pattern_bytes(2u << 20);
  auto result = call(h2_request("POST", "/echo"), body, {{"x-request-trailer", "sent"}});
  ASSERT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.header("x-served-by"), "h2c");
  EXPECT_EQ(result.header("x-seen-authority"), "app.test");
  EXPECT_TRUE(result.body == body) << "body of " << result.body.size() << " bytes differs";
  EXPECT_EQ(find_header(result.trailers, "x-trailer").value_or(""), "done");
  EXPECT_EQ(find_header(result.trailers, "x-seen-trailer").value_or(""), "sent");
  run(client_->close());
}

TEST_F(H2cUpstreamTest, GrpcCallsUseH2cOnAnOrdinaryRoute) {
  start(false, {}, "grpc.internal");
  auto result = call(h2_request("POST", "/pkg.Service/Method", "app.test",
                                {{"content-type", "application/grpc"}}),
                     "frame");
  ASSERT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.header("x-served-by"), "h2c");
  EXPECT_EQ(result.header("x-seen-te"), "trailers");  // added for gRPC servers
  EXPECT_EQ(result.header("x-seen-authority"), "grpc.internal");
  EXPECT_EQ(result.body, "frame");
  EXPECT_EQ(find_header(result.trailers, "x-trailer").value_or(""), "done");
  run(client_->close());
}

TEST_F(H2cUpstreamTest, ServiceDownIsGrpcUnavailableForGrpcAnd502Otherwise) {
  start(true, "http://127.0.0.1:1");
  auto grpc = call(h2_request("POST", "/pkg.Service/Method", "app.test",
                              {{"content-type", "application/grpc+proto"}}),
                   "x");
  ASSERT_FALSE(grpc.error) << grpc.error.message();
  EXPECT_EQ(grpc.status, 200);
  EXPECT_EQ(grpc.header("grpc-status"), "14");
  EXPECT_NE(grpc.header("grpc-message").find("cannot reach"), std::string::npos);
  auto plain = call(h2_request("GET", "/"));
  EXPECT_EQ(plain.status, 502);
  EXPECT_NE(plain.body.find("h2c local service"), std::string::npos) << plain.body;
  run(client_->close());
}

TEST_F(H2cUpstreamTest, ServiceResetMidResponseResetsThePublicStream) {
  start(true);
  auto stream = client_->open(h2_request("POST", "/reset-after-head"), false);
  ASSERT_TRUE(stream);
  auto head = run((*stream)->read_response(Clock::now() + 5s));
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  std::string received;
  while (received.size() < 1000) {
    auto chunk = run((*stream)->read_body());
    ASSERT_TRUE(chunk && chunk->has_value());
    received += **chunk;
  }
  ASSERT_TRUE(run((*stream)->write_body("go")));  // the service resets on this
  const auto signalled = Clock::now();
  auto rest = run((*stream)->read_body());
  EXPECT_FALSE(rest) << "the public stream ended normally after the service reset";
  EXPECT_LT(Clock::now() - signalled, 1s);
  stream->reset();
  auto next = call(h2_request("POST", "/echo"), "again");
  EXPECT_EQ(next.body, "again");
  run(client_->close());
}

TEST_F(H2cUpstreamTest, EarlyHintsReachHttp2AndHttp11Clients) {
  start(true);
  auto h2 = call(h2_request("GET", "/early-hints"));
  ASSERT_FALSE(h2.error) << h2.error.message();
  EXPECT_EQ(h2.informational, std::vector<int>{103});
  EXPECT_EQ(h2.status, 200);

  PublicClient http1(executor_);
  ASSERT_FALSE(run(http1.connect(public_endpoint())));
  auto interim = run(http1.raw("GET /early-hints HTTP/1.1\r\nHost: app.test\r\n\r\n"));
  ASSERT_FALSE(interim.ec) << interim.ec.message();
  EXPECT_EQ(interim.status(), 103);
  EXPECT_EQ(interim.header("Link"), "</app.css>; rel=preload");
  auto final_response = run(http1.read_next());
  EXPECT_EQ(final_response.status(), 200);

  PublicClient http10(executor_);  // HTTP/1.0 clients never see a 1xx
  ASSERT_FALSE(run(http10.connect(public_endpoint())));
  auto direct = run(http10.raw("GET /early-hints HTTP/1.0\r\nHost: app.test\r\n\r\n"));
  EXPECT_EQ(direct.status(), 200);
  run(client_->close());
}

TEST_F(H2cUpstreamTest, Http11ChunkedTrailersTravelBothWays) {
  start(true);
  PublicClient http1(executor_);
  ASSERT_FALSE(run(http1.connect(public_endpoint())));
  auto result = run(http1.raw(
      "POST /echo HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n"
      "TE: trailers\r\n\r\n5\r\nhello\r\n0\r\nx-request-trailer: sent\r\n"
      "\r\n"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 200);
  EXPECT_EQ(result.response.body(), "hello");
  EXPECT_TRUE(result.response.chunked());
  // Beast merges the trailer section into the fields.
  EXPECT_EQ(result.header("x-trailer"), "done");
  EXPECT_EQ(result.header("x-seen-trailer"), "sent");
  run(client_->close());
}

}  // namespace
}  // namespace dialback::test

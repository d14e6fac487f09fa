// Public HTTP/2 (issue 3): h2c with prior knowledge on the plain listener,
// ALPN h2 on the HTTPS listener, and what a careful HTTP/2 front end
// rejects before anything reaches a tunnel. The client is nghttp2.
#include "h2_client.hpp"
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class PublicH2Test : public TunnelFixture {
 protected:
  void start(std::function<void(EdgeConfig&)> configure = {}) {
    EdgeOptions options;
    options.public_https = true;
    options.configure = std::move(configure);
    start_edge(options);
    start_agent();
    ASSERT_TRUE(wait_ready(1));
  }

  std::unique_ptr<H2Client> connect_h2c() {
    return run(H2Client::connect(executor_, public_endpoint()));
  }
  std::unique_ptr<H2Client> connect_tls() {
    return run(H2Client::connect(executor_, public_tls_endpoint(), pki_.ca.cert_pem));
  }
  H2Result request(H2Client& client, RequestHead head, std::string body = {},
                   HeaderList trailers = {}) {
    return run(client.request(std::move(head), std::move(body), std::move(trailers)), 20s);
  }
  void close(std::unique_ptr<H2Client>& client) { run(client->close()); }
};

TEST_F(PublicH2Test, PriorKnowledgeH2cOnThePlainListener) {
  start();
  auto client = connect_h2c();
  auto result = request(*client, h2_request("GET", "/hello"));
  ASSERT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "hello");
  EXPECT_EQ(result.header("x-upstream"), "primary");
  close(client);
}

TEST_F(PublicH2Test, AlpnH2OverTlsCarriesBodiesBothWays) {
  start();
  auto client = connect_tls();
  const std::string upload = pattern_bytes(1u << 20);
  auto hashed = request(*client, h2_request("POST", "/sha256"), upload);
  ASSERT_FALSE(hashed.error) << hashed.error.message();
  EXPECT_EQ(hashed.status, 200);
  EXPECT_EQ(hashed.body, sha256_hex(upload));

  auto download = request(*client, h2_request("GET", "/bytes?n=3000000"));
  ASSERT_FALSE(download.error) << download.error.message();
  EXPECT_EQ(download.body, pattern_bytes(3000000));

  auto headers = request(*client, h2_request("GET", "/headers"));
  EXPECT_NE(headers.body.find("x-forwarded-proto: https\n"), std::string::npos) << headers.body;
  EXPECT_NE(headers.body.find("host: app.test\n"), std::string::npos) << headers.body;
  EXPECT_NE(headers.body.find("traceparent: 00-"), std::string::npos) << headers.body;
  close(client);
}

TEST_F(PublicH2Test, ManyConcurrentStreamsOnOneConnection) {
  start();
  auto client = connect_tls();
  constexpr int kStreams = 40;
  std::vector<std::shared_ptr<std::optional<H2Result>>> results;
  for (int i = 0; i < kStreams; ++i) {
    results.push_back(spawn(client->request(
        h2_request("GET", "/bytes?n=" + std::to_string(50000 + i)))));
  }
  ASSERT_TRUE(run_until(
      [&] {
        return std::all_of(results.begin(), results.end(),
                           [](const auto& slot) { return slot->has_value(); });
      },
      20s));
  for (int i = 0; i < kStreams; ++i) {
    const H2Result& result = **results[i];
    ASSERT_FALSE(result.error) << i << ": " << result.error.message();
    EXPECT_EQ(result.status, 200);
    EXPECT_EQ(result.body, pattern_bytes(50000 + i)) << i;
  }
  close(client);
}

TEST_F(PublicH2Test, CookieCrumbsAreJoinedForTheLocalService) {
  start();
  auto client = connect_h2c();
  auto result = request(*client, h2_request("GET", "/headers", "app.test",
                                            {{"cookie", "a=1"}, {"cookie", "b=2"}}));
  EXPECT_NE(result.body.find("cookie: a=1; b=2\n"), std::string::npos) << result.body;
  close(client);
}

TEST_F(PublicH2Test, AuthorityDisagreeingWithHostIs400AndNeverForwarded) {
  start();
  auto client = connect_h2c();
  auto result =
      request(*client, h2_request("GET", "/hello", "app.test", {{"host", "other.test"}}));
  ASSERT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.status, 400);
  EXPECT_NE(result.body.find("disagrees with Host"), std::string::npos) << result.body;
  EXPECT_EQ(upstream_->requests_seen(), 0u);
  // The connection is still usable for the next request.
  auto ok = request(*client, h2_request("GET", "/hello"));
  EXPECT_EQ(ok.status, 200);
  close(client);
}

TEST_F(PublicH2Test, MalformedHeaderFieldsResetTheStreamAndNeverReachATunnel) {
  start();
  auto client = connect_h2c();
  // Upper-case names: nghttp2 lower-cases what it sends, so a raw client
  // checks those (tests/system/public_h2_test.sh).
  const HeaderList bad_fields[] = {
      {{"connection", "keep-alive"}},     // connection-specific
      {{"transfer-encoding", "chunked"}}, // connection-specific
      {{"x-bad", "a\r\nb"}},              // CR/LF in a value
      {{"x-nul", std::string("a\0b", 3)}},
      {{"te", "gzip"}},                   // TE other than "trailers"
  };
  for (const auto& fields : bad_fields) {
    auto result = request(*client, h2_request("GET", "/hello", "app.test", fields));
    EXPECT_TRUE(result.error) << fields.front().name << " got status " << result.status;
  }
  EXPECT_EQ(upstream_->requests_seen(), 0u);
  auto ok = request(*client, h2_request("GET", "/hello", "app.test", {{"te", "trailers"}}));
  EXPECT_EQ(ok.status, 200);
  close(client);
}

TEST_F(PublicH2Test, TooManyHeaderFieldsIs431) {
  start();
  auto client = connect_h2c();
  HeaderList fields;
  for (int i = 0; i < 150; ++i) fields.push_back({"x-field-" + std::to_string(i), "v"});
  auto result = request(*client, h2_request("GET", "/hello", "app.test", fields));
  ASSERT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.status, 431);
  EXPECT_EQ(upstream_->requests_seen(), 0u);
  close(client);
}

TEST_F(PublicH2Test, NoRouteIs404AndPlainConnectIs501) {
  start();
  auto client = connect_tls();
  auto missing = request(*client, h2_request("GET", "/", "nowhere.test"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no tunnel serves this host"), std::string::npos) << missing.body;
  EXPECT_EQ(missing.body.find("nowhere.test"), std::string::npos) << missing.body;
  RequestHead connect;
  connect.method = "CONNECT";
  connect.authority = "app.test:443";
  auto refused = request(*client, connect);
  EXPECT_EQ(refused.status, 501);
  close(client);
}

TEST_F(PublicH2Test, DeclaredBodyOverTheLimitIs413) {
  start([](EdgeConfig& config) { config.public_.max_body_bytes = 1000; });
  auto client = connect_h2c();
  auto declared = request(*client, h2_request("POST", "/echo", "app.test",
                                              {{"content-length", "2000"}}),
                          std::string(2000, 'x'));
  EXPECT_EQ(declared.status, 413);
  auto streamed = request(*client, h2_request("POST", "/echo"), std::string(5000, 'y'));
  EXPECT_EQ(streamed.status, 413);
  EXPECT_EQ(upstream_->requests_seen(), 0u);
  close(client);
}

TEST_F(PublicH2Test, HeadAnd204HaveNoBody) {
  start();
  auto client = connect_h2c();
  auto head = request(*client, h2_request("HEAD", "/bytes?n=1000"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "1000");
  EXPECT_TRUE(head.body.empty());
  auto empty = request(*client, h2_request("GET", "/status?code=204"));
  EXPECT_EQ(empty.status, 204);
  EXPECT_TRUE(empty.body.empty());
  close(client);
}

TEST_F(PublicH2Test, ExtendedConnectWebSocketRelaysBytesBothWays) {
  start();
  auto client = connect_tls();
  RequestHead head = h2_request("CONNECT", "/ws-raw");
  head.protocol = "websocket";
  head.headers = {{"sec-websocket-version", "13"}};
  auto stream = client->open(head, false);
  ASSERT_TRUE(stream) << stream.error().message();
  ASSERT_TRUE(run((*stream)->write_body("abc")));
  ASSERT_TRUE((*stream)->end_body({}));
  auto result = run(H2Client::read_all(**stream));
  ASSERT_FALSE(result.error) << result.error.message();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "greeting:abc:bye");
  close(client);
}

TEST_F(PublicH2Test, DeclinedExtendedConnectIsAPlainResponse) {
  start();
  auto client = connect_tls();
  RequestHead head = h2_request("CONNECT", "/ws-refuse");
  head.protocol = "websocket";
  auto stream = client->open(head, false);
  ASSERT_TRUE(stream);
  auto result = run(H2Client::read_all(**stream));
  EXPECT_EQ(result.status, 403);
  EXPECT_EQ(result.body, "websocket refused\n");
  close(client);
}

// A 2xx to an extended CONNECT means the tunnel is open: a service that
// ignores the upgrade and answers 200 must not look like that.
TEST_F(PublicH2Test, ExtendedConnectDeclinedWithA2xxIs502) {
  start();
  auto client = connect_tls();
  RequestHead head = h2_request("CONNECT", "/hello");
  head.protocol = "websocket";
  auto stream = client->open(head, false);
  ASSERT_TRUE(stream);
  auto result = run(H2Client::read_all(**stream));
  EXPECT_EQ(result.status, 502);
  for (const auto& field : result.headers) EXPECT_NE(field.name, "dialback-upgrade");
  close(client);
}

TEST_F(PublicH2Test, ClientResetCancelsTheTunnelStreamAtOnce) {
  start();
  auto client = connect_h2c();
  auto stream = client->open(h2_request("GET", "/slow?ms=8000"), true);
  ASSERT_TRUE(stream);
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() == 1; }));
  const auto reset_at = Clock::now();
  (*stream)->reset(Error::cancelled);
  // The edge's forwarder gives up on the tunnel stream without waiting for
  // the local service's answer (8 s away).
  ASSERT_TRUE(run_until([&] { return logs_->contains("\"GET app.test/slow?ms=8000\" 502"); },
                        3s));
  EXPECT_LT(Clock::now() - reset_at, 1s);
  close(client);
}

TEST_F(PublicH2Test, GoawayOnEdgeShutdownLetsStreamsFinish) {
  start();
  auto client = connect_h2c();
  auto slow = spawn(client->request(h2_request("GET", "/slow?ms=300")));
  ASSERT_TRUE(run_until([&] { return upstream_->in_flight() == 1; }));
  auto stopping = spawn([](edge::Edge& edge) -> Task<bool> {
    co_await edge.shutdown(Clock::now() + 5s);
    co_return true;
  }(*edge_));
  ASSERT_TRUE(run_until([&] { return slow->has_value(); }, 5s));
  EXPECT_EQ((*slow)->status, 200);
  EXPECT_EQ((*slow)->body, "slow");
  ASSERT_TRUE(run_until([&] { return stopping->has_value(); }, 5s));
  close(client);
  edge_.reset();
}

}  // namespace
}  // namespace dialback::test

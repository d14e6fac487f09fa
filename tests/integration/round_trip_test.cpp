// Round trips public client -> edge -> agent -> local service and back.
#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class RoundTripTest : public TransportMatrix {};

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// A request carrying a client's own forwarding headers.
http::request<http::string_body> spoofing_request() {
  return make_request(http::verb::get, "/headers", "app.test", {},
                      {{"X-Request-Id", "client-chosen-42"},
                       {"X-Forwarded-For", "203.0.113.7"},
                       {"X-Real-IP", "203.0.113.7"},
                       {"Forwarded", "for=203.0.113.7"},
                       {"X-Forwarded-Proto", "https"},
                       {"X-Forwarded-Host", "lb.example"},
                       {"Connection", "keep-alive, X-Secret"},
                       {"X-Secret", "hop-by-hop"}});
}

TEST_P(RoundTripTest, GetReachesUpstreamWithForwardingHeaders) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));

  auto hello = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(hello.ec) << hello.ec.message();
  EXPECT_EQ(hello.status(), 200);
  EXPECT_EQ(hello.response.body(), "hello");
  EXPECT_EQ(hello.header("X-Upstream"), "primary");

  auto headers = run(fetch_get(public_endpoint(), "/headers"));
  ASSERT_FALSE(headers.ec) << headers.ec.message();
  ASSERT_EQ(headers.status(), 200);
  const std::string& seen = headers.response.body();
  EXPECT_TRUE(has_line(seen, "host: app.test")) << seen;
  EXPECT_TRUE(has_line(seen, "x-forwarded-for: 127.0.0.1")) << seen;
  EXPECT_TRUE(has_line(seen, "x-forwarded-proto: http")) << seen;
  EXPECT_TRUE(has_line(seen, "x-forwarded-host: app.test")) << seen;
  EXPECT_TRUE(has_line(seen, "forwarded: for=127.0.0.1;host=\"app.test\";proto=http")) << seen;
  EXPECT_TRUE(has_line(seen, "user-agent: dialback-integration-test")) << seen;
  EXPECT_NE(seen.find("x-request-id: "), std::string::npos) << seen;
  EXPECT_EQ(seen.find("x-request-id: \n"), std::string::npos) << seen;

  // A valid client request id is kept; spoofed forwarding headers from an
  // untrusted client are replaced.
  auto custom = run(fetch(public_endpoint(), spoofing_request()));
  ASSERT_FALSE(custom.ec) << custom.ec.message();
  ASSERT_EQ(custom.status(), 200);
  const std::string& seen2 = custom.response.body();
  EXPECT_TRUE(has_line(seen2, "x-request-id: client-chosen-42")) << seen2;
  EXPECT_TRUE(has_line(seen2, "x-forwarded-for: 127.0.0.1")) << seen2;
  EXPECT_TRUE(has_line(seen2, "x-real-ip: 127.0.0.1")) << seen2;
  EXPECT_TRUE(has_line(seen2, "x-forwarded-proto: http")) << seen2;
  EXPECT_TRUE(has_line(seen2, "x-forwarded-host: app.test")) << seen2;
  EXPECT_TRUE(has_line(seen2, "forwarded: for=127.0.0.1;host=\"app.test\";proto=http")) << seen2;
  EXPECT_EQ(seen2.find("203.0.113.7"), std::string::npos) << seen2;
  EXPECT_EQ(seen2.find("x-secret"), std::string::npos) << seen2;
  EXPECT_EQ(upstream_->requests_seen(), 3u);
}

TEST_P(RoundTripTest, TrustedProxyForwardingHeadersAreExtended) {
  EdgeOptions options;
  options.configure = [](EdgeConfig& config) {
    config.public_.trusted_proxies = {*IpNetwork::parse("127.0.0.0/8")};
  };
  start_edge(options);
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  auto custom = run(fetch(public_endpoint(), spoofing_request()));
  ASSERT_FALSE(custom.ec) << custom.ec.message();
  ASSERT_EQ(custom.status(), 200);
  const std::string& seen = custom.response.body();
  EXPECT_TRUE(has_line(seen, "x-forwarded-for: 203.0.113.7, 127.0.0.1")) << seen;
  EXPECT_TRUE(has_line(seen, "x-real-ip: 203.0.113.7")) << seen;
  EXPECT_TRUE(has_line(seen, "x-forwarded-proto: https")) << seen;
  EXPECT_TRUE(has_line(seen, "x-forwarded-host: lb.example")) << seen;
  EXPECT_TRUE(
      has_line(seen, "forwarded: for=203.0.113.7, for=127.0.0.1;host=\"app.test\";proto=http"))
      << seen;
}

TEST_P(RoundTripTest, TrustedProxyMayRouteByForwardedHost) {
  EdgeOptions options;
  options.configure = [](EdgeConfig& config) {
    config.public_.trusted_proxies = {*IpNetwork::parse("127.0.0.1")};
    config.public_.route_by_forwarded_host = true;
  };
  start_edge(options);
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  // The load balancer's own name in Host; the client's in X-Forwarded-Host.
  auto request = make_request(http::verb::get, "/headers", "lb.internal", {},
                              {{"X-Forwarded-Host", "app.test"}});
  auto routed = run(fetch(public_endpoint(), std::move(request)));
  ASSERT_FALSE(routed.ec) << routed.ec.message();
  ASSERT_EQ(routed.status(), 200);
  EXPECT_TRUE(has_line(routed.response.body(), "host: app.test")) << routed.response.body();
}

TEST_P(RoundTripTest, HeadNoContentAndNotModifiedKeepTheConnectionUsable) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));

  PublicClient client(executor_);
  ASSERT_FALSE(run(client.connect(public_endpoint())));

  auto head = run(client.request(make_request(http::verb::head, "/bytes?n=100")));
  ASSERT_FALSE(head.ec) << head.ec.message();
  EXPECT_EQ(head.status(), 200);
  EXPECT_EQ(head.header("Content-Length"), "100");
  EXPECT_TRUE(head.response.body().empty());

  auto no_content = run(client.request(make_request(http::verb::get, "/status?code=204")));
  ASSERT_FALSE(no_content.ec) << no_content.ec.message();
  EXPECT_EQ(no_content.status(), 204);
  EXPECT_TRUE(no_content.response.body().empty());
  EXPECT_FALSE(no_content.response.chunked());

  auto not_modified = run(client.request(make_request(http::verb::get, "/status?code=304")));
  ASSERT_FALSE(not_modified.ec) << not_modified.ec.message();
  EXPECT_EQ(not_modified.status(), 304);
  EXPECT_EQ(not_modified.header("ETag"), "\"v1\"");
  EXPECT_TRUE(not_modified.response.body().empty());
  EXPECT_FALSE(not_modified.response.chunked());

  // The same connection still carries a normal exchange, byte-exact.
  auto after = run(client.request(make_request(http::verb::get, "/bytes?n=1000")));
  ASSERT_FALSE(after.ec) << after.ec.message();
  EXPECT_EQ(after.status(), 200);
  EXPECT_EQ(after.response.body(), pattern_bytes(1000));
  EXPECT_TRUE(client.server_kept_open());
  EXPECT_EQ(upstream_->requests_seen(), 4u);
  client.close();
}

INSTANTIATE_TEST_SUITE_P(Transports, RoundTripTest, AllTransports(), TransportName);

}  // namespace
}  // namespace dialback::test

// The edge's and the agent's own answers when a request cannot be served
// (docs/protocol.md §4: each error page says which hop failed).
#include <set>

#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

class ErrorPagesTest : public TunnelFixture {};

TEST_F(ErrorPagesTest, NoAgentConnectedIs503WithRetryAfter) {
  start_edge();
  auto result = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 503);
  EXPECT_FALSE(result.header("Retry-After").empty());
  const std::string& body = result.response.body();
  EXPECT_NE(body.find("no agent is connected"), std::string::npos) << body;
  // The hop and the request id, nothing about the tunnel or the host.
  EXPECT_EQ(body.find("tunnel '"), std::string::npos) << body;
  EXPECT_EQ(body.find("app.test"), std::string::npos) << body;
  EXPECT_NE(body.find("request id: " + result.header("X-Request-Id")), std::string::npos) << body;
  EXPECT_EQ(result.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(edge_->counters().requests_no_session, 1u);
  EXPECT_EQ(upstream_->requests_seen(), 0u);
}

TEST_F(ErrorPagesTest, UnknownHostIs404) {
  start_edge();
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  auto result = run(fetch_get(public_endpoint(), "/hello", "other.test"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 404);
  EXPECT_NE(result.response.body().find("no tunnel serves this host"), std::string::npos)
      << result.response.body();
  EXPECT_EQ(result.response.body().find("other.test"), std::string::npos) << result.response.body();
  EXPECT_EQ(result.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(edge_->counters().requests_no_route, 1u);
  EXPECT_EQ(upstream_->requests_seen(), 0u);

  // The known host on the same edge still works.
  auto ok = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(ok.ec) << ok.ec.message();
  EXPECT_EQ(ok.status(), 200);
}

TEST_F(ErrorPagesTest, VerboseErrorsNameHostAndTunnel) {
  EdgeOptions options;
  options.configure = [](EdgeConfig& config) { config.public_.verbose_errors = true; };
  start_edge(options);
  auto no_agent = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(no_agent.ec) << no_agent.ec.message();
  EXPECT_EQ(no_agent.status(), 503);
  EXPECT_NE(no_agent.response.body().find("tunnel 'web'"), std::string::npos)
      << no_agent.response.body();
  auto no_route = run(fetch_get(public_endpoint(), "/hello", "other.test"));
  ASSERT_FALSE(no_route.ec) << no_route.ec.message();
  EXPECT_EQ(no_route.status(), 404);
  EXPECT_NE(no_route.response.body().find("'other.test'"), std::string::npos)
      << no_route.response.body();
}

TEST_F(ErrorPagesTest, RequestIdsAreRandomAndUnique) {
  start_edge();
  std::set<std::string> ids;
  std::set<std::string> prefixes;
  for (int i = 0; i < 20; ++i) {
    auto result = run(fetch_get(public_endpoint(), "/hello"));
    ASSERT_FALSE(result.ec) << result.ec.message();
    const std::string id = result.header("X-Request-Id");
    ASSERT_EQ(id.size(), 32u) << id;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    ids.insert(id);
    prefixes.insert(id.substr(0, 8));
  }
  EXPECT_EQ(ids.size(), 20u);
  EXPECT_GT(prefixes.size(), 15u);  // no shared prefix with a counter behind it
}

TEST_F(ErrorPagesTest, RequestsPerAddressOverTheLimitAre429) {
  EdgeOptions options;
  options.configure = [](EdgeConfig& config) {
    config.public_.limits.requests_per_ip = RateLimit{0.01, 3};
  };
  start_edge(options);
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  for (int i = 0; i < 3; ++i) {
    auto ok = run(fetch_get(public_endpoint(), "/hello"));
    ASSERT_FALSE(ok.ec) << ok.ec.message();
    EXPECT_EQ(ok.status(), 200) << "request " << i << " is within the burst";
  }
  auto limited = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(limited.ec) << limited.ec.message();
  EXPECT_EQ(limited.status(), 429);
  EXPECT_FALSE(limited.header("Retry-After").empty());
  EXPECT_NE(limited.response.body().find("too many requests"), std::string::npos);
  EXPECT_EQ(upstream_->requests_seen(), 3u);
  EXPECT_EQ(edge_->counters().requests_rate_limited, 1u);
}

TEST_F(ErrorPagesTest, ConnectionsPerAddressOverTheCapAre429) {
  EdgeOptions options;
  options.configure = [](EdgeConfig& config) { config.public_.limits.connections_per_ip = 2; };
  start_edge(options);
  start_agent();
  ASSERT_TRUE(wait_ready(1));
  PublicClient first(executor_);
  PublicClient second(executor_);
  ASSERT_FALSE(run(first.connect(public_endpoint())));
  ASSERT_FALSE(run(second.connect(public_endpoint())));
  auto held = run(first.request(make_request(http::verb::get, "/hello")));
  ASSERT_EQ(held.status(), 200);
  auto held2 = run(second.request(make_request(http::verb::get, "/hello")));
  ASSERT_EQ(held2.status(), 200);

  PublicClient third(executor_);
  ASSERT_FALSE(run(third.connect(public_endpoint())));
  auto refused = run(third.read_next());
  ASSERT_FALSE(refused.ec) << refused.ec.message();
  EXPECT_EQ(refused.status(), 429);
  EXPECT_NE(refused.response.body().find("too many connections"), std::string::npos);

  // A slot is free again once a connection closes.
  first.close();
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    auto again = run(fetch_get(public_endpoint(), "/hello"));
    status = again.ec ? 0 : again.status();
  }
  EXPECT_EQ(status, 200);
}

TEST_F(ErrorPagesTest, UpstreamDownIs502NamingTheHopNotItsAddress) {
  // A port that is bound but not listening: connecting to it is refused.
  tcp::acceptor closed_port(executor_);
  closed_port.open(tcp::v4());
  closed_port.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = closed_port.local_endpoint().port();

  start_edge();
  start_agent({.upstream_url = "http://127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(wait_ready(1));
  auto result = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 502);
  // The public learns the hop; the address is in the agent's log, with the request id.
  EXPECT_EQ(result.response.body().find(std::to_string(port)), std::string::npos)
      << result.response.body();
  EXPECT_NE(result.response.body().find("local service"), std::string::npos)
      << result.response.body();
  EXPECT_TRUE(logs_->contains("cannot connect to local service 127.0.0.1:" + std::to_string(port)));
}

TEST_F(ErrorPagesTest, UpstreamSlowerThanResponseTimeoutIs504) {
  start_edge();
  start_agent({.upstream_response_timeout = 300ms});
  ASSERT_TRUE(wait_ready(1));
  auto result = run(fetch_get(public_endpoint(), "/slow?ms=3000"));
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 504);
  EXPECT_LT(result.elapsed, 2000ms);
  EXPECT_NE(result.response.body().find("did not answer"), std::string::npos)
      << result.response.body();
  EXPECT_EQ(result.response.body().find(upstream_->url().substr(7)), std::string::npos)
      << result.response.body();

  // The agent still serves the next request.
  auto ok = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(ok.ec) << ok.ec.message();
  EXPECT_EQ(ok.status(), 200);
}

}  // namespace
}  // namespace dialback::test

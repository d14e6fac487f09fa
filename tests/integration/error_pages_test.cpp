// The edge's and the agent's own answers when a request cannot be served
// (PROTOCOL.md §4: each error page says which hop failed).
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
  EXPECT_NE(result.response.body().find("has no connected agent"), std::string::npos)
      << result.response.body();
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
  EXPECT_NE(result.response.body().find("other.test"), std::string::npos) << result.response.body();
  EXPECT_EQ(edge_->counters().requests_no_route, 1u);
  EXPECT_EQ(upstream_->requests_seen(), 0u);

  // The known host on the same edge still works.
  auto ok = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(ok.ec) << ok.ec.message();
  EXPECT_EQ(ok.status(), 200);
}

TEST_F(ErrorPagesTest, UpstreamDownIs502NamingTheLocalService) {
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
  EXPECT_NE(result.response.body().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << result.response.body();
  EXPECT_NE(result.response.body().find("local service"), std::string::npos)
      << result.response.body();
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
  EXPECT_NE(result.response.body().find(upstream_->url().substr(7)), std::string::npos)
      << result.response.body();

  // The agent still serves the next request.
  auto ok = run(fetch_get(public_endpoint(), "/hello"));
  ASSERT_FALSE(ok.ec) << ok.ec.message();
  EXPECT_EQ(ok.status(), 200);
}

}  // namespace
}  // namespace dialback::test

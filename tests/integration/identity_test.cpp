// Identity (docs/protocol.md §4): tunnels belong to a tenant, and with a
// tunnel's identity_routing a public request may pin a node or a cluster.
#include <map>
#include <set>

#include "tunnel_fixture.hpp"

namespace dialback::test {
namespace {

// Answers every request with "<node> <what the request carried>".
agent::StreamHandler answer_as(std::string node) {
  return [node](std::unique_ptr<IncomingStream> stream) -> Task<void> {
    std::string body = node;
    for (const auto& field : stream->request().headers) {
      if (field.name.starts_with("dialback-") || field.name.starts_with("x-node")) {
        body += " " + field.name + "=" + field.value;
      }
    }
    ResponseHead head{200, {{"content-length", std::to_string(body.size())}}};
    if (!stream->respond(head, false)) co_return;
    if (!co_await stream->write_body(body)) co_return;
    stream->end_body();
  };
}

class IdentityTest : public TunnelFixture {
 protected:
  // Three agents: node-a and node-b in cluster blue, node-c in cluster green.
  void start_fleet(std::function<void(IdentityRoutingConfig&)> adjust = {}) {
    start_edge({.configure = [adjust](EdgeConfig& config) {
      IdentityRoutingConfig routing;
      if (adjust) adjust(routing);
      config.tunnels.at(0).identity_routing = routing;
    }});
    start_agent({.node = "node-a", .cluster = "blue"}, answer_as("node-a"));
    start_agent({.node = "node-b", .cluster = "blue"}, answer_as("node-b"));
    start_agent({.node = "node-c", .cluster = "green"}, answer_as("node-c"));
    ASSERT_TRUE(wait_ready(3));
  }

  HttpResult get(std::vector<std::pair<std::string, std::string>> headers) {
    auto request = make_request(http::verb::get, "/", std::string(kHost), "");
    for (const auto& [name, value] : headers) request.set(name, value);
    return run(fetch(public_endpoint(), std::move(request)));
  }
};

TEST_F(IdentityTest, NodeHeaderPinsTheNodeAndIsStripped) {
  start_fleet();
  for (int i = 0; i < 6; ++i) {
    auto result = get({{"Dialback-Node", "node-b"}});
    ASSERT_FALSE(result.ec) << result.ec.message();
    EXPECT_EQ(result.response.body(), "node-b");  // no routing header reached the agent
  }
}

TEST_F(IdentityTest, ClusterHeaderBalancesOverThatClusterOnly) {
  start_fleet();
  std::set<std::string> served;
  for (int i = 0; i < 12; ++i) {
    auto result = get({{"Dialback-Cluster", "blue"}});
    ASSERT_FALSE(result.ec) << result.ec.message();
    served.insert(result.response.body());
  }
  EXPECT_EQ(served, (std::set<std::string>{"node-a", "node-b"}));
  EXPECT_EQ(get({{"Dialback-Cluster", "green"}}).response.body(), "node-c");
}

TEST_F(IdentityTest, NodeHeaderWinsOverClusterHeader) {
  start_fleet();
  EXPECT_EQ(get({{"Dialback-Cluster", "blue"}, {"Dialback-Node", "node-c"}}).response.body(),
            "node-c");
}

TEST_F(IdentityTest, PinnedNodeWithoutSessionIs503NeverAnotherNode) {
  start_fleet();
  auto result = get({{"Dialback-Node", "node-z"}});
  ASSERT_FALSE(result.ec) << result.ec.message();
  EXPECT_EQ(result.status(), 503);
  EXPECT_EQ(get({{"Dialback-Cluster", "red"}}).status(), 503);
}

TEST_F(IdentityTest, EnvoyHeaderNamesAndNoStrip) {
  start_fleet([](IdentityRoutingConfig& routing) {
    routing.node_header = "x-node-id";
    routing.cluster_header = "x-cluster-id";
    routing.strip = false;
  });
  EXPECT_EQ(get({{"X-Node-Id", "node-a"}}).response.body(), "node-a x-node-id=node-a");
  // Dialback's default names mean nothing now.
  std::set<std::string> served;
  for (int i = 0; i < 9; ++i) served.insert(get({{"Dialback-Node", "node-a"}}).response.body());
  EXPECT_GT(served.size(), 1u);
}

TEST_F(IdentityTest, WithoutIdentityRoutingHeadersSteerNothing) {
  start_edge();
  start_agent({.node = "node-a"}, answer_as("node-a"));
  start_agent({.node = "node-b"}, answer_as("node-b"));
  ASSERT_TRUE(wait_ready(2));
  std::set<std::string> served;
  for (int i = 0; i < 8; ++i) {
    auto result = get({{"Dialback-Node", "node-a"}});
    ASSERT_EQ(result.status(), 200);
    served.insert(result.response.body().substr(0, 6));
  }
  EXPECT_EQ(served, (std::set<std::string>{"node-a", "node-b"}));
}

TEST_F(IdentityTest, AgentOfAnotherTenantIsRefused) {
  start_edge({.configure = [](EdgeConfig& config) { config.tunnels.at(0).tenant = "acme"; }});
  start_agent({.node = "intruder"});  // tenant "default"
  ASSERT_TRUE(run_until([&] { return !fatal_log_.empty(); }));
  EXPECT_EQ(fatal_log_.front(), "agent-0 403 forbidden");
  EXPECT_EQ(edge_->session_count(kTunnel), 0u);
  start_agent({.node = "member", .tenant = "acme"});
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 1; }));
}

// balance: hash keeps a key on one node while it lives; when a node
// leaves, only its keys move.
TEST_F(IdentityTest, HashBalanceKeepsKeysOnTheirNode) {
  start_edge({.configure = [](EdgeConfig& config) {
    config.tunnels.at(0).balance = BalancePolicy::hash;
    config.tunnels.at(0).hash_key = {HashKey::Source::header, "x-user"};
  }});
  auto& leaving = start_agent({.node = "node-a"}, answer_as("node-a"));
  start_agent({.node = "node-b"}, answer_as("node-b"));
  start_agent({.node = "node-c"}, answer_as("node-c"));
  ASSERT_TRUE(wait_ready(3));
  std::map<std::string, std::string> owner;
  for (int user = 0; user < 30; ++user) {
    const std::string key = "user-" + std::to_string(user);
    for (int repeat = 0; repeat < 3; ++repeat) {
      auto result = get({{"X-User", key}});
      ASSERT_EQ(result.status(), 200);
      if (repeat == 0) owner[key] = result.response.body();
      EXPECT_EQ(result.response.body(), owner[key]) << key;
    }
  }
  std::set<std::string> nodes;
  for (const auto& [key, node] : owner) nodes.insert(node);
  EXPECT_EQ(nodes.size(), 3u) << "30 keys should reach every node of 3";

  shutdown_agent(leaving);
  ASSERT_TRUE(run_until([&] { return edge_->session_count(kTunnel) == 2; }));
  for (const auto& [key, node] : owner) {
    const std::string now = get({{"X-User", key}}).response.body();
    if (node == "node-a") {
      EXPECT_NE(now, "node-a") << key;
    } else {
      EXPECT_EQ(now, node) << key << " moved although its node stayed";
    }
  }
}

}  // namespace
}  // namespace dialback::test

// Config value parsers, error formatting, files on disk and the examples.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "config/agent_config.hpp"
#include "config/byte_size.hpp"
#include "config/config_error.hpp"
#include "config/config_rules.hpp"
#include "config/duration.hpp"
#include "config/edge_config.hpp"
#include "config/listen_address.hpp"
#include "config/upstream_url.hpp"
#include "config_test_util.hpp"

namespace dialback {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesEveryUnit) {
  const std::pair<const char*, std::chrono::milliseconds> cases[] = {
      {"500ms", 500ms}, {"15s", 15s}, {"1m", 1min}, {"2h", 2h}, {"30", 30s}, {"0", 0ms}, {"0ms", 0ms},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = parse_duration(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error();
    EXPECT_EQ(*parsed, expected) << text;
  }
}

TEST(Duration, RejectsOtherForms) {
  for (const char* text : {"", "s", "-1s", "+1s", "1.5s", "1m30s", "15 s", "15S", "1d", "ms",
                           "99999999999999999999s", "9223372036854775807h"}) {
    EXPECT_FALSE(parse_duration(text)) << text;
  }
}

TEST(Duration, FormatsWithTheLargestExactUnit) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(2min), "2m");
  EXPECT_EQ(format_duration(3h), "3h");
}

TEST(ByteSize, ParsesEveryUnit) {
  const std::pair<const char*, std::uint64_t> cases[] = {
      {"0", 0},           {"65536", 65536},    {"100B", 100},
      {"64KiB", 65536},   {"10MiB", 10u << 20}, {"2GiB", std::uint64_t{2} << 30},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = parse_byte_size(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error();
    EXPECT_EQ(*parsed, expected) << text;
  }
}

TEST(ByteSize, RejectsOtherForms) {
  for (const char* text : {"", "KiB", "-1", "+1", "1.5MiB", "64 KiB", "64kib", "64KB", "64k", "1TiB",
                           "99999999999999999999", "17179869184GiB"}) {
    EXPECT_FALSE(parse_byte_size(text)) << text;
  }
}

TEST(ListenAddressParse, AcceptsTheDocumentedForms) {
  const std::pair<const char*, ListenAddress> cases[] = {
      {"0.0.0.0:8443", {"0.0.0.0", 8443}}, {"localhost:80", {"localhost", 80}}, {"[::1]:9000", {"::1", 9000}},
      {":8080", {"0.0.0.0", 8080}},        {"127.0.0.1:0", {"127.0.0.1", 0}},   {"[::]:65535", {"::", 65535}},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = parse_listen_address(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error();
    EXPECT_EQ(*parsed, expected) << text;
  }
}

TEST(ListenAddressParse, RejectsMalformed) {
  for (const char* text : {"", "localhost", "localhost:", "host:65536", "host:-1", "host:http", "::1:80",
                           "[::1]80", "[::1:80", "[]:80", "[host]:80", "a b:80", "host/x:80"}) {
    EXPECT_FALSE(parse_listen_address(text)) << text;
  }
}

TEST(ListenAddressParse, ConnectAddressNeedsHostAndPort) {
  EXPECT_TRUE(parse_connect_address("edge.test:443"));
  EXPECT_FALSE(parse_connect_address(":443"));
  EXPECT_FALSE(parse_connect_address("edge.test:0"));
}

TEST(ListenAddressParse, FormatsWithBracketsForIpv6) {
  EXPECT_EQ(to_string(ListenAddress{"::1", 80}), "[::1]:80");
  EXPECT_EQ(to_string(ListenAddress{"0.0.0.0", 0}), "0.0.0.0:0");
}

TEST(UpstreamUrlParse, SplitsHostPortAndBasePath) {
  EXPECT_EQ(*parse_upstream_url("http://127.0.0.1:3000"),
            (UpstreamUrl{"http://127.0.0.1:3000", "127.0.0.1", 3000, ""}));
  EXPECT_EQ(*parse_upstream_url("http://svc"), (UpstreamUrl{"http://svc", "svc", 80, ""}));
  EXPECT_EQ(*parse_upstream_url("http://svc/"), (UpstreamUrl{"http://svc/", "svc", 80, ""}));
  EXPECT_EQ(*parse_upstream_url("http://[::1]:81/a/b/"),
            (UpstreamUrl{"http://[::1]:81/a/b/", "::1", 81, "/a/b"}));
  EXPECT_EQ(parse_upstream_url("http://[::1]/x")->port, 80);
}

TEST(UpstreamUrlParse, RejectsWhatIsNotPlainHttp) {
  for (const char* text : {"", "https://svc", "svc:80", "http://", "http://:80", "http://u@svc",
                           "http://svc?q=1", "http://svc/#f", "http://svc:0", "http://svc:99999"}) {
    EXPECT_FALSE(parse_upstream_url(text)) << text;
  }
}

TEST(ConfigRules, Identity) {
  EXPECT_TRUE(is_valid_identity("a"));
  EXPECT_TRUE(is_valid_identity("Node_1.example-2"));
  EXPECT_TRUE(is_valid_identity(std::string(63, 'x')));
  EXPECT_FALSE(is_valid_identity(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_identity(""));
  EXPECT_FALSE(is_valid_identity("a b"));
  EXPECT_FALSE(is_valid_identity("a/b"));
}

TEST(ConfigRules, HostPattern) {
  EXPECT_TRUE(is_valid_host_pattern("app.localhost"));
  EXPECT_TRUE(is_valid_host_pattern("*.web.example.test"));
  EXPECT_TRUE(is_valid_host_pattern("localhost"));
  EXPECT_FALSE(is_valid_host_pattern("App.example.test"));  // loaders lower-case first
  EXPECT_FALSE(is_valid_host_pattern("*"));
  EXPECT_FALSE(is_valid_host_pattern("a.*.test"));
  EXPECT_FALSE(is_valid_host_pattern("-a.test"));
  EXPECT_FALSE(is_valid_host_pattern("a..test"));
  EXPECT_FALSE(is_valid_host_pattern("a.test."));
  EXPECT_FALSE(is_valid_host_pattern("a.test:8080"));
  EXPECT_FALSE(is_valid_host_pattern(std::string(64, 'a') + ".test"));
}

TEST(ConfigRules, TokenSpec) {
  EXPECT_FALSE(check_token_spec("sha256:" + std::string(64, 'a')).has_value());
  EXPECT_FALSE(check_token_spec("plain-token").has_value());
  EXPECT_TRUE(check_token_spec("sha256:" + std::string(63, 'a')).has_value());
  EXPECT_TRUE(check_token_spec("sha256:" + std::string(64, 'g')).has_value());
  EXPECT_TRUE(check_token_spec("").has_value());
  EXPECT_TRUE(check_token_spec("has space").has_value());
}

TEST(ConfigErrorFormat, LeavesOutUnknownParts) {
  EXPECT_EQ(
      (ConfigError{"edge.yaml", 12, "tunnels.web.auth.tokens", "expected a list of strings"}).to_string(),
      "edge.yaml:12: tunnels.web.auth.tokens: expected a list of strings");
  EXPECT_EQ((ConfigError{"edge.yaml", 0, "public", "missing required key"}).to_string(),
            "edge.yaml: public: missing required key");
  EXPECT_EQ((ConfigError{"", 0, "--tunnel", "required"}).to_string(), "--tunnel: required");
  EXPECT_EQ((ConfigError{"edge.yaml", 3, "", "YAML syntax error: x"}).to_string(),
            "edge.yaml:3: YAML syntax error: x");
}

TEST(ConfigFiles, MissingFileIsAConfigError) {
  auto edge = load_edge_config("/nonexistent/dialback/edge.yaml");
  ASSERT_FALSE(edge);
  EXPECT_EQ(edge.error().to_string(),
            "/nonexistent/dialback/edge.yaml: cannot read file: No such file or directory");
  auto agent = load_agent_config("/nonexistent/dialback/agent.yaml");
  ASSERT_FALSE(agent);
  EXPECT_EQ(agent.error().file, "/nonexistent/dialback/agent.yaml");
  EXPECT_EQ(agent.error().line, 0);
}

TEST(ConfigFiles, DirectoryIsAConfigError) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto edge = load_edge_config(dir.path().string());
  ASSERT_FALSE(edge);
  EXPECT_NE(edge.error().message.find("is a directory"), std::string::npos) << edge.error().to_string();
}

TEST(ConfigFiles, ErrorsInFilesCarryThePathAsGiven) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const auto path = dir.write("edge.yaml", "agents:\n  cert: a\n  key: b\n  bogus: 1\n");
  auto edge = load_edge_config(path.string());
  ASSERT_FALSE(edge);
  EXPECT_EQ(edge.error().to_string(), path.string() + ":4: agents.bogus: unknown key");
}

TEST(ConfigFiles, EdgePathsResolveAgainstTheConfigDirectory) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const auto path =
      dir.write("etc/edge.yaml",
                "agents:\n  cert: pki/edge.crt\n  key: ./pki/edge.key\n  client_ca: /abs/ca.crt\n"
                "public:\n  https: {listen: ':0', cert: ../pub.crt, key: pub.key}\n"
                "tunnels:\n  web:\n    hosts: [app.localhost]\n    auth: {tokens: [t]}\n");
  auto edge = load_edge_config(path.string());
  ASSERT_TRUE(edge) << edge.error().to_string();
  EXPECT_EQ(edge->agents.cert, (dir.path() / "etc/pki/edge.crt").string());
  EXPECT_EQ(edge->agents.key, (dir.path() / "etc/pki/edge.key").string());
  EXPECT_EQ(edge->agents.client_ca, "/abs/ca.crt");
  ASSERT_TRUE(edge->public_.https.has_value());
  EXPECT_EQ(edge->public_.https->cert, (dir.path() / "pub.crt").string());
  EXPECT_EQ(edge->public_.https->key, (dir.path() / "etc/pub.key").string());
}

TEST(ConfigFiles, FromStringResolvesAgainstTheGivenBaseDir) {
  auto edge = load_edge_config_from_string(
      "agents: {cert: c.crt, key: /k.key}\npublic: {http: ':0'}\ntunnels: {web: {hosts: [a.test], auth: "
      "{tokens: [t]}}}\n",
      "edge.yaml", "/srv/dialback");
  ASSERT_TRUE(edge) << edge.error().to_string();
  EXPECT_EQ(edge->agents.cert, "/srv/dialback/c.crt");
  EXPECT_EQ(edge->agents.key, "/k.key");
}

TEST(ConfigExamples, EdgeExampleLoads) {
  const std::string path = std::string(DIALBACK_EXAMPLES_DIR) + "/edge.yaml";
  auto edge = load_edge_config(path);
  ASSERT_TRUE(edge) << edge.error().to_string();
  ASSERT_EQ(edge->tunnels.size(), 1u);
  EXPECT_EQ(edge->tunnels[0].name, "web");
  EXPECT_EQ(edge->tunnels[0].hosts, (std::vector<std::string>{"app.localhost"}));
  EXPECT_TRUE(edge->agents.cert.ends_with("/examples/pki/edge.crt")) << edge->agents.cert;
}

TEST(ConfigExamples, AgentExampleLoads) {
  const std::string path = std::string(DIALBACK_EXAMPLES_DIR) + "/agent.yaml";
  auto agent = load_agent_config(path);
  ASSERT_TRUE(agent) << agent.error().to_string();
  EXPECT_EQ(agent->tunnel, "web");
  EXPECT_FALSE(agent->edges.empty());
  EXPECT_TRUE(agent->ca.ends_with("/examples/pki/ca.crt")) << agent->ca;
}

TEST(ConfigExamples, TcpExamplesLoad) {
  auto edge = load_edge_config(std::string(DIALBACK_EXAMPLES_DIR) + "/edge-tcp.yaml");
  ASSERT_TRUE(edge) << edge.error().to_string();
  ASSERT_EQ(edge->tunnels.size(), 2u);
  EXPECT_EQ(edge->tunnels[0].tcp, (std::vector<ListenAddress>{{"127.0.0.1", 2222}}));
  EXPECT_FALSE(edge->public_.http.has_value());
  auto agent = load_agent_config(std::string(DIALBACK_EXAMPLES_DIR) + "/agent-tcp.yaml");
  ASSERT_TRUE(agent) << agent.error().to_string();
  EXPECT_TRUE(agent->routes.empty());
  ASSERT_TRUE(agent->tcp.has_value());
  EXPECT_EQ(agent->tcp->address, (ListenAddress{"127.0.0.1", 22}));
}

TEST(ConfigExamples, DevelopmentEdgeExampleLoads) {
  auto edge = load_edge_config(std::string(DIALBACK_EXAMPLES_DIR) + "/edge-devtunnel.yaml");
  ASSERT_TRUE(edge) << edge.error().to_string();
  ASSERT_TRUE(edge->devtunnel.has_value());
  EXPECT_EQ(edge->devtunnel->first_port, 9000);
  EXPECT_EQ(edge->devtunnel->allow.size(), 2u);
  ASSERT_EQ(edge->tunnels.size(), 1u);
  ASSERT_TRUE(edge->tunnels[0].allocate.has_value());
  EXPECT_EQ(edge->tunnels[0].allocate->tokens.size(), 1u);
  EXPECT_TRUE(edge->tunnels[0].auth.tokens.empty());
}

TEST(ConfigExamples, AgentRoutesExampleLoads) {
  const std::string path = std::string(DIALBACK_EXAMPLES_DIR) + "/agent-routes.yaml";
  auto agent = load_agent_config(path);
  ASSERT_TRUE(agent) << agent.error().to_string();
  ASSERT_EQ(agent->routes.size(), 2u);
  EXPECT_EQ(agent->routes[0].prefix, "/api");
  EXPECT_EQ(agent->routes[0].host_rewrite, "api.internal");
  EXPECT_EQ(agent->routes[1].prefix, "/");
  EXPECT_EQ(agent->routes[1].upstream.port, 3000);
}

TEST(ConfigExamples, IdentityEdgeExampleLoads) {
  const std::string path = std::string(DIALBACK_EXAMPLES_DIR) + "/edge-identity.yaml";
  auto edge = load_edge_config(path);
  ASSERT_TRUE(edge) << edge.error().to_string();
  ASSERT_EQ(edge->tunnels.size(), 2u);
  EXPECT_EQ(edge->tunnels[0].tenant, "acme");
  EXPECT_EQ(edge->tunnels[0].envoy_clusters, (std::vector<std::string>{"web-cluster"}));
  ASSERT_TRUE(edge->tunnels[0].identity_routing.has_value());
  EXPECT_EQ(edge->tunnels[0].identity_routing->node_header, "x-node-id");
  EXPECT_EQ(edge->tunnels[1].balance, BalancePolicy::hash);
  EXPECT_EQ(edge->tunnels[1].hash_key, (HashKey{HashKey::Source::cookie, "session"}));
}

TEST(ConfigExamples, EnvoyAgentExampleLoads) {
  const std::string path = std::string(DIALBACK_EXAMPLES_DIR) + "/agent-envoy.yaml";
  auto agent = load_agent_config(path);
  ASSERT_TRUE(agent) << agent.error().to_string();
  ASSERT_EQ(agent->edges.size(), 1u);
  EXPECT_EQ(agent->edges[0].transport, AgentTransport::envoy);
  EXPECT_EQ(agent->edges[0].connections, 2);
  EXPECT_EQ(agent->agent.node, "laptop-1");
  EXPECT_EQ(agent->agent.cluster, "web-cluster");
  EXPECT_EQ(agent->agent.tenant, "acme");
}

}  // namespace
}  // namespace dialback

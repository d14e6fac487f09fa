// Edge config: a full file round-trips; each invalid file names file:line:key.
#include <gtest/gtest.h>

#include <chrono>

#include "config/edge_config.hpp"
#include "config_test_util.hpp"

namespace dialback {
namespace {

using namespace std::chrono_literals;
using test::InvalidCase;
using test::mutate;

constexpr std::string_view kFullEdge = R"(edge:
  id: edge-1
  drain_timeout: 45s
agents:
  listen: "[::1]:9443"
  cert: /pki/edge.crt
  key: /pki/edge.key
  client_ca: /pki/ca.crt
  handshake_timeout: 500ms
  ping_interval: 1m
  ping_timeout: 7
  max_sessions_per_tunnel: 12
public:
  http: :8080
  https: {listen: 127.0.0.1:0, cert: /pki/pub.crt, key: /pki/pub.key}
  request_timeout: 2h
tunnels:
  web:
    hosts: [App.Example.Test, "*.web.example.test"]
    auth:
      tokens: ["sha256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08", plain-token]
      client_names: [agent-1]
    balance: round_robin
  api:
    hosts: [api.example.test]
    auth: {tokens: [t2]}
)";

TEST(EdgeConfig, FullFileRoundTrips) {
  auto loaded = load_edge_config_from_string(kFullEdge, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const EdgeConfig& c = *loaded;
  EXPECT_EQ(c.edge.id, "edge-1");
  EXPECT_EQ(c.edge.drain_timeout, 45s);
  EXPECT_EQ(c.agents.listen, (ListenAddress{"::1", 9443}));
  EXPECT_EQ(c.agents.cert, "/pki/edge.crt");
  EXPECT_EQ(c.agents.key, "/pki/edge.key");
  EXPECT_EQ(c.agents.client_ca, "/pki/ca.crt");
  EXPECT_EQ(c.agents.handshake_timeout, 500ms);
  EXPECT_EQ(c.agents.ping_interval, 60s);
  EXPECT_EQ(c.agents.ping_timeout, 7s);
  EXPECT_EQ(c.agents.max_sessions_per_tunnel, 12);
  ASSERT_TRUE(c.public_.http.has_value());
  EXPECT_EQ(*c.public_.http, (ListenAddress{"0.0.0.0", 8080}));
  ASSERT_TRUE(c.public_.https.has_value());
  EXPECT_EQ(c.public_.https->listen, (ListenAddress{"127.0.0.1", 0}));
  EXPECT_EQ(c.public_.https->cert, "/pki/pub.crt");
  EXPECT_EQ(c.public_.https->key, "/pki/pub.key");
  EXPECT_EQ(c.public_.request_timeout, 2h);
  ASSERT_EQ(c.tunnels.size(), 2u);
  EXPECT_EQ(c.tunnels[0].name, "web");
  EXPECT_EQ(c.tunnels[0].hosts, (std::vector<std::string>{"app.example.test", "*.web.example.test"}));
  EXPECT_EQ(c.tunnels[0].auth.tokens,
            (std::vector<std::string>{
                "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "plain-token"}));
  EXPECT_EQ(c.tunnels[0].auth.client_names, (std::vector<std::string>{"agent-1"}));
  EXPECT_EQ(c.tunnels[0].balance, BalancePolicy::round_robin);
  EXPECT_EQ(c.tunnels[1].name, "api");
  EXPECT_EQ(c.tunnels[1].hosts, (std::vector<std::string>{"api.example.test"}));
  EXPECT_EQ(c.tunnels[1].auth.tokens, (std::vector<std::string>{"t2"}));
  EXPECT_TRUE(c.tunnels[1].auth.client_names.empty());
  EXPECT_EQ(c.tunnels[1].balance, BalancePolicy::least_inflight);
}

// The invalid cases below mutate this file; line numbers are on the right.
constexpr std::string_view kBase =
    "agents:\n"                        // 1
    "  cert: edge.crt\n"               // 2
    "  key: edge.key\n"                // 3
    "public:\n"                        // 4
    "  http: :8080\n"                  // 5
    "tunnels:\n"                       // 6
    "  web:\n"                         // 7
    "    hosts: [app.example.test]\n"  // 8
    "    auth:\n"                      // 9
    "      tokens: [secret]\n";        // 10

TEST(EdgeConfig, EnvoyClustersNameTheirTunnel) {
  auto loaded = load_edge_config_from_string(
      std::string(kBase) + "    envoy_clusters: [web-cluster, web.backup]\n", "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->tunnels.at(0).envoy_clusters,
            (std::vector<std::string>{"web-cluster", "web.backup"}));
}

TEST(EdgeConfig, HashBalanceKeys) {
  for (const auto& [text, expected] :
       {std::pair{"client_ip", HashKey{HashKey::Source::client_ip, ""}},
        std::pair{"header:X-User", HashKey{HashKey::Source::header, "x-user"}},
        std::pair{"cookie:session", HashKey{HashKey::Source::cookie, "session"}}}) {
    auto loaded = load_edge_config_from_string(
        std::string(kBase) + "    balance: hash\n    hash_key: \"" + text + "\"\n", "edge.yaml");
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    EXPECT_EQ(loaded->tunnels.at(0).balance, BalancePolicy::hash);
    EXPECT_EQ(loaded->tunnels.at(0).hash_key, expected) << text;
  }
}

TEST(EdgeConfig, TenantAndIdentityRouting) {
  auto loaded = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->tunnels.at(0).tenant, "default");
  EXPECT_FALSE(loaded->tunnels.at(0).identity_routing.has_value());  // off unless configured

  loaded = load_edge_config_from_string(
      std::string(kBase) + "    tenant: acme\n    identity_routing: {}\n", "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->tunnels.at(0).tenant, "acme");
  EXPECT_EQ(loaded->tunnels.at(0).identity_routing, IdentityRoutingConfig{});

  loaded = load_edge_config_from_string(std::string(kBase) +
                                            "    identity_routing: {node_header: X-Node-Id, "
                                            "cluster_header: x-cluster-id, strip: false}\n",
                                        "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto& routing = *loaded->tunnels.at(0).identity_routing;
  EXPECT_EQ(routing.node_header, "x-node-id");
  EXPECT_EQ(routing.cluster_header, "x-cluster-id");
  EXPECT_FALSE(routing.strip);
}

TEST(EdgeConfig, TcpPortsWithoutHostsNeedNoPublicListener) {
  auto loaded = load_edge_config_from_string(
      "agents: {cert: edge.crt, key: edge.key}\n"
      "tunnels:\n"
      "  ssh: {tcp: [2222, \"127.0.0.1:2223\", \"[::1]:2224\"], tcp_idle_timeout: 5m,\n"
      "        auth: {tokens: [secret]}}\n",
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const TunnelConfig& ssh = loaded->tunnels.at(0);
  EXPECT_TRUE(ssh.hosts.empty());
  const std::vector<ListenAddress> ports{{"0.0.0.0", 2222}, {"127.0.0.1", 2223}, {"::1", 2224}};
  EXPECT_EQ(ssh.tcp, ports);
  EXPECT_EQ(ssh.tcp_idle_timeout, 5min);
  EXPECT_FALSE(loaded->public_.http.has_value());
}

TEST(EdgeConfig, AllocateSection) {
  auto loaded = load_edge_config_from_string(
      std::string(kBase) +
          "    allocate: {ports: 9000-9099, hosts: \"*.Dev.Example.Test\", bind: 127.0.0.1,\n"
          "               lease: 10m, evict: idle, idle_after: 1m}\n"
          "  one:\n"
          "    allocate: {ports: 9200, tokens: [dev-token, "
          "\"SHA256:ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB\"]}\n",
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const AllocateConfig& web = *loaded->tunnels.at(0).allocate;
  EXPECT_EQ(web.first_port, 9000);
  EXPECT_EQ(web.last_port, 9099);
  EXPECT_EQ(web.hosts, "*.dev.example.test");
  EXPECT_EQ(web.bind, "127.0.0.1");
  EXPECT_EQ(web.lease, 10min);
  EXPECT_TRUE(web.evict_idle);
  EXPECT_EQ(web.idle_after, 1min);
  const AllocateConfig& one = *loaded->tunnels.at(1).allocate;
  EXPECT_EQ(one.first_port, 9200);
  EXPECT_EQ(one.last_port, 9200);
  EXPECT_TRUE(one.hosts.empty());
  EXPECT_EQ(one.bind, "0.0.0.0");
  EXPECT_EQ(one.lease, 5min);
  EXPECT_FALSE(one.evict_idle);
  // Scoped tokens may be a tunnel's only credential; hashes are normalised.
  const std::vector<std::string> scoped{
      "dev-token", "sha256:abababababababababababababababababababababababababababababababab"};
  EXPECT_EQ(one.tokens, scoped);
  EXPECT_TRUE(loaded->tunnels.at(1).auth.tokens.empty());
  EXPECT_FALSE(loaded->tunnels.at(0).tcp.size());
}

TEST(EdgeConfig, MinimalFileGetsDefaults) {
  auto loaded = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_FALSE(loaded->edge.id.empty());  // the host name
  EXPECT_EQ(loaded->edge.drain_timeout, 30s);
  EXPECT_EQ(loaded->agents.listen, (ListenAddress{"0.0.0.0", 8443}));
  EXPECT_EQ(loaded->agents.cert, "edge.crt");  // no base_dir: kept as written
  EXPECT_TRUE(loaded->agents.client_ca.empty());
  EXPECT_EQ(loaded->agents.handshake_timeout, 10s);
  EXPECT_EQ(loaded->agents.ping_interval, 15s);
  EXPECT_EQ(loaded->agents.ping_timeout, 10s);
  EXPECT_EQ(loaded->agents.max_sessions_per_tunnel, 1000);
  EXPECT_FALSE(loaded->public_.https.has_value());
  EXPECT_EQ(loaded->public_.request_timeout, 60s);
  EXPECT_TRUE(loaded->tunnels.at(0).tcp.empty());
  EXPECT_EQ(loaded->tunnels.at(0).tcp_idle_timeout, 1h);
  EXPECT_EQ(loaded->tunnels.at(0).balance, BalancePolicy::least_inflight);
}

TEST(EdgeConfig, OutlierDetection) {
  auto loaded = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->agents.outlier_detection, (OutlierPolicy{5, 10s, 5min}));

  const auto with = [](std::string section) {
    return mutate(std::string(kBase), "  key: edge.key\n",
                  "  key: edge.key\n  outlier_detection: " + section + "\n");
  };
  loaded = load_edge_config_from_string(
      with("{consecutive_failures: 3, base_ejection: 200ms, max_ejection: 1s}"), "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->agents.outlier_detection, (OutlierPolicy{3, 200ms, 1s}));
  loaded = load_edge_config_from_string(with("{consecutive_failures: 0}"), "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->agents.outlier_detection.consecutive_failures, 0u);

  const struct {
    const char* section;
    const char* key;
  } invalid[] = {
      {"{consecutive_failures: -1}", "agents.outlier_detection.consecutive_failures"},
      {"{consecutive_failures: 1001}", "agents.outlier_detection.consecutive_failures"},
      {"{base_ejection: 0s}", "agents.outlier_detection.base_ejection"},
      {"{base_ejection: 10s, max_ejection: 5s}", "agents.outlier_detection.max_ejection"},
      {"{max_ejection: 25h}", "agents.outlier_detection.max_ejection"},
      {"{ejection: 10s}", "agents.outlier_detection.ejection"},
  };
  for (const auto& c : invalid) {
    loaded = load_edge_config_from_string(with(c.section), "edge.yaml");
    ASSERT_FALSE(loaded) << c.section;
    EXPECT_EQ(loaded.error().key, c.key) << loaded.error().to_string();
  }
}

class EdgeConfigInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(EdgeConfigInvalid, NamesFileLineAndKey) {
  const InvalidCase& c = GetParam();
  auto loaded = load_edge_config_from_string(mutate(std::string(kBase), c.find, c.replace), "edge.yaml");
  ASSERT_FALSE(loaded) << "expected an error";
  const ConfigError& e = loaded.error();
  EXPECT_EQ(e.file, "edge.yaml");
  EXPECT_EQ(e.line, c.line) << e.to_string();
  EXPECT_EQ(e.key, c.key) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Table, EdgeConfigInvalid,
    testing::Values(
        InvalidCase{"UnknownTopLevelKey", "", "extra: 1\n", 11, "extra", "unknown key"},
        InvalidCase{"UnknownKeyInSection", "  key: edge.key\n", "  key: edge.key\n  kee: x\n", 4,
                    "agents.kee", "unknown key"},
        InvalidCase{"UnknownKeyInTunnelAuth", "", "      tokenz: [x]\n", 11,
                    "tunnels.web.auth.tokenz", "unknown key"},
        InvalidCase{"UnknownKeyInHttps", "  http: :8080",
                    "  https: {listen: :1, cert: c, key: k, ca: x}", 5, "public.https.ca",
                    "unknown key"},
        InvalidCase{"DuplicateKey", "  key: edge.key\n", "  key: edge.key\n  key: other.key\n", 4,
                    "agents.key", "duplicate key"},
        InvalidCase{"TokensNotAList", "tokens: [secret]", "tokens: secret", 10,
                    "tunnels.web.auth.tokens", "expected a list of strings"},
        InvalidCase{"TokenNotAString", "tokens: [secret]", "tokens: [[a]]", 10,
                    "tunnels.web.auth.tokens[0]", "expected a string"},
        InvalidCase{"SectionNotAMapping", "agents:\n  cert: edge.crt\n  key: edge.key\n",
                    "agents: [a]\n", 1, "agents", "expected a mapping"},
        InvalidCase{"BadDuration", "  key: edge.key\n", "  key: edge.key\n  ping_interval: 15 s\n",
                    4, "agents.ping_interval", "invalid duration"},
        InvalidCase{"BadAddress", "  http: :8080", "  http: localhost", 5, "public.http",
                    "invalid address"},
        InvalidCase{"BadTunnelName", "  web:", "  web/1:", 7, "tunnels.web/1", "tunnel name"},
        InvalidCase{"BadEdgeId", "agents:\n", "edge:\n  id: \"bad id\"\nagents:\n", 2, "edge.id",
                    "[A-Za-z0-9._-]"},
        InvalidCase{"BadHost", "[app.example.test]", "[app.example.test, bad_host.test]", 8,
                    "tunnels.web.hosts[1]", "invalid host"},
        InvalidCase{"DuplicateHostAcrossTunnels", "",
                    "  api:\n    hosts: [x.test, APP.example.test]\n    auth: {tokens: [t]}\n", 12,
                    "tunnels.api.hosts[1]", "already used by tunnel web"},
        InvalidCase{"MissingHosts", "    hosts: [app.example.test]\n", "", 7, "tunnels.web.hosts",
                    "at least one host or tcp port (or allocate) is required"},
        InvalidCase{"EmptyHosts", "[app.example.test]", "[]", 8, "tunnels.web.hosts",
                    "at least one host or tcp port"},
        InvalidCase{"MissingPublicSection", "public:\n  http: :8080\n", "", 0, "public",
                    "at least one of http and https is required (tunnels have hosts)"},
        InvalidCase{"TcpPortNotAnAddress", "", "    tcp: [ssh.example.test]\n", 11,
                    "tunnels.web.tcp[0]", "expected host:port"},
        InvalidCase{"TcpPortTooLarge", "", "    tcp: [65536]\n", 11, "tunnels.web.tcp[0]", "port"},
        InvalidCase{"TcpPortNotAList", "", "    tcp: 2222\n", 11, "tunnels.web.tcp",
                    "expected a list"},
        InvalidCase{"TcpPortTwice", "", "    tcp: [2222]\n  db:\n    tcp: [\"0.0.0.0:2222\"]\n", 13,
                    "tunnels.db.tcp[0]", "tcp port 0.0.0.0:2222 is already used by tunnel web"},
        InvalidCase{"TcpIdleTimeoutZero", "", "    tcp_idle_timeout: 0s\n", 11,
                    "tunnels.web.tcp_idle_timeout", "must be positive"},
        InvalidCase{"MissingCert", "  cert: edge.crt\n", "", 1, "agents.cert",
                    "missing required key"},
        InvalidCase{"NullValue", "  cert: edge.crt\n", "  cert:\n", 2, "agents.cert",
                    "missing value"},
        InvalidCase{"NoPublicListener", "  http: :8080", "  request_timeout: 5s", 4, "public",
                    "at least one of"},
        InvalidCase{"HttpsWithoutCert", "  http: :8080", "  https: {listen: :8443, key: k}", 5,
                    "public.https.cert", "missing required key"},
        InvalidCase{"NoTunnels",
                    "  web:\n    hosts: [app.example.test]\n    auth:\n      tokens: [secret]\n",
                    "", 6, "tunnels", "missing value"},
        InvalidCase{
            "EmptyTunnels",
            "tunnels:\n  web:\n    hosts: [app.example.test]\n    auth:\n      tokens: [secret]\n",
            "tunnels: {}\n", 6, "tunnels", "at least one tunnel"},
        InvalidCase{"BadTokenHash", "[secret]", "[\"sha256:abc\"]", 10,
                    "tunnels.web.auth.tokens[0]", "64 hex"},
        InvalidCase{"ClientNamesWithoutClientCa", "tokens: [secret]", "client_names: [agent-1]", 10,
                    "tunnels.web.auth.client_names", "client_ca"},
        InvalidCase{"TunnelWithoutCredential", "    auth:\n      tokens: [secret]\n", "", 7,
                    "tunnels.web.auth", "at least one credential"},
        InvalidCase{"UnknownBalance", "", "    balance: random\n", 11, "tunnels.web.balance",
                    "unknown balance policy"},
        InvalidCase{"BadHashKey", "", "    balance: hash\n    hash_key: ip\n", 12,
                    "tunnels.web.hash_key", "invalid hash key"},
        InvalidCase{"HashKeyWithoutHashBalance", "", "    hash_key: header:x-user\n", 11,
                    "tunnels.web.hash_key", "needs balance: hash"},
        InvalidCase{"BadTenant", "", "    tenant: \"a b\"\n", 11, "tunnels.web.tenant", "1-63"},
        InvalidCase{"BadIdentityHeader", "", "    identity_routing: {node_header: \"x node\"}\n",
                    11, "tunnels.web.identity_routing.node_header", "not an HTTP header name"},
        InvalidCase{"SameIdentityHeaders", "",
                    "    identity_routing: {node_header: x-id, cluster_header: X-Id}\n", 11,
                    "tunnels.web.identity_routing.cluster_header", "must differ"},
        InvalidCase{"UnknownIdentityRoutingKey", "", "    identity_routing: {nodes: x}\n", 11,
                    "tunnels.web.identity_routing.nodes", "unknown key"},
        InvalidCase{"BadEnvoyCluster", "", "    envoy_clusters: [\"bad id\"]\n", 11,
                    "tunnels.web.envoy_clusters[0]", "cluster id"},
        InvalidCase{"EnvoyClusterOfAnotherTunnel", "",
                    "  api:\n    hosts: [x.test]\n    auth: {tokens: [t]}\n"
                    "    envoy_clusters: [edge, web]\n",
                    14, "tunnels.api.envoy_clusters[1]", "already used by tunnel web"},
        InvalidCase{"MaxSessionsOutOfRange", "  key: edge.key\n",
                    "  key: edge.key\n  max_sessions_per_tunnel: 0\n", 4,
                    "agents.max_sessions_per_tunnel", "must be from 1"},
        InvalidCase{"YamlSyntaxError", "  key: edge.key\n", "  key: edge.key\n   bad: x\n", 4, "",
                    "YAML syntax error"}),
    test::case_name);

// ---- credentials: basic, token_files, external -----------------------------

TEST(EdgeConfig, BasicAndExternalCredentials) {
  auto loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "      tokens: [secret]\n",
             "      basic:\n"
             "        - {username: agent, password: pw-1}\n"
             "        - {username: ops, password: "
             "\"SHA256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"}\n"
             "      external: {url: \"http://auth.internal:8181/check?realm=x\", timeout: 500ms, "
             "cache: 0}\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const TunnelAuthConfig& auth = loaded->tunnels.at(0).auth;
  ASSERT_EQ(auth.basic.size(), 2u);
  EXPECT_EQ(auth.basic[0].username, "agent");
  EXPECT_EQ(auth.basic[0].password, "pw-1");
  EXPECT_EQ(auth.basic[1].password,
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  ASSERT_TRUE(auth.external.has_value());
  EXPECT_EQ(auth.external->url.host, "auth.internal");
  EXPECT_EQ(auth.external->url.port, 8181);
  EXPECT_EQ(auth.external->url.target, "/check?realm=x");
  EXPECT_EQ(auth.external->url.display(), "http://auth.internal:8181/check");
  EXPECT_EQ(auth.external->timeout, 500ms);
  EXPECT_EQ(auth.external->cache, 0ms);
  EXPECT_TRUE(auth.tokens.empty());
}

TEST(EdgeConfig, ExternalDefaults) {
  auto loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "      tokens: [secret]\n",
             "      external: {url: \"http://[::1]\"}\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto& external = loaded->tunnels.at(0).auth.external;
  ASSERT_TRUE(external.has_value());
  EXPECT_EQ(external->timeout, 2s);
  EXPECT_EQ(external->cache, 30s);
  EXPECT_EQ(external->url.host, "::1");
  EXPECT_EQ(external->url.port, 80);
  EXPECT_EQ(external->url.target, "/");
}

TEST(EdgeConfig, TokenFilesAreReadAtLoadRelativeToTheConfig) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.write("conf/tokens/web.tokens",
            "# web agents\n"
            "\n"
            "plain-token-1   \r\n"
            "SHA256:9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n"
            "   \n"
            "last-without-newline");
  const auto config = dir.write(
      "conf/edge.yaml",
      "agents: {cert: edge.crt, key: edge.key}\npublic: {http: \":8080\"}\n"
      "tunnels:\n  web:\n    hosts: [app.example.test]\n"
      "    auth: {token_files: [tokens/web.tokens]}\n");
  auto loaded = load_edge_config(config.string());
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto& files = loaded->tunnels.at(0).auth.token_files;
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, (dir.path() / "conf/tokens/web.tokens").string());
  const std::vector<std::string> expected = {
      "plain-token-1", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "last-without-newline"};
  EXPECT_EQ(files[0].tokens, expected);
}

TEST(EdgeConfig, TokenFileErrorsNameKeyFileAndLineNeverTheSecret) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.write("good.tokens", "ok-token\n");
  const auto bad = dir.write("bad.tokens", "# comment\nok-token\nsha256:abc-secret-part\n");
  const auto spaced = dir.write("spaced.tokens", "two words-secret\n");
  const struct {
    const char* file;
    std::string expected;
  } rows[] = {
      {"bad.tokens", bad.string() + ":3: a sha256: token hash needs exactly 64 hex digits"},
      {"spaced.tokens", spaced.string() + ":1: a token must be printable ASCII without spaces"},
      {"missing.tokens", (dir.path() / "missing.tokens").string() + ": cannot read file"},
  };
  for (const auto& row : rows) {
    SCOPED_TRACE(row.file);
    const auto config = dir.write(
        "edge.yaml", std::string("agents: {cert: edge.crt, key: edge.key}\n"
                                 "public: {http: \":8080\"}\n"
                                 "tunnels:\n  web:\n    hosts: [app.example.test]\n"
                                 "    auth:\n      token_files:\n        - good.tokens\n"
                                 "        - ") +
                         row.file + "\n");
    auto loaded = load_edge_config(config.string());
    ASSERT_FALSE(loaded);
    EXPECT_EQ(loaded.error().key, "tunnels.web.auth.token_files[1]");
    EXPECT_EQ(loaded.error().line, 9);
    EXPECT_NE(loaded.error().message.find(row.expected), std::string::npos)
        << loaded.error().to_string();
    EXPECT_EQ(loaded.error().message.find("secret"), std::string::npos)
        << loaded.error().to_string();
  }
}

TEST(EdgeConfig, EveryCredentialKindCountsForATunnel) {
  auto loaded = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EdgeConfig config = *loaded;
  TunnelAuthConfig& auth = config.tunnels[0].auth;
  auth.tokens.clear();
  auto error = validate_edge_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->key, "tunnels.web.auth");
  EXPECT_NE(error->message.find("at least one credential"), std::string::npos);
  auth.basic = {{"agent", "pw"}};
  EXPECT_FALSE(validate_edge_config(config).has_value());
  auth.basic.clear();
  auth.token_files = {{"/etc/web.tokens", {}}};
  EXPECT_FALSE(validate_edge_config(config).has_value());
  auth.token_files.clear();
  auth.external = ExternalAuthConfig{*parse_external_auth_url("http://127.0.0.1:1/")};
  EXPECT_FALSE(validate_edge_config(config).has_value());
  auth.external->timeout = 0ms;
  error = validate_edge_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(), "tunnels.web.auth.external.timeout: must be greater than zero");
  auth.external->timeout = 1s;
  auth.external->url = ExternalAuthUrl{};  // set in code without parsing
  error = validate_edge_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->key, "tunnels.web.auth.external.url");
}

class EdgeCredentialInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(EdgeCredentialInvalid, NamesFileLineAndKey) {
  const InvalidCase& c = GetParam();
  auto loaded =
      load_edge_config_from_string(mutate(std::string(kBase), c.find, c.replace), "edge.yaml");
  ASSERT_FALSE(loaded) << "expected an error";
  const ConfigError& e = loaded.error();
  EXPECT_EQ(e.line, c.line) << e.to_string();
  EXPECT_EQ(e.key, c.key) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
  EXPECT_EQ(e.to_string().find("s3cret"), std::string::npos) << e.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Table, EdgeCredentialInvalid,
    testing::Values(
        InvalidCase{"BasicNotAList", "tokens: [secret]", "basic: {username: a, password: b}", 10,
                    "tunnels.web.auth.basic", "expected a list"},
        InvalidCase{"BasicUnknownKey", "tokens: [secret]",
                    "basic: [{username: a, password: b, pass: c}]", 10,
                    "tunnels.web.auth.basic[0].pass", "unknown key"},
        InvalidCase{"BasicMissingPassword", "tokens: [secret]", "basic: [{username: a}]", 10,
                    "tunnels.web.auth.basic[0].password", "missing required key"},
        InvalidCase{"BasicUserWithColon", "tokens: [secret]",
                    "basic: [{username: \"a:b\", password: s3cret}]", 10,
                    "tunnels.web.auth.basic[0].username", "without spaces or ':'"},
        InvalidCase{"BasicBadHash", "tokens: [secret]",
                    "basic: [{username: a, password: \"sha256:s3cret\"}]", 10,
                    "tunnels.web.auth.basic[0].password", "64 hex digits"},
        InvalidCase{"BasicPasswordWithSpace", "tokens: [secret]",
                    "basic: [{username: a, password: \"s3cret x\"}]", 10,
                    "tunnels.web.auth.basic[0].password", "a password must be printable"},
        InvalidCase{"TokenFilesNotAList", "tokens: [secret]", "token_files: web.tokens", 10,
                    "tunnels.web.auth.token_files", "expected a list"},
        InvalidCase{"ExternalWithoutUrl", "tokens: [secret]", "external: {timeout: 1s}", 10,
                    "tunnels.web.auth.external.url", "missing required key"},
        InvalidCase{"ExternalHttps", "tokens: [secret]", "external: {url: \"https://a.test/\"}", 10,
                    "tunnels.web.auth.external.url", "https:// is not supported yet"},
        InvalidCase{"ExternalOtherScheme", "tokens: [secret]", "external: {url: \"ftp://a.test/\"}",
                    10, "tunnels.web.auth.external.url", "expected http://host[:port][/path]"},
        InvalidCase{"ExternalNoHost", "tokens: [secret]", "external: {url: \"http:///check\"}", 10,
                    "tunnels.web.auth.external.url", "missing host"},
        InvalidCase{"ExternalBadPort", "tokens: [secret]",
                    "external: {url: \"http://a.test:99999/\"}", 10,
                    "tunnels.web.auth.external.url", "port from 1 to 65535"},
        InvalidCase{"ExternalUserInfo", "tokens: [secret]",
                    "external: {url: \"http://u:p@a.test/\"}", 10, "tunnels.web.auth.external.url",
                    "user info"},
        InvalidCase{"ExternalFragment", "tokens: [secret]",
                    "external: {url: \"http://a.test/x#y\"}", 10, "tunnels.web.auth.external.url",
                    "fragment"},
        InvalidCase{"ExternalZeroTimeout", "tokens: [secret]",
                    "external:\n        url: http://a.test/\n        timeout: 0\n", 12,
                    "tunnels.web.auth.external.timeout", "greater than zero"},
        InvalidCase{"ExternalLongTimeout", "tokens: [secret]",
                    "external:\n        url: http://a.test/\n        timeout: 2m\n", 12,
                    "tunnels.web.auth.external.timeout", "at most 1m"},
        InvalidCase{"ExternalLongCache", "tokens: [secret]",
                    "external:\n        url: http://a.test/\n        cache: 25h\n", 12,
                    "tunnels.web.auth.external.cache", "from 0 to 24h"},
        InvalidCase{"ExternalUnknownKey", "tokens: [secret]",
                    "external: {url: \"http://a.test/\", retries: 2}", 10,
                    "tunnels.web.auth.external.retries", "unknown key"}),
    test::case_name);

TEST(EdgeConfig, PublicLimitsAndTimeouts) {
  auto defaults = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->public_.max_header_bytes, 65536u);
  EXPECT_EQ(defaults->public_.max_header_fields, 100u);
  EXPECT_EQ(defaults->public_.max_body_bytes, 0u);
  EXPECT_EQ(defaults->public_.header_timeout, 10s);
  EXPECT_EQ(defaults->public_.idle_timeout, 60s);
  EXPECT_EQ(defaults->public_.stream_idle_timeout, 5min);

  auto loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "  http: :8080\n",
             "  http: :8080\n  max_header_bytes: 16KiB\n  max_header_fields: 50\n"
             "  max_body_bytes: 10MiB\n  header_timeout: 2s\n  idle_timeout: 30s\n"
             "  stream_idle_timeout: 1m\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->public_.max_header_bytes, 16384u);
  EXPECT_EQ(loaded->public_.max_header_fields, 50u);
  EXPECT_EQ(loaded->public_.max_body_bytes, 10u << 20);
  EXPECT_EQ(loaded->public_.header_timeout, 2s);
  EXPECT_EQ(loaded->public_.idle_timeout, 30s);
  EXPECT_EQ(loaded->public_.stream_idle_timeout, 1min);
}

INSTANTIATE_TEST_SUITE_P(
    PublicLimits, EdgeConfigInvalid,
    testing::Values(
        InvalidCase{"BadSize", "  http: :8080\n", "  http: :8080\n  max_body_bytes: 10MB\n", 6,
                    "public.max_body_bytes", "invalid size"},
        InvalidCase{"HeaderBytesTooSmall", "  http: :8080\n", "  http: :8080\n  max_header_bytes: 100\n",
                    6, "public.max_header_bytes", "from 1KiB to 1MiB"},
        InvalidCase{"HeaderFieldsZero", "  http: :8080\n", "  http: :8080\n  max_header_fields: 0\n", 6,
                    "public.max_header_fields", "must be from 1"},
        InvalidCase{"HeaderFieldsNegative", "  http: :8080\n",
                    "  http: :8080\n  max_header_fields: -1\n", 6, "public.max_header_fields",
                    "must not be negative"},
        InvalidCase{"ZeroHeaderTimeout", "  http: :8080\n", "  http: :8080\n  header_timeout: 0s\n", 6,
                    "public.header_timeout", "greater than zero"},
        InvalidCase{"ZeroIdleTimeout", "  http: :8080\n", "  http: :8080\n  idle_timeout: 0\n", 6,
                    "public.idle_timeout", "greater than zero"},
        InvalidCase{"ZeroStreamIdleTimeout", "  http: :8080\n",
                    "  http: :8080\n  stream_idle_timeout: 0ms\n", 6, "public.stream_idle_timeout",
                    "greater than zero"}),
    test::case_name);

TEST(EdgeConfig, DefencesDefaultsAndValues) {
  auto defaults = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->public_.limits.stream_resets.burst, 200u);
  EXPECT_EQ(defaults->public_.limits.stream_resets.rate, 20.0);
  EXPECT_EQ(defaults->public_.limits.connections_per_ip, 0u);
  EXPECT_FALSE(defaults->public_.limits.requests_per_ip.enabled());
  EXPECT_TRUE(defaults->public_.trusted_proxies.empty());
  EXPECT_FALSE(defaults->public_.verbose_errors);
  EXPECT_EQ(defaults->public_.first_byte_timeout, 30s);
  EXPECT_EQ(defaults->agents.max_response_header_bytes, 65536u);
  EXPECT_EQ(defaults->agents.limits.handshakes_per_ip.burst, 2000u);
  EXPECT_EQ(defaults->agents.limits.failures_per_ip.burst, 20u);
  EXPECT_EQ(defaults->agents.limits.handshakes.rate, 1000.0);

  auto loaded = load_edge_config_from_string(
      mutate(mutate(std::string(kBase), "  http: :8080\n",
                    "  http: :8080\n  first_byte_timeout: 5s\n  verbose_errors: true\n"
                    "  trusted_proxies: [10.0.0.0/8, \"::1\"]\n  route_by_forwarded_host: true\n"
                    "  limits: {stream_resets: off, connections_per_ip: 64,\n"
                    "           requests_per_ip: {rate: 0.5, burst: 10}}\n"),
             "  key: edge.key\n",
             "  key: edge.key\n  max_response_header_bytes: 16KiB\n"
             "  limits: {failures_per_ip: {rate: 2, burst: 5}, handshakes: off}\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const auto& pub = loaded->public_;
  EXPECT_EQ(pub.first_byte_timeout, 5s);
  EXPECT_TRUE(pub.verbose_errors);
  ASSERT_EQ(pub.trusted_proxies.size(), 2u);
  EXPECT_EQ(pub.trusted_proxies[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(pub.trusted_proxies[1].to_string(), "::1/128");
  EXPECT_TRUE(pub.route_by_forwarded_host);
  EXPECT_FALSE(pub.limits.stream_resets.enabled());
  EXPECT_EQ(pub.limits.connections_per_ip, 64u);
  EXPECT_EQ(pub.limits.requests_per_ip.rate, 0.5);
  EXPECT_EQ(pub.limits.requests_per_ip.burst, 10u);
  EXPECT_EQ(loaded->agents.max_response_header_bytes, 16384u);
  EXPECT_EQ(loaded->agents.limits.failures_per_ip.rate, 2.0);
  EXPECT_EQ(loaded->agents.limits.failures_per_ip.burst, 5u);
  EXPECT_FALSE(loaded->agents.limits.handshakes.enabled());
  EXPECT_TRUE(loaded->agents.limits.handshakes_per_ip.enabled());  // untouched: the default
}

INSTANTIATE_TEST_SUITE_P(
    Defences, EdgeConfigInvalid,
    testing::Values(
        InvalidCase{"RateLimitNotAMapping", "  http: :8080\n",
                    "  http: :8080\n  limits: {requests_per_ip: 5}\n", 6,
                    "public.limits.requests_per_ip", "expected off or {rate: N, burst: N}"},
        InvalidCase{"RateLimitZeroRate", "  http: :8080\n",
                    "  http: :8080\n  limits: {requests_per_ip: {rate: 0, burst: 5}}\n", 6,
                    "public.limits.requests_per_ip.rate", "above 0"},
        InvalidCase{"RateLimitZeroBurst", "  key: edge.key\n",
                    "  key: edge.key\n  limits: {failures_per_ip: {rate: 1, burst: 0}}\n", 4,
                    "agents.limits.failures_per_ip.burst", "at least 1"},
        InvalidCase{"RateLimitUnknownKey", "  key: edge.key\n",
                    "  key: edge.key\n  limits: {failures_per_ip: {rate: 1, burst: 2, per: s}}\n",
                    4, "agents.limits.failures_per_ip.per", "unknown key"},
        InvalidCase{"BadTrustedProxy", "  http: :8080\n",
                    "  http: :8080\n  trusted_proxies: [10.0.0.0/33]\n", 6,
                    "public.trusted_proxies[0]", "CIDR"},
        InvalidCase{"ForwardedHostWithoutTrustedProxies", "  http: :8080\n",
                    "  http: :8080\n  route_by_forwarded_host: true\n", 6,
                    "public.route_by_forwarded_host", "needs public.trusted_proxies"},
        InvalidCase{"ResponseHeaderBytesTooLarge", "  key: edge.key\n",
                    "  key: edge.key\n  max_response_header_bytes: 2MiB\n", 4,
                    "agents.max_response_header_bytes", "from 1KiB to 1MiB"}),
    test::case_name);

TEST(EdgeConfig, FlowWindowsAndStreams) {
  auto defaults = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->agents.windows.stream, 16u << 20);
  EXPECT_EQ(defaults->agents.windows.connection, 32u << 20);
  EXPECT_EQ(defaults->public_.windows.stream, 16u << 20);
  EXPECT_EQ(defaults->public_.max_concurrent_streams, 100u);

  auto loaded = load_edge_config_from_string(
      mutate(mutate(std::string(kBase), "  http: :8080\n",
                    "  http: :8080\n  stream_window: 1MiB\n  connection_window: 4MiB\n"
                    "  max_concurrent_streams: 10\n"),
             "  key: edge.key\n", "  key: edge.key\n  stream_window: 65535\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->public_.windows.stream, 1u << 20);
  EXPECT_EQ(loaded->public_.windows.connection, 4u << 20);
  EXPECT_EQ(loaded->public_.max_concurrent_streams, 10u);
  EXPECT_EQ(loaded->agents.windows.stream, 65535u);
  EXPECT_EQ(loaded->agents.windows.connection, 32u << 20);
}

INSTANTIATE_TEST_SUITE_P(
    FlowWindows, EdgeConfigInvalid,
    testing::Values(
        InvalidCase{"StreamWindowTooSmall", "  http: :8080\n",
                    "  http: :8080\n  stream_window: 1KiB\n", 6, "public.stream_window",
                    "from 65535 bytes"},
        InvalidCase{"ConnectionWindowPast2GiB", "  key: edge.key\n",
                    "  key: edge.key\n  connection_window: 4GiB\n", 4,
                    "agents.connection_window", "to 2GiB-1"},
        InvalidCase{"ZeroStreams", "  http: :8080\n",
                    "  http: :8080\n  max_concurrent_streams: 0\n", 6,
                    "public.max_concurrent_streams", "at least 1"}),
    test::case_name);

// ---- QUIC: agents.quic, public.h3, tunnels.<name>.reverst_group ----------

TEST(EdgeConfig, QuicIsOffByDefault) {
  auto loaded = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_FALSE(loaded->agents.quic.has_value());
  EXPECT_FALSE(loaded->public_.h3.has_value());
  EXPECT_EQ(loaded->tunnels.at(0).reverst_group, "web");  // the tunnel's name

  // Null means absent.
  loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "  key: edge.key\n", "  key: edge.key\n  quic:\n"), "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_FALSE(loaded->agents.quic.has_value());
}

TEST(EdgeConfig, QuicListenerDefaults) {
  auto loaded =
      load_edge_config_from_string(mutate(std::string(kBase), "  key: edge.key\n",
                                          "  key: edge.key\n  quic: {listen: \":8443\"}\n"),
                                   "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(loaded->agents.quic.has_value());
  const QuicListenerConfig& quic = *loaded->agents.quic;
  EXPECT_EQ(quic.listen, (ListenAddress{"0.0.0.0", 8443}));
  EXPECT_EQ(quic.settings, QuicSettings{});
  EXPECT_EQ(quic.settings.idle_timeout, 30s);
  EXPECT_EQ(quic.settings.keep_alive, 10s);
  EXPECT_EQ(quic.settings.handshake_timeout, 10s);
  EXPECT_EQ(quic.settings.max_streams, 1000u);
  EXPECT_EQ(quic.settings.windows, loaded->agents.windows);
  EXPECT_EQ(quic.settings.congestion_control, CongestionControl::bbr2);
  EXPECT_FALSE(quic.retry);
  EXPECT_EQ(quic.max_connections, 10000u);
}

TEST(EdgeConfig, QuicListenerKeys) {
  auto loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "  key: edge.key\n",
             "  key: edge.key\n"
             "  quic:\n"
             "    listen: \"[::]:4433\"\n"
             "    idle_timeout: 2m\n"
             "    keep_alive: 0\n"
             "    handshake_timeout: 3s\n"
             "    max_streams: 250\n"
             "    windows: {stream_window: 1MiB, connection_window: 4MiB}\n"
             "    congestion_control: cubic\n"
             "    retry: true\n"
             "    max_connections: 1\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(loaded->agents.quic.has_value());
  const QuicListenerConfig& quic = *loaded->agents.quic;
  EXPECT_EQ(quic.listen, (ListenAddress{"::", 4433}));
  EXPECT_EQ(quic.settings.idle_timeout, 2min);
  EXPECT_EQ(quic.settings.keep_alive, 0ms);
  EXPECT_EQ(quic.settings.handshake_timeout, 3s);
  EXPECT_EQ(quic.settings.max_streams, 250u);
  EXPECT_EQ(quic.settings.windows, (FlowWindows{1u << 20, 4u << 20}));
  EXPECT_EQ(quic.settings.congestion_control, CongestionControl::cubic);
  EXPECT_TRUE(quic.retry);
  EXPECT_EQ(quic.max_connections, 1u);
}

TEST(EdgeConfig, QuicWindowsDefaultToTheAgentWindows) {
  // agents.stream_window is written after agents.quic: the order in the file does not matter.
  auto loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "  key: edge.key\n",
             "  key: edge.key\n"
             "  quic: {listen: \":8443\", windows: {connection_window: 8MiB}}\n"
             "  stream_window: 2MiB\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->agents.quic->settings.windows, (FlowWindows{2u << 20, 8u << 20}));
  EXPECT_EQ(loaded->agents.windows, (FlowWindows{2u << 20, 32u << 20}));  // untouched by quic
}

TEST(EdgeConfig, PublicH3AndReverstGroup) {
  auto loaded = load_edge_config_from_string(
      mutate(mutate(std::string(kBase), "  http: :8080\n",
                    "  https: {listen: \":443\", cert: p.crt, key: p.key}\n"
                    "  h3: {listen: \":443\"}\n"),
             "", "    reverst_group: web-group\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(loaded->public_.h3.has_value());
  EXPECT_EQ(loaded->public_.h3->listen, (ListenAddress{"0.0.0.0", 443}));
  EXPECT_FALSE(loaded->public_.h3->retry);
  EXPECT_EQ(loaded->public_.h3->max_connections, 10000u);
  EXPECT_EQ(loaded->tunnels.at(0).reverst_group, "web-group");
  EXPECT_EQ(loaded->tunnels.at(0).reverst_group_name(), "web-group");

  loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "  http: :8080\n",
             "  https: {listen: \":443\", cert: p.crt, key: p.key}\n"
             "  h3: {listen: \":8443\", retry: true, max_connections: 5}\n"),
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->public_.h3->listen, (ListenAddress{"0.0.0.0", 8443}));
  EXPECT_TRUE(loaded->public_.h3->retry);
  EXPECT_EQ(loaded->public_.h3->max_connections, 5u);

  // Two tunnels may swap names as groups: each group is still claimed once.
  loaded = load_edge_config_from_string(
      std::string(kBase) +
          "    reverst_group: api\n"
          "  api:\n    hosts: [api.test]\n    auth: {tokens: [t]}\n    reverst_group: web\n",
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->tunnels.at(1).reverst_group, "web");
}

TEST(EdgeConfig, QuicRulesOnValuesSetAfterLoading) {
  auto loaded = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EdgeConfig config = *loaded;

  // Set in code without the loader: an empty group means the tunnel's name.
  config.tunnels[0].reverst_group.clear();
  EXPECT_EQ(config.tunnels[0].reverst_group_name(), "web");
  EXPECT_FALSE(validate_edge_config(config).has_value());

  config.public_.h3 = PublicH3Config{{"0.0.0.0", 443}};
  auto error = validate_edge_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(),
            "public.h3: needs public.https (HTTP/3 serves its certificate and key)");
  config.public_.https = HttpsListenerConfig{{"0.0.0.0", 443}, "/p.crt", "/p.key"};
  EXPECT_FALSE(validate_edge_config(config).has_value());
  config.public_.h3->max_connections = 0;
  error = validate_edge_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(), "public.h3.max_connections: must be at least 1");
  config.public_.h3->max_connections = 1;

  config.agents.quic.emplace().listen = ListenAddress{"0.0.0.0", 8443};
  EXPECT_FALSE(validate_edge_config(config).has_value());
  const struct {
    void (*change)(QuicListenerConfig&);
    const char* expected;
  } rows[] = {
      {[](QuicListenerConfig& q) { q.max_connections = 0; },
       "agents.quic.max_connections: must be at least 1"},
      {[](QuicListenerConfig& q) { q.settings.keep_alive = -1ms; },
       "agents.quic.keep_alive: must not be negative"},
      {[](QuicListenerConfig& q) { q.settings.handshake_timeout = 0ms; },
       "agents.quic.handshake_timeout: must be greater than zero"},
      {[](QuicListenerConfig& q) { q.settings.max_streams = 0; },
       "agents.quic.max_streams: must be from 1 to 1000000"},
      {[](QuicListenerConfig& q) { q.settings.windows.stream = 0; },
       "agents.quic.windows.stream_window: must be from 65535 bytes to 2GiB-1"},
  };
  for (const auto& row : rows) {
    EdgeConfig changed = config;
    row.change(*changed.agents.quic);
    error = validate_edge_config(changed);
    ASSERT_TRUE(error.has_value()) << row.expected;
    EXPECT_EQ(error->to_string(), row.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Quic, EdgeConfigInvalid,
    testing::Values(
        InvalidCase{"QuicWithoutListen", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {retry: true}\n", 4, "agents.quic.listen",
                    "missing required key"},
        InvalidCase{"QuicNotAMapping", "  key: edge.key\n", "  key: edge.key\n  quic: \":8443\"\n",
                    4, "agents.quic", "expected a mapping"},
        InvalidCase{"QuicUnknownKey", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", cert: q.crt}\n", 4,
                    "agents.quic.cert", "unknown key"},
        InvalidCase{"QuicBadListen", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: localhost}\n", 4, "agents.quic.listen",
                    "invalid address"},
        InvalidCase{"QuicIdleTimeoutTooShort", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", idle_timeout: 999ms}\n", 4,
                    "agents.quic.idle_timeout", "must be from 1s to 1h"},
        InvalidCase{"QuicIdleTimeoutTooLong", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", idle_timeout: 61m}\n", 4,
                    "agents.quic.idle_timeout", "must be from 1s to 1h"},
        InvalidCase{"QuicKeepAliveNotBelowIdleTimeout", "  key: edge.key\n",
                    "  key: edge.key\n  quic:\n    listen: \":1\"\n    idle_timeout: 10s\n"
                    "    keep_alive: 10s\n",
                    7, "agents.quic.keep_alive", "must be less than idle_timeout (or 0: off)"},
        InvalidCase{"QuicKeepAliveBadDuration", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", keep_alive: off}\n", 4,
                    "agents.quic.keep_alive", "invalid duration"},
        InvalidCase{"QuicZeroHandshakeTimeout", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", handshake_timeout: 0}\n", 4,
                    "agents.quic.handshake_timeout", "must be greater than zero"},
        InvalidCase{"QuicLongHandshakeTimeout", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", handshake_timeout: 2h}\n", 4,
                    "agents.quic.handshake_timeout", "must be at most 1h"},
        InvalidCase{"QuicZeroStreams", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", max_streams: 0}\n", 4,
                    "agents.quic.max_streams", "must be from 1 to 1000000"},
        InvalidCase{"QuicTooManyStreams", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", max_streams: 1000001}\n", 4,
                    "agents.quic.max_streams", "must be from 1 to 1000000"},
        InvalidCase{"QuicNegativeStreams", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", max_streams: -1}\n", 4,
                    "agents.quic.max_streams", "must not be negative"},
        InvalidCase{"QuicWindowTooSmall", "  key: edge.key\n",
                    "  key: edge.key\n  quic:\n    listen: \":1\"\n"
                    "    windows: {stream_window: 1KiB}\n",
                    6, "agents.quic.windows.stream_window", "from 65535 bytes"},
        InvalidCase{"QuicWindowsUnknownKey", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", windows: {stream: 1MiB}}\n", 4,
                    "agents.quic.windows.stream", "unknown key"},
        InvalidCase{"QuicRetryNotABool", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", retry: yes}\n", 4,
                    "agents.quic.retry", "expected true or false"},
        InvalidCase{"QuicUnknownCongestionControl", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", congestion_control: vegas}\n", 4,
                    "agents.quic.congestion_control", "expected bbr2 or cubic"},
        InvalidCase{"QuicZeroMaxConnections", "  key: edge.key\n",
                    "  key: edge.key\n  quic: {listen: \":1\", max_connections: 0}\n", 4,
                    "agents.quic.max_connections", "must be at least 1"},
        InvalidCase{"H3WithoutHttps", "  http: :8080\n",
                    "  http: :8080\n  h3: {listen: \":443\"}\n", 6, "public.h3",
                    "needs public.https"},
        InvalidCase{"H3BareAddress", "  http: :8080\n", "  http: :8080\n  h3: \":443\"\n", 6,
                    "public.h3", "expected a mapping"},
        InvalidCase{"H3WithoutListen", "  http: :8080\n", "  http: :8080\n  h3: {}\n", 6,
                    "public.h3.listen", "missing required key"},
        InvalidCase{"H3UnknownKey", "  http: :8080\n",
                    "  http: :8080\n  h3: {listen: \":443\", cert: c.crt}\n", 6, "public.h3.cert",
                    "unknown key"},
        InvalidCase{"BadReverstGroup", "", "    reverst_group: \"a b\"\n", 11,
                    "tunnels.web.reverst_group", "reverst group must be 1-63 characters"},
        InvalidCase{"EmptyReverstGroup", "", "    reverst_group: \"\"\n", 11,
                    "tunnels.web.reverst_group", "reverst group must be 1-63 characters"},
        InvalidCase{
            "ReverstGroupOfAnotherTunnel", "",
            "  api:\n    hosts: [x.test]\n    auth: {tokens: [t]}\n    reverst_group: web\n", 14,
            "tunnels.api.reverst_group", "reverst group \"web\" is already used by tunnel web"},
        InvalidCase{"ReverstGroupClaimsALaterTunnelsName", "",
                    "    reverst_group: api\n"
                    "  api:\n    hosts: [x.test]\n    auth: {tokens: [t]}\n",
                    12, "tunnels.api.reverst_group",
                    "reverst group \"api\" (the tunnel's name) is already used by tunnel web"}),
    test::case_name);

TEST(EdgeConfig, IntegerExpected) {
  auto loaded = load_edge_config_from_string(
      mutate(std::string(kBase), "  key: edge.key\n", "  key: edge.key\n  max_sessions_per_tunnel: many\n"),
      "edge.yaml");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().to_string(),
            "edge.yaml:4: agents.max_sessions_per_tunnel: expected an integer, got \"many\"");
}

TEST(EdgeConfig, EmptyDocumentIsAnError) {
  auto loaded = load_edge_config_from_string("# nothing\n", "edge.yaml");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().to_string(), "edge.yaml: the configuration is empty");
}

TEST(EdgeConfig, ValidateChecksValuesSetAfterLoading) {
  auto loaded = load_edge_config_from_string(kBase, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_FALSE(validate_edge_config(*loaded).has_value());

  EdgeConfig changed = *loaded;
  changed.tunnels[0].auth.client_names = {"agent-1"};  // as if from a flag, without a client CA
  auto error = validate_edge_config(changed);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->file, "");
  EXPECT_EQ(error->line, 0);
  EXPECT_EQ(error->key, "tunnels.web.auth.client_names");

  changed.agents.client_ca = "/pki/ca.crt";
  EXPECT_FALSE(validate_edge_config(changed).has_value());

  changed.agents.ping_timeout = 0ms;
  error = validate_edge_config(changed);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(), "agents.ping_timeout: must be greater than zero");
}

INSTANTIATE_TEST_SUITE_P(
    Allocate, EdgeConfigInvalid,
    testing::Values(
        InvalidCase{"AllocateEmpty", "", "    allocate: {lease: 1m}\n", 11, "tunnels.web.allocate",
                    "needs ports, hosts or both"},
        InvalidCase{"AllocateBadRange", "", "    allocate: {ports: 9100-9000}\n", 11,
                    "tunnels.web.allocate.ports", "last port is below its first"},
        InvalidCase{"AllocatePortZero", "", "    allocate: {ports: 0-10}\n", 11,
                    "tunnels.web.allocate.ports", "expected a port range"},
        InvalidCase{"AllocateHostsNotWildcard", "", "    allocate: {hosts: dev.example.test}\n", 11,
                    "tunnels.web.allocate.hosts", "expected \"*.\""},
        InvalidCase{"AllocateBindNotAnAddress", "",
                    "    allocate: {ports: 9000, bind: edge.test}\n", 11,
                    "tunnels.web.allocate.bind", "expected an IP address"},
        InvalidCase{"AllocateEvictWord", "", "    allocate: {ports: 9000, evict: oldest}\n", 11,
                    "tunnels.web.allocate.evict", "expected idle or none"},
        InvalidCase{"AllocateZeroLease", "", "    allocate: {ports: 9000, lease: 0s}\n", 11,
                    "tunnels.web.allocate.lease", "greater than zero"},
        InvalidCase{"AllocateRangesOverlap", "",
                    "    allocate: {ports: 9000-9010}\n  two:\n    allocate: {ports: 9010-9020}\n"
                    "    auth: {tokens: [t]}\n",
                    11, "tunnels.web.allocate.ports", "overlaps the ports of tunnel two"},
        InvalidCase{"AllocateTokenWithSpace", "", "    allocate: {ports: 9000, tokens: [\" t\"]}\n",
                    11, "tunnels.web.allocate.tokens[0]", "printable ASCII"},
        InvalidCase{"StaticTcpPortInsideARange", "",
                    "    tcp: [9005]\n    allocate: {ports: 9000-9010}\n", 11, "tunnels.web.tcp[0]",
                    "port 9005 is inside tunnels.web.allocate.ports"},
        InvalidCase{"StaticHostInsideAllocatedHosts", "[app.example.test]",
                    "[app.example.test]\n    allocate: {hosts: \"*.example.test\"}", 8,
                    "tunnels.web.hosts[0]", "is inside tunnels.web.allocate.hosts"}),
    test::case_name);

}  // namespace
}  // namespace dialback

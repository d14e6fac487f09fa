// Agent config: a full file round-trips; each invalid file names file:line:key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

#include "config/agent_config.hpp"
#include "config/config_rules.hpp"
#include "config_test_util.hpp"

namespace dialback {
namespace {

using namespace std::chrono_literals;
using test::InvalidCase;
using test::mutate;

constexpr std::string_view kFullAgent = R"(agent:
  node: laptop-1
  cluster: web-cluster
  tenant: acme
  labels: {zone: a, rack: r1}
tunnel: web
token: abc
ca: /pki/ca.crt
cert: /pki/agent.crt
key: /pki/agent.key
edges:
  - {address: edge.example.com:8443, connections: 3, transport: rhttp, server_name: edge.internal}
  - address: "[2001:db8::1]:443"
  - {address: envoy.example.com:9000, transport: envoy}
upstream: http://127.0.0.1:3000/api/
upstream_connect_timeout: 2s
upstream_response_timeout: 90s
ping_interval: 20s
ping_timeout: 250ms
drain_timeout: 0
)";

TEST(AgentConfig, FullFileRoundTrips) {
  auto loaded = load_agent_config_from_string(kFullAgent, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const AgentConfig& c = *loaded;
  EXPECT_EQ(c.agent.node, "laptop-1");
  EXPECT_EQ(c.agent.cluster, "web-cluster");
  EXPECT_EQ(c.agent.tenant, "acme");
  using Labels = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(c.agent.labels, (Labels{{"zone", "a"}, {"rack", "r1"}}));
  EXPECT_EQ(c.tunnel, "web");
  EXPECT_EQ(c.token, "abc");
  EXPECT_TRUE(c.token_file.empty());
  EXPECT_EQ(c.ca, "/pki/ca.crt");
  EXPECT_EQ(c.cert, "/pki/agent.crt");
  EXPECT_EQ(c.key, "/pki/agent.key");
  ASSERT_EQ(c.edges.size(), 3u);
  EXPECT_EQ(c.edges[2].transport, AgentTransport::envoy);
  EXPECT_EQ(to_string(c.edges[2].transport), "envoy");
  EXPECT_EQ(c.edges[0].host, "edge.example.com");
  EXPECT_EQ(c.edges[0].port, 8443);
  EXPECT_EQ(c.edges[0].connections, 3);
  EXPECT_EQ(c.edges[0].transport, AgentTransport::rhttp);
  EXPECT_EQ(c.edges[0].tls_name(), "edge.internal");
  EXPECT_EQ(c.edges[1].host, "2001:db8::1");
  EXPECT_EQ(c.edges[1].port, 443);
  EXPECT_EQ(c.edges[1].connections, 2);
  EXPECT_EQ(c.edges[1].transport, AgentTransport::h2);
  EXPECT_EQ(c.edges[1].tls_name(), "2001:db8::1");
  // `upstream:` is the single route "/".
  EXPECT_EQ(c.routes, (std::vector<AgentRoute>{
                          {"/", UpstreamUrl{"http://127.0.0.1:3000/api/", "127.0.0.1", 3000, "/api"}, false, ""}}));
  EXPECT_EQ(c.upstream_connect_timeout, 2s);
  EXPECT_EQ(c.upstream_response_timeout, 90s);
  EXPECT_EQ(c.ping_interval, 20s);
  EXPECT_EQ(c.ping_timeout, 250ms);
  EXPECT_EQ(c.drain_timeout, 0ms);
}

// The invalid cases below mutate this file; line numbers are on the right.
constexpr std::string_view kBase =
    "tunnel: web\n"                      // 1
    "token: secret\n"                    // 2
    "edges:\n"                           // 3
    "  - address: edge.test:8443\n"      // 4
    "upstream: http://127.0.0.1:3000\n";  // 5

TEST(AgentConfig, FlowWindows) {
  auto loaded = load_agent_config_from_string(
      std::string(kBase) + "stream_window: 2MiB\nconnection_window: 8MiB\n", "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->windows.stream, 2u << 20);
  EXPECT_EQ(loaded->windows.connection, 8u << 20);
  auto invalid = load_agent_config_from_string(std::string(kBase) + "stream_window: 100\n",
                                               "agent.yaml");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().key, "stream_window");
}

TEST(AgentConfig, MinimalFileGetsDefaults) {
  auto loaded = load_agent_config_from_string(kBase, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const AgentConfig& c = *loaded;
  const std::string pid_suffix = "-" + std::to_string(::getpid());
  EXPECT_TRUE(c.agent.node.ends_with(pid_suffix)) << c.agent.node;
  EXPECT_TRUE(is_valid_identity(c.agent.node)) << c.agent.node;
  EXPECT_TRUE(c.agent.cluster.empty());
  EXPECT_EQ(c.agent.tenant, "default");
  EXPECT_TRUE(c.agent.labels.empty());
  EXPECT_TRUE(c.ca.empty());
  EXPECT_EQ(c.edges.at(0).connections, 2);
  EXPECT_EQ(c.edges.at(0).transport, AgentTransport::h2);
  EXPECT_EQ(c.edges.at(0).tls_name(), "edge.test");
  ASSERT_EQ(c.routes.size(), 1u);
  EXPECT_EQ(c.routes[0].prefix, "/");
  EXPECT_EQ(c.routes[0].upstream.port, 3000);
  EXPECT_EQ(c.routes[0].upstream.base_path, "");
  EXPECT_FALSE(c.routes[0].h2c);
  EXPECT_TRUE(c.routes[0].host_rewrite.empty());
  EXPECT_EQ(c.upstream_connect_timeout, 5s);
  EXPECT_EQ(c.upstream_response_timeout, 60s);
  EXPECT_EQ(c.ping_interval, 15s);
  EXPECT_EQ(c.ping_timeout, 10s);
  EXPECT_EQ(c.drain_timeout, 30s);
}

class AgentConfigInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(AgentConfigInvalid, NamesFileLineAndKey) {
  const InvalidCase& c = GetParam();
  auto loaded = load_agent_config_from_string(mutate(std::string(kBase), c.find, c.replace), "agent.yaml");
  ASSERT_FALSE(loaded) << "expected an error";
  const ConfigError& e = loaded.error();
  EXPECT_EQ(e.file, "agent.yaml");
  EXPECT_EQ(e.line, c.line) << e.to_string();
  EXPECT_EQ(e.key, c.key) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Table, AgentConfigInvalid,
    testing::Values(
        InvalidCase{"UnknownTopLevelKey", "", "extra: 1\n", 6, "extra", "unknown key"},
        InvalidCase{"UnknownKeyInAgent", "tunnel: web\n", "agent:\n  nodes: x\ntunnel: web\n", 2,
                    "agent.nodes", "unknown key"},
        InvalidCase{"UnknownKeyInEdgeEntry", "  - address: edge.test:8443\n",
                    "  - address: edge.test:8443\n    port: 1\n", 5, "edges[0].port",
                    "unknown key"},
        InvalidCase{"TunnelNotAString", "tunnel: web", "tunnel: [web]", 1, "tunnel",
                    "expected a string"},
        InvalidCase{"EdgesNotAList", "edges:\n  - address: edge.test:8443\n",
                    "edges: edge.test:8443\n", 3, "edges", "expected a list"},
        InvalidCase{"EdgeEntryNotAMapping", "  - address: edge.test:8443\n", "  - edge.test:8443\n",
                    4, "edges[0]", "expected a mapping"},
        InvalidCase{"LabelsNotAMapping", "tunnel: web\n", "agent:\n  labels: [a]\ntunnel: web\n", 2,
                    "agent.labels", "expected a mapping"},
        InvalidCase{"ConnectionsNotAnInteger", "  - address: edge.test:8443\n",
                    "  - address: edge.test:8443\n    connections: two\n", 5,
                    "edges[0].connections", "expected an integer"},
        InvalidCase{"BadDuration", "", "ping_timeout: soon\n", 6, "ping_timeout",
                    "invalid duration"},
        InvalidCase{"BadAddressNoPort", "edge.test:8443", "edge.test", 4, "edges[0].address",
                    "invalid address"},
        InvalidCase{"BadAddressPortZero", "edge.test:8443", "edge.test:0", 4, "edges[0].address",
                    "from 1 to 65535"},
        InvalidCase{"BadTunnelIdentity", "tunnel: web", "tunnel: web!", 1, "tunnel",
                    "[A-Za-z0-9._-]"},
        InvalidCase{"BadNodeIdentity", "tunnel: web\n", "agent:\n  node: \"a b\"\ntunnel: web\n", 2,
                    "agent.node", "[A-Za-z0-9._-]"},
        InvalidCase{"BadLabelValue", "tunnel: web\n",
                    "agent:\n  labels:\n    zone: \"a,b\"\ntunnel: web\n", 3, "agent.labels.zone",
                    "label value"},
        InvalidCase{"MissingTunnel", "tunnel: web\n", "", 0, "tunnel", "missing required key"},
        InvalidCase{"MissingUpstream", "upstream: http://127.0.0.1:3000\n", "", 0, "upstream",
                    "missing required key (or routes, or tcp)"},
        InvalidCase{"MissingEdgeAddress", "address: edge.test:8443", "connections: 2", 4,
                    "edges[0].address", "missing required key"},
        InvalidCase{"EmptyEdges", "edges:\n  - address: edge.test:8443\n", "edges: []\n", 3,
                    "edges", "at least one edge"},
        InvalidCase{"TokenAndTokenFile", "", "token_file: token.txt\n", 6, "token_file",
                    "mutually exclusive"},
        InvalidCase{"UnreadableTokenFile", "token: secret",
                    "token_file: /nonexistent/dialback/token", 2, "token_file", "cannot read file"},
        InvalidCase{"CertWithoutKey", "", "cert: agent.crt\n", 6, "cert",
                    "cert and key must be given together"},
        InvalidCase{"KeyWithoutCert", "", "key: agent.key\n", 6, "key",
                    "cert and key must be given together"},
        InvalidCase{"RhttpWithoutClientCert", "  - address: edge.test:8443\n",
                    "  - address: edge.test:8443\n    transport: rhttp\n", 5, "edges[0].transport",
                    "needs a client certificate"},
        InvalidCase{"UnknownTransport", "  - address: edge.test:8443\n",
                    "  - address: edge.test:8443\n    transport: quic\n", 5, "edges[0].transport",
                    "unknown transport"},
        InvalidCase{"TooManyConnections", "  - address: edge.test:8443\n",
                    "  - address: edge.test:8443\n    connections: 65\n", 5, "edges[0].connections",
                    "from 1 to 64"},
        InvalidCase{"UpstreamNotHttp", "http://127.0.0.1:3000", "https://127.0.0.1:3000", 5,
                    "upstream", "only http://"},
        InvalidCase{"YamlSyntaxError", "  - address: edge.test:8443\n",
                    "  - {address: edge.test:8443\n", 5, "", "YAML syntax error"}),
    test::case_name);

// ---- transports h3, auto, reverst and the quic section ---------------------

TEST(AgentConfig, EveryTransportWordParsesAndPrints) {
  const std::pair<const char*, AgentTransport> words[] = {
      {"h2", AgentTransport::h2},          {"rhttp", AgentTransport::rhttp},
      {"envoy", AgentTransport::envoy},    {"h3", AgentTransport::h3},
      {"auto", AgentTransport::automatic}, {"reverst", AgentTransport::reverst},
      {"poll", AgentTransport::poll},
  };
  for (const auto& [word, transport] : words) {
    SCOPED_TRACE(word);
    EXPECT_EQ(parse_agent_transport(word), transport);
    EXPECT_EQ(to_string(transport), word);
    // The same words in an edge entry (rhttp needs a client certificate).
    auto loaded = load_agent_config_from_string(
        mutate(std::string(kBase), "  - address: edge.test:8443\n",
               std::string("  - address: edge.test:8443\n    transport: ") + word + "\n") +
            "cert: a.crt\nkey: a.key\n",
        "agent.yaml");
    ASSERT_TRUE(loaded) << loaded.error().to_string();
    EXPECT_EQ(loaded->edges.at(0).transport, transport);
  }
  EXPECT_FALSE(parse_agent_transport("automatic"));
  EXPECT_FALSE(parse_agent_transport("quic"));
  EXPECT_FALSE(parse_agent_transport("H3"));
}

TEST(AgentConfig, NewTransportsOnRcEdgesAndMixedEdges) {
  auto loaded = load_agent_config_from_string(
      "tunnel: web\ntoken: t\nedges:\n"
      "  - {address: 'rc://::@edge1.test:8443:1', transport: auto}\n"
      "  - {address: edge2.test:443, transport: h3}\n"
      "  - {address: reverst.test:8443, transport: reverst}\n"
      "  - address: edge3.test:8443\n"
      "upstream: http://127.0.0.1:3000\n",
      "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_EQ(loaded->edges.size(), 4u);
  EXPECT_EQ(loaded->edges[0].transport, AgentTransport::automatic);  // written: wins over envoy
  EXPECT_EQ(loaded->edges[1].transport, AgentTransport::h3);
  EXPECT_EQ(loaded->edges[2].transport, AgentTransport::reverst);
  EXPECT_EQ(loaded->edges[3].transport, AgentTransport::h2);
}

TEST(AgentConfig, QuicSectionDefaults) {
  auto loaded = load_agent_config_from_string(kBase, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->quic, QuicSettings{});
  EXPECT_EQ(loaded->quic.idle_timeout, 30s);
  EXPECT_EQ(loaded->quic.keep_alive, 10s);
  EXPECT_EQ(loaded->quic.handshake_timeout, 10s);
  EXPECT_EQ(loaded->quic.max_streams, 1000u);
  EXPECT_EQ(loaded->quic.windows, loaded->windows);
  EXPECT_EQ(loaded->quic.congestion_control, CongestionControl::bbr2);
  EXPECT_EQ(loaded->auto_transport.fallback_after, 3s);
  EXPECT_EQ(loaded->auto_transport.probe_interval, 5min);
}

TEST(AgentConfig, QuicSectionKeys) {
  auto loaded = load_agent_config_from_string(
      std::string(kBase) +
          "quic:\n"
          "  idle_timeout: 1h\n"
          "  keep_alive: 20s\n"
          "  handshake_timeout: 5s\n"
          "  max_streams: 1000000\n"
          "  windows: {stream_window: 65535, connection_window: 1MiB}\n"
          "  congestion_control: cubic\n"
          "  fallback_after: 500ms\n"
          "  probe_interval: 1m\n",
      "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->quic.idle_timeout, 1h);
  EXPECT_EQ(loaded->quic.keep_alive, 20s);
  EXPECT_EQ(loaded->quic.handshake_timeout, 5s);
  EXPECT_EQ(loaded->quic.max_streams, 1'000'000u);
  EXPECT_EQ(loaded->quic.windows, (FlowWindows{65535, 1u << 20}));
  EXPECT_EQ(loaded->quic.congestion_control, CongestionControl::cubic);
  EXPECT_EQ(loaded->auto_transport, (AutoTransportConfig{500ms, 1min}));
  EXPECT_EQ(loaded->windows, FlowWindows{});  // the HTTP/2 windows are not touched
}

TEST(AgentConfig, QuicWindowsDefaultToTheAgentWindows) {
  auto loaded =
      load_agent_config_from_string(std::string(kBase) +
                                        "quic: {keep_alive: 0, windows: {stream_window: 4MiB}}\n"
                                        "stream_window: 2MiB\nconnection_window: 8MiB\n",
                                    "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->quic.windows, (FlowWindows{4u << 20, 8u << 20}));
  EXPECT_EQ(loaded->quic.keep_alive, 0ms);  // off
}

TEST(AgentConfig, QuicRulesOnValuesSetAfterLoading) {
  auto loaded = load_agent_config_from_string(kBase, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const struct {
    void (*change)(AgentConfig&);
    const char* expected;
  } rows[] = {
      {[](AgentConfig& c) { c.quic.keep_alive = -1ms; }, "quic.keep_alive: must not be negative"},
      {[](AgentConfig& c) { c.quic.max_streams = 1'000'001; },
       "quic.max_streams: must be from 1 to 1000000"},
      {[](AgentConfig& c) { c.quic.windows.connection = 0x8000'0000u; },
       "quic.windows.connection_window: must be from 65535 bytes to 2GiB-1"},
      {[](AgentConfig& c) { c.auto_transport.fallback_after = 0ms; },
       "quic.fallback_after: must be greater than zero and at most 1m"},
      {[](AgentConfig& c) { c.auto_transport.probe_interval = 0ms; },
       "quic.probe_interval: must be from 1s to 24h"},
  };
  for (const auto& row : rows) {
    AgentConfig changed = *loaded;
    row.change(changed);
    auto error = validate_agent_config(changed);
    ASSERT_TRUE(error.has_value()) << row.expected;
    EXPECT_EQ(error->to_string(), row.expected);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Quic, AgentConfigInvalid,
    testing::Values(
        InvalidCase{"TransportListsEveryWord", "  - address: edge.test:8443\n",
                    "  - address: edge.test:8443\n    transport: automatic\n", 5,
                    "edges[0].transport",
                    "unknown transport \"automatic\": expected h2, rhttp, envoy, h3, auto, reverst "
                    "or poll"},
        InvalidCase{"QuicNotAMapping", "", "quic: on\n", 6, "quic", "expected a mapping"},
        InvalidCase{"QuicUnknownKey", "", "quic: {listen: \":443\"}\n", 6, "quic.listen",
                    "unknown key"},
        InvalidCase{"QuicRetryIsAnEdgeKey", "", "quic: {retry: true}\n", 6, "quic.retry",
                    "unknown key"},
        InvalidCase{"QuicIdleTimeoutTooShort", "", "quic: {idle_timeout: 500ms}\n", 6,
                    "quic.idle_timeout", "must be from 1s to 1h"},
        InvalidCase{"QuicIdleTimeoutTooLong", "", "quic: {idle_timeout: 2h}\n", 6,
                    "quic.idle_timeout", "must be from 1s to 1h"},
        InvalidCase{"QuicKeepAliveAboveIdleTimeout", "",
                    "quic: {idle_timeout: 5s, keep_alive: 6s}\n", 6, "quic.keep_alive",
                    "must be less than idle_timeout"},
        InvalidCase{"QuicKeepAliveAboveDefaultIdleTimeout", "", "quic:\n  keep_alive: 30s\n", 7,
                    "quic.keep_alive", "must be less than idle_timeout"},
        InvalidCase{"QuicZeroHandshakeTimeout", "", "quic: {handshake_timeout: 0ms}\n", 6,
                    "quic.handshake_timeout", "must be greater than zero"},
        InvalidCase{"QuicZeroStreams", "", "quic: {max_streams: 0}\n", 6, "quic.max_streams",
                    "must be from 1 to 1000000"},
        InvalidCase{"QuicStreamsNotAnInteger", "", "quic: {max_streams: lots}\n", 6,
                    "quic.max_streams", "expected an integer"},
        InvalidCase{"QuicWindowTooLarge", "", "quic: {windows: {connection_window: 2GiB}}\n", 6,
                    "quic.windows.connection_window", "to 2GiB-1"},
        InvalidCase{"QuicWindowsNotAMapping", "", "quic: {windows: 1MiB}\n", 6, "quic.windows",
                    "expected a mapping"},
        InvalidCase{"QuicZeroFallback", "", "quic: {fallback_after: 0}\n", 6, "quic.fallback_after",
                    "must be greater than zero and at most 1m"},
        InvalidCase{"QuicLongFallback", "", "quic: {fallback_after: 2m}\n", 6,
                    "quic.fallback_after", "must be greater than zero and at most 1m"},
        InvalidCase{"QuicFastProbe", "", "quic: {probe_interval: 999ms}\n", 6,
                    "quic.probe_interval", "must be from 1s to 24h"},
        InvalidCase{"QuicSlowProbe", "", "quic: {probe_interval: 25h}\n", 6, "quic.probe_interval",
                    "must be from 1s to 24h"}),
    test::case_name);

TEST(AgentConfig, TcpTargetWithOrWithoutRoutes) {
  auto tcp_only = load_agent_config_from_string(
      "tunnel: ssh\ntoken: t\nedges: [{address: edge.test:8443}]\n"
      "tcp: 127.0.0.1:22\nproxy_protocol: v2\n",
      "agent.yaml");
  ASSERT_TRUE(tcp_only) << tcp_only.error().to_string();
  EXPECT_TRUE(tcp_only->routes.empty());
  ASSERT_TRUE(tcp_only->tcp.has_value());
  EXPECT_EQ(tcp_only->tcp->address, (ListenAddress{"127.0.0.1", 22}));
  EXPECT_EQ(tcp_only->tcp->proxy_protocol, ProxyProtocol::v2);

  auto both =
      load_agent_config_from_string(std::string(kBase) + "tcp: \"[::1]:6379\"\n", "agent.yaml");
  ASSERT_TRUE(both) << both.error().to_string();
  EXPECT_EQ(both->routes.size(), 1u);
  EXPECT_EQ(both->tcp->address, (ListenAddress{"::1", 6379}));
  EXPECT_EQ(both->tcp->proxy_protocol, ProxyProtocol::none);
  EXPECT_FALSE(load_agent_config_from_string(kBase, "agent.yaml")->tcp.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Tcp, AgentConfigInvalid,
    testing::Values(InvalidCase{"TcpWithoutPort", "", "tcp: 127.0.0.1\n", 6, "tcp", "port"},
                    InvalidCase{"TcpWithoutHost", "", "tcp: \":22\"\n", 6, "tcp", "host"},
                    InvalidCase{"ProxyProtocolWithoutTcp", "", "proxy_protocol: v2\n", 6,
                                "proxy_protocol", "needs tcp"},
                    InvalidCase{"ProxyProtocolV1", "", "tcp: 127.0.0.1:22\nproxy_protocol: v1\n", 7,
                                "proxy_protocol", "expected none or v2"}),
    test::case_name);

TEST(AgentConfig, AllocateAsks) {
  auto loaded = load_agent_config_from_string(
      std::string(kBase) + "allocate: {port: auto, host: my-app}\n", "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->allocation.port_kind, AllocationRequest::Kind::any);
  EXPECT_EQ(loaded->allocation.host_kind, AllocationRequest::Kind::preferred);
  EXPECT_EQ(loaded->allocation.label, "my-app");
  auto port =
      load_agent_config_from_string(std::string(kBase) + "allocate: {port: 9005}\n", "agent.yaml");
  ASSERT_TRUE(port) << port.error().to_string();
  EXPECT_EQ(port->allocation.port, 9005);
  EXPECT_EQ(port->allocation.host_kind, AllocationRequest::Kind::none);
  EXPECT_TRUE(load_agent_config_from_string(kBase, "agent.yaml")->allocation.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Allocate, AgentConfigInvalid,
    testing::Values(InvalidCase{"AllocatePortWord", "", "allocate: {port: any}\n", 6,
                                "allocate.port", "expected auto or a port"},
                    InvalidCase{"AllocateHostWithDot", "", "allocate: {host: a.b}\n", 6,
                                "allocate.host", "expected auto or a DNS label"},
                    InvalidCase{"AllocateUnknownKey", "", "allocate: {ports: auto}\n", 6,
                                "allocate.ports", "unknown key"}),
    test::case_name);

TEST(AgentConfig, PollSection) {
  auto defaults = load_agent_config_from_string(kBase, "agent.yaml");
  ASSERT_TRUE(defaults) << defaults.error().to_string();
  EXPECT_EQ(defaults->poll.next_requests, 2);
  EXPECT_EQ(defaults->poll.send_requests, 2);
  auto loaded = load_agent_config_from_string(
      std::string(kBase) + "poll: {next_requests: 1, send_requests: 16}\n", "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->poll.next_requests, 1);
  EXPECT_EQ(loaded->poll.send_requests, 16);
}

INSTANTIATE_TEST_SUITE_P(
    Poll, AgentConfigInvalid,
    testing::Values(
        InvalidCase{"PollNoNextRequests", "", "poll: {next_requests: 0}\n", 6, "poll.next_requests",
                    "must be from 1 to 16"},
        InvalidCase{"PollTooManySends", "", "poll:\n  send_requests: 17\n", 7, "poll.send_requests",
                    "must be from 1 to 16"},
        InvalidCase{"PollUnknownKey", "", "poll: {pollers: 2}\n", 6, "poll.pollers", "unknown key"},
        InvalidCase{"PollNotAMapping", "", "poll: 2\n", 6, "poll", "expected a mapping"}),
    test::case_name);

TEST(AgentConfig, ValidateAfterFlagsReportsTheKey) {
  auto loaded = load_agent_config_from_string(kBase, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  AgentConfig changed = *loaded;
  changed.edges[0].transport = AgentTransport::rhttp;  // as if from --transport
  auto error = validate_agent_config(changed);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(), "edges[0].transport: rhttp needs a client certificate (cert and key)");
  changed.cert = "/pki/agent.crt";
  changed.key = "/pki/agent.key";
  EXPECT_FALSE(validate_agent_config(changed).has_value());
  changed.tunnel = "";
  error = validate_agent_config(changed);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->key, "tunnel");
}

TEST(AgentConfig, TokenFileIsReadTrimmedAndResolvedAgainstTheConfigDirectory) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.write("conf/secrets/token", "  s3cret-token \n\n");
  const auto config = dir.write(
      "conf/agent.yaml",
      "tunnel: web\ntoken_file: secrets/token\nca: ../pki/ca.crt\ncert: /abs/agent.crt\nkey: agent.key\n"
      "edges: [{address: 'edge.test:8443'}]\nupstream: http://localhost\n");
  auto loaded = load_agent_config(config.string());
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->token, "s3cret-token");
  EXPECT_EQ(loaded->token_file, (dir.path() / "conf/secrets/token").string());
  EXPECT_EQ(loaded->ca, (dir.path() / "pki/ca.crt").string());
  EXPECT_EQ(loaded->cert, "/abs/agent.crt");
  EXPECT_EQ(loaded->key, (dir.path() / "conf/agent.key").string());
  EXPECT_EQ(loaded->routes.at(0).upstream.port, 80);
}

TEST(AgentConfig, UserAndPasswordFile) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  dir.write("conf/secrets/password", "  pass-w0rd \n");
  const auto config = dir.write("conf/agent.yaml",
                                "tunnel: web\nuser: agent-1\npassword_file: secrets/password\n"
                                "edges: [{address: 'edge.test:8443'}]\nupstream: http://localhost\n");
  auto loaded = load_agent_config(config.string());
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->user, "agent-1");
  EXPECT_EQ(loaded->password, "pass-w0rd");
  EXPECT_EQ(loaded->password_file, (dir.path() / "conf/secrets/password").string());
  EXPECT_TRUE(loaded->token.empty());

  // A user alone loads: the CLI may still add DIALBACK_PASSWORD (and then
  // refuses to start without a password).
  auto user_only = load_agent_config_from_string(
      mutate(std::string(kBase), "token: secret\n", "user: agent-1\n"), "agent.yaml");
  ASSERT_TRUE(user_only) << user_only.error().to_string();
  EXPECT_EQ(user_only->user, "agent-1");
  EXPECT_TRUE(user_only->password.empty());

  const auto empty = dir.write("empty", "\n");
  auto read = read_secret_file(empty.string(), "password_file");
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().key, "password_file");
  EXPECT_NE(read.error().message.find("the password file is empty"), std::string::npos);
}

TEST(AgentConfig, BasicRulesOnValuesSetAfterLoading) {
  auto loaded = load_agent_config_from_string(kBase, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  AgentConfig config = *loaded;
  config.user = "agent-1";  // as if from --user, with the file's token
  auto error = validate_agent_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(), "user: token and user are mutually exclusive");
  config.token.clear();
  config.password = "pw";
  EXPECT_FALSE(validate_agent_config(config).has_value());
  config.user = "a:b";
  error = validate_agent_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->key, "user");
  config.user.clear();
  error = validate_agent_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(), "password: a password needs user");
  config.user = "agent-1";
  config.password = "two words";
  config.password_file = "/run/secrets/pw";
  error = validate_agent_config(config);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->key, "password_file");
  EXPECT_EQ(error->message.find("two words"), std::string::npos);
}

class AgentBasicInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(AgentBasicInvalid, NamesFileLineAndKey) {
  const InvalidCase& c = GetParam();
  auto loaded = load_agent_config_from_string(mutate(std::string(kBase), c.find, c.replace), "agent.yaml");
  ASSERT_FALSE(loaded) << "expected an error";
  EXPECT_EQ(loaded.error().line, c.line) << loaded.error().to_string();
  EXPECT_EQ(loaded.error().key, c.key) << loaded.error().to_string();
  EXPECT_NE(loaded.error().message.find(c.message), std::string::npos) << loaded.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Table, AgentBasicInvalid,
    testing::Values(
        InvalidCase{"TokenAndUser", "", "user: agent-1\n", 6, "user", "token and user are mutually exclusive"},
        InvalidCase{"PasswordFileWithoutUser", "token: secret\n", "password_file: pw.txt\n", 2,
                    "password_file", "password_file needs user"},
        InvalidCase{"UnreadablePasswordFile", "token: secret\n",
                    "user: agent-1\npassword_file: /nonexistent/dialback/pw\n", 3, "password_file",
                    "cannot read file"},
        InvalidCase{"UserWithColon", "token: secret\n", "user: \"a:b\"\n", 2, "user",
                    "without spaces or ':'"}),
    test::case_name);

TEST(AgentConfig, EmptyTokenFileIsAnError) {
  test::TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const auto token = dir.write("token", " \n");
  auto read = read_token_file(token.string());
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().key, "token_file");
  EXPECT_NE(read.error().message.find("empty"), std::string::npos) << read.error().message;
}

// Envoy's address form, rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT, in edges[i].address.
TEST(AgentConfig, RcAddressSetsIdentityCountAndEnvoyTransport) {
  auto loaded = load_agent_config_from_string(
      "tunnel: web\ntoken: t\nedges:\n"
      "  - address: rc://node-1:web:acme@edge.example.com:8443:2\n"
      "upstream: http://127.0.0.1:3000\n",
      "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const AgentConfig& c = *loaded;
  EXPECT_EQ(c.agent.node, "node-1");
  EXPECT_EQ(c.agent.cluster, "web");
  EXPECT_EQ(c.agent.tenant, "acme");
  ASSERT_EQ(c.edges.size(), 1u);
  EXPECT_EQ(c.edges[0].host, "edge.example.com");
  EXPECT_EQ(c.edges[0].port, 8443);
  EXPECT_EQ(c.edges[0].connections, 2);
  EXPECT_EQ(c.edges[0].transport, AgentTransport::envoy);
  EXPECT_TRUE(c.edges[0].rc);
  EXPECT_EQ(c.edges[0].address_identity, (AddressIdentity{"node-1", "web", "acme"}));
  EXPECT_EQ(c.edges[0].tls_name(), "edge.example.com");
}

TEST(AgentConfig, RcAddressEmptyPartsKeepDefaultsAndExplicitKeysWin) {
  auto loaded = load_agent_config_from_string(
      "agent: {tenant: acme}\ntunnel: web\ntoken: t\nedges:\n"
      "  - {address: 'rc://::@[::1]:8443:3', transport: h2, connections: 5}\n"
      "  - {address: 'rc://:blue:acme@edge2.test:9000:1', server_name: edge.internal}\n"
      "  - address: edge3.test:443\n"
      "upstream: http://127.0.0.1:3000\n",
      "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const AgentConfig& c = *loaded;
  EXPECT_TRUE(c.agent.node.ends_with("-" + std::to_string(::getpid())))
      << c.agent.node;                 // default kept
  EXPECT_EQ(c.agent.cluster, "blue");  // from the second edge
  EXPECT_EQ(c.agent.tenant, "acme");   // agent.tenant, and the second edge agrees
  ASSERT_EQ(c.edges.size(), 3u);
  EXPECT_EQ(c.edges[0].host, "::1");
  EXPECT_EQ(c.edges[0].connections, 3);                 // COUNT wins over connections
  EXPECT_EQ(c.edges[0].transport, AgentTransport::h2);  // transport written: kept
  EXPECT_EQ(c.edges[1].transport, AgentTransport::envoy);
  EXPECT_EQ(c.edges[1].connections, 1);
  EXPECT_EQ(c.edges[1].tls_name(), "edge.internal");
  EXPECT_FALSE(c.edges[2].rc);
  EXPECT_EQ(c.edges[2].transport, AgentTransport::h2);  // host:port edges as before
  EXPECT_EQ(c.edges[2].connections, 2);
}

INSTANTIATE_TEST_SUITE_P(
    RcAddress, AgentConfigInvalid,
    testing::Values(
        InvalidCase{"RcMissingAt", "edge.test:8443", "rc://n:c:t", 4, "edges[0].address",
                    "missing '@'"},
        InvalidCase{"RcBadPort", "edge.test:8443", "rc://::@edge.test:0:1", 4, "edges[0].address",
                    "port must be a number from 1 to 65535"},
        InvalidCase{"RcCountOutOfRange", "edge.test:8443", "rc://::@edge.test:8443:65", 4,
                    "edges[0].address", "COUNT must be a number from 1 to 64"},
        InvalidCase{"RcBadTenant", "edge.test:8443", "'rc://n:c:a b@edge.test:8443:1'", 4,
                    "edges[0].address", "tenant \"a b\" must be 1-63 characters of [A-Za-z0-9._-]"},
        InvalidCase{"RcTooFewColons", "edge.test:8443", "rc://n:c@edge.test:8443:1", 4,
                    "edges[0].address", "expected NODE:CLUSTER:TENANT before '@'"},
        InvalidCase{"RcTooManyColons", "edge.test:8443", "rc://::@edge.test:8443:1:1", 4,
                    "edges[0].address", "expected HOST:PORT:COUNT after '@'"},
        InvalidCase{"RcEdgesDisagree", "  - address: edge.test:8443\n",
                    "  - address: rc://a:web:t@h1:1:1\n  - address: rc://b:web:t@h2:1:1\n", 5,
                    "edges[1].address",
                    "the rc:// address for h2:1 names node \"b\" but edges[0].address names \"a\""},
        InvalidCase{"RcDisagreesWithAgentKey",
                    "tunnel: web\ntoken: secret\nedges:\n  - address: edge.test:8443\n",
                    "agent:\n  cluster: red\ntunnel: web\ntoken: secret\nedges:\n"
                    "  - address: rc://:blue:@edge.test:8443:1\n",
                    6, "edges[0].address",
                    "the rc:// address for edge.test:8443 names cluster \"blue\" but agent.cluster "
                    "is \"red\""},
        InvalidCase{"RcDisagreesWithDefaultTenantWritten",
                    "tunnel: web\ntoken: secret\nedges:\n  - address: edge.test:8443\n",
                    "agent: {tenant: default}\ntunnel: web\ntoken: secret\nedges:\n"
                    "  - address: rc://::acme@edge.test:8443:1\n",
                    5, "edges[0].address", "but agent.tenant is \"default\""}),
    test::case_name);

TEST(AgentConfig, RcIdentityAgreesAfterFlags) {
  auto loaded = load_agent_config_from_string(
      "tunnel: web\ntoken: t\nedges:\n  - address: rc://::acme@edge.test:8443:1\n"
      "upstream: http://127.0.0.1:3000\n",
      "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  AgentConfig changed = *loaded;
  // As the CLI does for --tenant beta: the flag is explicit, the edge disagrees.
  changed.agent.tenant = "beta";
  changed.agent.set_by.tenant = "--tenant";
  auto conflict = apply_address_identities(
      changed, [](std::size_t i) { return "edges[" + std::to_string(i) + "].address"; });
  ASSERT_TRUE(conflict.has_value());
  EXPECT_EQ(conflict->key, "edges[0].address");
  EXPECT_NE(conflict->message.find("names tenant \"acme\" but --tenant is \"beta\""),
            std::string::npos)
      << conflict->message;
  // validate_agent_config refuses the same disagreement on its own.
  auto invalid = validate_agent_config(changed);
  ASSERT_TRUE(invalid.has_value());
  EXPECT_EQ(invalid->key, "edges[0].address");
  EXPECT_NE(invalid->message.find("names tenant \"acme\""), std::string::npos) << invalid->message;
  // The same value is no conflict.
  changed.agent.tenant = "acme";
  EXPECT_FALSE(apply_address_identities(changed, [](std::size_t) {
                 return std::string("--edge");
               }).has_value());
  EXPECT_FALSE(validate_agent_config(changed).has_value());
}

TEST(AgentConfig, RcIdentityFromTwoFlagEdgesNamesBothAddresses) {
  AgentConfig config;
  config.agent.node = "default-node";
  EdgeTargetConfig first;
  first.host = "h1";
  first.port = 1;
  first.rc = true;
  first.address_identity.node = "a";
  EdgeTargetConfig second = first;
  second.host = "h2";
  second.address_identity.node = "b";
  config.edges = {first, second};
  auto conflict =
      apply_address_identities(config, [](std::size_t) { return std::string("--edge"); });
  ASSERT_TRUE(conflict.has_value());
  EXPECT_EQ(conflict->key, "--edge");
  EXPECT_EQ(conflict->message,
            "the rc:// address for h2:1 names node \"b\" but the --edge for h1:1 names \"a\" "
            "(node, cluster "
            "and tenant are agent-wide)");
}

}  // namespace
}  // namespace dialback

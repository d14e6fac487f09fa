// The edge's devtunnel section (docs/devtunnel.md): defaults, values, and
// the errors that name file, line and key.
#include <gtest/gtest.h>

#include "config/edge_config.hpp"
#include "config_test_util.hpp"

namespace dialback {
namespace {

using namespace std::chrono_literals;

// An edge for DevTunnel clients only: no tunnels, no public section.
constexpr std::string_view kDevTunnelOnly =
    "agents:\n"                    // 1
    "  cert: edge.crt\n"           // 2
    "  key: edge.key\n"            // 3
    "devtunnel:\n"                 // 4
    "  listen: 127.0.0.1:8000\n";  // 5

TEST(DevTunnelConfig, DefaultsAreDevTunnels) {
  auto loaded = load_edge_config_from_string(kDevTunnelOnly, "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  ASSERT_TRUE(loaded->devtunnel.has_value());
  const DevTunnelConfig& dev = *loaded->devtunnel;
  EXPECT_EQ(dev.listen, (ListenAddress{"127.0.0.1", 8000}));
  EXPECT_EQ(dev.first_port, 9000);
  EXPECT_EQ(dev.last_port, 9004);
  EXPECT_EQ(dev.bind, "0.0.0.0");
  EXPECT_EQ(dev.tunnel, "devtunnel");
  EXPECT_TRUE(dev.allow.empty());
  EXPECT_EQ(dev.poll_timeout, 30s);
  EXPECT_EQ(dev.request_timeout, 30s);
  EXPECT_EQ(dev.offline_after, 30s);
  EXPECT_EQ(dev.queue, 200u);
  EXPECT_TRUE(loaded->tunnels.empty());
}

TEST(DevTunnelConfig, EveryKey) {
  auto loaded = load_edge_config_from_string(
      std::string(kDevTunnelOnly) +
          "  ports: 9100-9199\n  bind: 127.0.0.1\n  tunnel: dev-users\n"
          "  allow: [10.0.0.0/8, \"::1\"]\n  poll_timeout: 20s\n  request_timeout: 1m\n"
          "  offline_after: 45s\n  queue: 10\n  max_body_bytes: 1MiB\n"
          "tunnels:\n  web:\n    hosts: [app.example.test]\n    auth: {tokens: [t]}\n"
          "public: {http: \":8080\"}\n",
      "edge.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const DevTunnelConfig& dev = *loaded->devtunnel;
  EXPECT_EQ(dev.first_port, 9100);
  EXPECT_EQ(dev.last_port, 9199);
  EXPECT_EQ(dev.bind, "127.0.0.1");
  EXPECT_EQ(dev.tunnel, "dev-users");
  EXPECT_EQ(dev.allow.size(), 2u);
  EXPECT_EQ(dev.poll_timeout, 20s);
  EXPECT_EQ(dev.request_timeout, 1min);
  EXPECT_EQ(dev.offline_after, 45s);
  EXPECT_EQ(dev.queue, 10u);
  EXPECT_EQ(dev.max_body_bytes, 1u << 20);
  EXPECT_EQ(loaded->tunnels.size(), 1u);
}

struct DevTunnelInvalid : testing::TestWithParam<test::InvalidCase> {};

TEST_P(DevTunnelInvalid, NamesFileLineAndKey) {
  const auto& c = GetParam();
  auto loaded = load_edge_config_from_string(
      test::mutate(std::string(kDevTunnelOnly), c.find, c.replace), "edge.yaml");
  ASSERT_FALSE(loaded) << c.name;
  EXPECT_EQ(loaded.error().line, c.line);
  EXPECT_EQ(loaded.error().key, c.key);
  EXPECT_NE(loaded.error().message.find(c.message), std::string::npos) << loaded.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DevTunnelInvalid,
    testing::Values(
        test::InvalidCase{"NoListen", "  listen: 127.0.0.1:8000\n", "  bind: 127.0.0.1\n", 4,
                          "devtunnel.listen", "missing"},
        test::InvalidCase{"BadRange", "", "  ports: 9004-9000\n", 6, "devtunnel.ports",
                          "below its first"},
        test::InvalidCase{"BindNotAnAddress", "", "  bind: dev.test\n", 6, "devtunnel.bind",
                          "expected an IP address"},
        test::InvalidCase{"BadTunnelName", "", "  tunnel: \"dev users\"\n", 6, "devtunnel.tunnel",
                          "1-63 characters"},
        test::InvalidCase{"TunnelNameTaken", "",
                          "  tunnel: web\ntunnels:\n  web:\n    tcp: [2222]\n"
                          "    auth: {tokens: [t]}\n",
                          6, "devtunnel.tunnel", "is a configured tunnel"},
        test::InvalidCase{"ZeroQueue", "", "  queue: 0\n", 6, "devtunnel.queue", ""},
        test::InvalidCase{"ZeroPollTimeout", "", "  poll_timeout: 0s\n", 6,
                          "devtunnel.poll_timeout", "greater than zero"},
        test::InvalidCase{"BadAllow", "", "  allow: [nowhere]\n", 6, "devtunnel.allow[0]", ""},
        test::InvalidCase{"UnknownKey", "", "  token: x\n", 6, "devtunnel.token", "unknown"}),
    test::case_name);

}  // namespace
}  // namespace dialback

// Proxy settings: proxy URLs as curl reads HTTPS_PROXY, NO_PROXY lists,
// and the agent file's `proxy:` key.
#include <gtest/gtest.h>

#include <string>

#include "config/agent_config.hpp"
#include "config/no_proxy_list.hpp"
#include "config/proxy_url.hpp"

namespace dialback {
namespace {

ProxyUrl proxy(std::string host, std::uint16_t port, std::string user = "",
               std::string password = "") {
  return ProxyUrl{std::move(host), port, std::move(user), std::move(password)};
}

TEST(ProxyUrl, ParsesTheFormsCurlAccepts) {
  const std::pair<const char*, ProxyUrl> cases[] = {
      {"http://proxy.test:3128", proxy("proxy.test", 3128)},
      {"HTTP://proxy.test:3128/", proxy("proxy.test", 3128)},
      {"proxy.test:3128", proxy("proxy.test", 3128)},
      {"http://proxy.test", proxy("proxy.test", 1080)},
      {"http://10.0.0.1:8080", proxy("10.0.0.1", 8080)},
      {"http://[::1]:8080", proxy("::1", 8080)},
      {"http://[::1]", proxy("::1", 1080)},
      {"http://alice:s3cret@proxy.test:3128", proxy("proxy.test", 3128, "alice", "s3cret")},
      {"http://alice@proxy.test:3128", proxy("proxy.test", 3128, "alice", "")},
      {"http://a%40b:p%3Aw%25@proxy.test:1", proxy("proxy.test", 1, "a@b", "p:w%")},
      {"http://alice:p@ss@proxy.test:1", proxy("proxy.test", 1, "alice", "p@ss")},
  };
  for (const auto& [text, expected] : cases) {
    auto parsed = parse_proxy_url(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error();
    EXPECT_EQ(*parsed, expected) << text;
  }
}

TEST(ProxyUrl, RejectsWhatItCannotUseWithoutEchoingThePassword) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://alice:s3cret@proxy.test:443", "only http:// proxies"},
      {"socks5://proxy.test:1080", "only http:// proxies"},
      {"http://proxy.test:3128/path", "a path, query or fragment"},
      {"http://proxy.test:3128?x", "a path, query or fragment"},
      {"http://", "missing host"},
      {"http://alice:s3cret@", "missing host"},
      {"http://:s3cret@proxy.test:1", "empty user name"},
      {"http://alice:s3cret%zz@proxy.test:1", "%-escape"},
      {"http://alice:s3cret%4@proxy.test:1", "%-escape"},
      {"http://proxy.test:0", "expected http://"},
      {"http://proxy.test:70000", "expected http://"},
      {"http://[::1:80", "expected http://"},
  };
  for (const auto& [text, message] : cases) {
    auto parsed = parse_proxy_url(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_NE(parsed.error().find(message), std::string::npos) << text << ": " << parsed.error();
    EXPECT_EQ(parsed.error().find("s3cret"), std::string::npos) << text << ": " << parsed.error();
  }
}

TEST(ProxyUrl, DisplayLeavesThePasswordOut) {
  EXPECT_EQ(proxy("proxy.test", 3128, "alice", "s3cret").display(), "http://alice@proxy.test:3128");
  EXPECT_EQ(proxy("::1", 8080).display(), "http://[::1]:8080");
}

TEST(NoProxyList, MatchesDomainsAddressesAndRanges) {
  const NoProxyList list =
      NoProxyList::parse(" example.com,.internal.test  10.0.0.0/8, [::1], 192.168.1.7,,LOCALHOST ");
  for (const char* host :
       {"example.com", "edge.example.com", "EDGE.Example.Com.", "a.internal.test", "internal.test",
        "10.2.3.4", "::1", "192.168.1.7", "localhost"}) {
    EXPECT_TRUE(list.matches(host)) << host;
  }
  for (const char* host : {"badexample.com", "example.com.evil.test", "11.0.0.1", "::2",
                           "192.168.1.8", "edge.test", "localhost.test"}) {
    EXPECT_FALSE(list.matches(host)) << host;
  }
}

TEST(NoProxyList, StarMatchesEverythingAndEmptyNothing) {
  EXPECT_TRUE(NoProxyList::parse("*").matches("edge.test"));
  EXPECT_TRUE(NoProxyList::parse("a.test, *").matches("10.0.0.1"));
  EXPECT_FALSE(NoProxyList::parse("").matches("edge.test"));
  EXPECT_FALSE(NoProxyList::parse(" , ,").matches("edge.test"));
}

constexpr std::string_view kAgent =
    "tunnel: web\n"                       // 1
    "token: secret\n"                     // 2
    "edges:\n"                            // 3
    "  - address: edge.test:8443\n"       // 4
    "upstream: http://127.0.0.1:3000\n";  // 5

TEST(AgentConfigProxy, KeyParsesEmptyTurnsItOffAndAbsentLeavesItUnset) {
  auto loaded = load_agent_config_from_string(
      std::string(kAgent) + "proxy: http://u:p@px.test:3128\n", "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->proxy.url, proxy("px.test", 3128, "u", "p"));
  EXPECT_EQ(loaded->proxy.source, "proxy");

  auto off = load_agent_config_from_string(std::string(kAgent) + "proxy: \"\"\n", "agent.yaml");
  ASSERT_TRUE(off) << off.error().to_string();
  EXPECT_EQ(off->proxy.url, std::nullopt);
  EXPECT_EQ(off->proxy.source, "proxy");

  auto unset = load_agent_config_from_string(kAgent, "agent.yaml");
  ASSERT_TRUE(unset) << unset.error().to_string();
  EXPECT_EQ(unset->proxy.url, std::nullopt);
  EXPECT_EQ(unset->proxy.source, "");
}

TEST(AgentConfigProxy, BadUrlNamesFileLineAndKey) {
  auto loaded = load_agent_config_from_string(std::string(kAgent) + "proxy: socks5://px.test\n",
                                              "agent.yaml");
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().file, "agent.yaml");
  EXPECT_EQ(loaded.error().line, 6);
  EXPECT_EQ(loaded.error().key, "proxy");
  EXPECT_NE(loaded.error().message.find("only http://"), std::string::npos)
      << loaded.error().message;
}

}  // namespace
}  // namespace dialback

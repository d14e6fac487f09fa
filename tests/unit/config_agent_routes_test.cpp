// Agent routes (`routes:` / `upstream:`): parsing, defaults, and each invalid
// file naming file:line:key.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "config_test_util.hpp"

namespace dialback {
namespace {

using test::InvalidCase;
using test::mutate;

// Line numbers on the right; the invalid cases below mutate this file.
constexpr std::string_view kRoutes =
    "tunnel: web\n"                                  // 1
    "token: secret\n"                                // 2
    "edges:\n"                                       // 3
    "  - address: edge.test:8443\n"                  // 4
    "routes:\n"                                      // 5
    "  - path: /api\n"                               // 6
    "    upstream: http://127.0.0.1:4000/base\n"     // 7
    "  - {path: /, upstream: \"http://127.0.0.1:3000\", h2c: true, host: internal.example:8080}\n";  // 8

TEST(AgentRoutes, ListIsReadInFileOrder) {
  auto loaded = load_agent_config_from_string(kRoutes, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  const std::vector<AgentRoute> expected = {
      {"/api", UpstreamUrl{"http://127.0.0.1:4000/base", "127.0.0.1", 4000, "/base"}, false, ""},
      {"/", UpstreamUrl{"http://127.0.0.1:3000", "127.0.0.1", 3000, ""}, true, "internal.example:8080"},
  };
  EXPECT_EQ(loaded->routes, expected);
}

TEST(AgentRoutes, NullUpstreamCountsAsAbsent) {
  auto loaded = load_agent_config_from_string(std::string(kRoutes) + "upstream:\n", "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->routes.size(), 2u);
}

TEST(AgentRoutes, HostMayBeAnIpv6LiteralWithPort) {
  auto loaded = load_agent_config_from_string(
      mutate(std::string(kRoutes), "host: internal.example:8080", "host: \"[::1]:8080\""), "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_EQ(loaded->routes.at(1).host_rewrite, "[::1]:8080");
}

class AgentRoutesInvalid : public testing::TestWithParam<InvalidCase> {};

TEST_P(AgentRoutesInvalid, NamesFileLineAndKey) {
  const InvalidCase& c = GetParam();
  auto loaded =
      load_agent_config_from_string(mutate(std::string(kRoutes), c.find, c.replace), "agent.yaml");
  ASSERT_FALSE(loaded) << "expected an error";
  const ConfigError& e = loaded.error();
  EXPECT_EQ(e.file, "agent.yaml");
  EXPECT_EQ(e.line, c.line) << e.to_string();
  EXPECT_EQ(e.key, c.key) << e.to_string();
  EXPECT_NE(e.message.find(c.message), std::string::npos) << e.to_string();
}

constexpr std::string_view kFirstRoute = "  - path: /api\n    upstream: http://127.0.0.1:4000/base\n";
constexpr std::string_view kRoutesBlock =
    "routes:\n"
    "  - path: /api\n"
    "    upstream: http://127.0.0.1:4000/base\n"
    "  - {path: /, upstream: \"http://127.0.0.1:3000\", h2c: true, host: internal.example:8080}\n";
static_assert(kRoutes.ends_with(kRoutesBlock));

INSTANTIATE_TEST_SUITE_P(
    Table, AgentRoutesInvalid,
    testing::Values(
        InvalidCase{"UpstreamAndRoutes", "", "upstream: http://127.0.0.1:3000\n", 5, "routes",
                    "upstream and routes are mutually exclusive"},
        InvalidCase{"UnknownRouteKey", "    upstream: http://127.0.0.1:4000/base\n",
                    "    upstream: http://127.0.0.1:4000/base\n    strip_prefix: true\n", 8,
                    "routes[0].strip_prefix", "unknown key"},
        InvalidCase{"UnknownKeyInFlowRoute", "h2c: true", "h2c: true, tls: false", 8,
                    "routes[1].tls", "unknown key"},
        InvalidCase{"RoutesNotAList", kRoutesBlock, "routes: /api\n", 5, "routes",
                    "expected a list"},
        InvalidCase{"RouteNotAMapping", kFirstRoute, "  - /api\n", 6, "routes[0]",
                    "expected a mapping"},
        InvalidCase{"EmptyRoutes", kRoutesBlock, "routes: []\n", 5, "routes", "at least one route"},
        InvalidCase{"NeitherUpstreamNorRoutes", kRoutesBlock, "", 0, "upstream",
                    "missing required key (or routes, or tcp)"},
        InvalidCase{"MissingPath", kFirstRoute, "  - upstream: http://127.0.0.1:4000\n", 6,
                    "routes[0].path", "missing required key"},
        InvalidCase{"MissingRouteUpstream", kFirstRoute, "  - path: /api\n", 6,
                    "routes[0].upstream", "missing required key"},
        InvalidCase{"NullPath", "  - path: /api\n", "  - path:\n", 6, "routes[0].path",
                    "missing value"},
        InvalidCase{"RouteUpstreamNotHttp", "http://127.0.0.1:4000/base", "https://127.0.0.1:4000",
                    7, "routes[0].upstream", "only http://"},
        InvalidCase{"H2cNotABoolean", "h2c: true", "h2c: yes", 8, "routes[1].h2c",
                    "expected true or false"},
        InvalidCase{"HostNotAString", "host: internal.example:8080", "host: [a, b]", 8,
                    "routes[1].host", "expected a string"},
        InvalidCase{"PathWithoutLeadingSlash", "path: /api", "path: api", 6, "routes[0].path",
                    "must start with '/'"},
        InvalidCase{"PathWithTrailingSlash", "path: /api", "path: /api/", 6, "routes[0].path",
                    "must not end with '/'"},
        InvalidCase{"PathWithQuery", "path: /api", "path: /api?v=1", 6, "routes[0].path",
                    "'?' or '#'"},
        InvalidCase{"PathWithSpace", "path: /api", "path: \"/my api\"", 6, "routes[0].path",
                    "without spaces"},
        InvalidCase{"DuplicatePath", "path: /,", "path: /api,", 8, "routes[1].path",
                    "duplicate route path \"/api\""},
        InvalidCase{"HostWithPath", "host: internal.example:8080", "host: internal.example/x", 8,
                    "routes[1].host", "expected a host name"},
        InvalidCase{"HostWithSpace", "host: internal.example:8080", "host: \"internal example\"", 8,
                    "routes[1].host", "expected a host name"}),
    test::case_name);

TEST(AgentRoutes, ValidateAfterFlagsReportsTheRouteKey) {
  auto loaded = load_agent_config_from_string(kRoutes, "agent.yaml");
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  AgentConfig changed = *loaded;
  changed.routes.push_back(changed.routes.front());  // as if from a repeated --route
  auto error = validate_agent_config(changed);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->to_string(), "routes[2].path: duplicate route path \"/api\"");
  changed.routes.clear();
  error = validate_agent_config(changed);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->key, "routes");
}

}  // namespace
}  // namespace dialback

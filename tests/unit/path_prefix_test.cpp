// Agent route matching (routing/path_prefix.hpp): segment boundaries and
// longest prefix, from tables.
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "routing/path_prefix.hpp"

namespace dialback {
namespace {

struct MatchCase {
  const char* prefix;
  const char* path;
  bool matches;
};

void PrintTo(const MatchCase& c, std::ostream* os) {
  *os << "prefix \"" << c.prefix << "\" path \"" << c.path << "\"";
}

class PathPrefixMatch : public testing::TestWithParam<MatchCase> {};

TEST_P(PathPrefixMatch, OnSegmentBoundaries) {
  const MatchCase& c = GetParam();
  EXPECT_EQ(path_prefix_matches(c.prefix, c.path), c.matches);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PathPrefixMatch,
    testing::Values(MatchCase{"/", "/", true}, MatchCase{"/", "/anything/at/all?x=1", true},
                    MatchCase{"/", "*", true},  // OPTIONS *
                    MatchCase{"/api", "/api", true}, MatchCase{"/api", "/api/", true},
                    MatchCase{"/api", "/api/x/y", true}, MatchCase{"/api", "/api?q=1", true},
                    MatchCase{"/api", "/apix", false}, MatchCase{"/api", "/api-v2/x", false},
                    MatchCase{"/api", "/ap", false}, MatchCase{"/api", "/", false},
                    MatchCase{"/api", "/API", false},         // case-sensitive
                    MatchCase{"/api", "/%61pi", false},       // no percent-decoding
                    MatchCase{"/api", "/x/api", false},       // anchored at the start
                    MatchCase{"/api", "api/x", false}, MatchCase{"/a/b", "/a/b/c", true},
                    MatchCase{"/a/b", "/a/bc", false}, MatchCase{"/a/b", "/a", false},
                    MatchCase{"/a/b", "/a/b?x=/", true}, MatchCase{"/api", "/api#frag", false},
                    MatchCase{"", "/", false}));

struct LongestCase {
  const char* path;
  std::optional<std::size_t> route;
};

void PrintTo(const LongestCase& c, std::ostream* os) { *os << "path \"" << c.path << "\""; }

class LongestPathPrefix : public testing::TestWithParam<LongestCase> {
 protected:
  // Deliberately not sorted: the longest match wins, not the first.
  const std::vector<std::string> prefixes_ = {"/", "/api", "/api/v2", "/static", "/api/v2/admin"};
};

TEST_P(LongestPathPrefix, Wins) {
  const LongestCase& c = GetParam();
  EXPECT_EQ(longest_path_prefix(prefixes_, c.path), c.route);
}

INSTANTIATE_TEST_SUITE_P(
    Table, LongestPathPrefix,
    testing::Values(LongestCase{"/", 0}, LongestCase{"/index.html", 0}, LongestCase{"/api", 1},
                    LongestCase{"/api/v1/users", 1}, LongestCase{"/api/v2", 2},
                    LongestCase{"/api/v2/users?page=2", 2}, LongestCase{"/api/v2x", 1},
                    LongestCase{"/api/v2/admin/x", 4}, LongestCase{"/api/v2/administrator", 2},
                    LongestCase{"/apix", 0}, LongestCase{"/static/app.js", 3},
                    LongestCase{"/staticfile", 0}));

TEST(LongestPathPrefixWithoutCatchAll, NoMatchIsNullopt) {
  const std::vector<std::string> prefixes = {"/api", "/web"};
  EXPECT_EQ(longest_path_prefix(prefixes, "/api/x"), 0u);
  EXPECT_EQ(longest_path_prefix(prefixes, "/web"), 1u);
  EXPECT_EQ(longest_path_prefix(prefixes, "/"), std::nullopt);
  EXPECT_EQ(longest_path_prefix(prefixes, "/apiary"), std::nullopt);
  EXPECT_EQ(longest_path_prefix(prefixes, "/other"), std::nullopt);
  EXPECT_EQ(longest_path_prefix({}, "/"), std::nullopt);
}

}  // namespace
}  // namespace dialback

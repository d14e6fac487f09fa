#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "routing/host_router.hpp"
#include "routing/session_picker.hpp"

namespace dialback {
namespace {

// ---- HostRouter -----------------------------------------------------------

HostRouter make_router() {
  HostRouter router;
  const std::vector<std::pair<std::string, std::size_t>> patterns = {
      {"api.example.test", 0},   {"*.web.example.test", 1}, {"*.example.test", 2},
      {"Web.Example.Test", 3},   {"127.0.0.1", 4},          {"[::1]", 5},
      {"trailing.example.test.", 6},
  };
  for (const auto& [pattern, tunnel] : patterns) {
    EXPECT_TRUE(router.add(pattern, tunnel).has_value()) << pattern;
  }
  return router;
}

struct MatchCase {
  std::string host;
  std::optional<std::size_t> tunnel;
};

void PrintTo(const MatchCase& c, std::ostream* os) { *os << '"' << c.host << '"'; }

class HostRouterMatch : public ::testing::TestWithParam<MatchCase> {};

TEST_P(HostRouterMatch, Matches) {
  const HostRouter router = make_router();
  EXPECT_EQ(router.match(GetParam().host), GetParam().tunnel) << GetParam().host;
}

INSTANTIATE_TEST_SUITE_P(
    Table, HostRouterMatch,
    ::testing::Values(
        // exact, case-insensitive, with port and trailing dot
        MatchCase{"api.example.test", 0}, MatchCase{"API.Example.TEST", 0},
        MatchCase{"api.example.test:8443", 0}, MatchCase{"api.example.test.", 0},
        MatchCase{"api.example.test.:443", 0}, MatchCase{"api.example.test:", 0},
        // exact wins over a wildcard that also matches
        MatchCase{"web.example.test", 3},
        // longest wildcard wins; multi-label prefixes match
        MatchCase{"a.web.example.test", 1}, MatchCase{"b.a.web.example.test", 1},
        MatchCase{"other.example.test", 2}, MatchCase{"x.y.example.test:80", 2},
        // a wildcard never matches its bare suffix
        MatchCase{"example.test", std::nullopt},
        // pattern stored without its trailing dot
        MatchCase{"trailing.example.test", 6},
        // IP literals
        MatchCase{"127.0.0.1:8080", 4}, MatchCase{"[::1]:8080", 5}, MatchCase{"[::1]", 5},
        MatchCase{"::1", 5},
        // no match / malformed
        MatchCase{"example.org", std::nullopt}, MatchCase{"", std::nullopt},
        MatchCase{".", std::nullopt}, MatchCase{":80", std::nullopt},
        MatchCase{"api.example.test:http", std::nullopt}, MatchCase{"[::1", std::nullopt},
        MatchCase{"[::1]x", std::nullopt}, MatchCase{"[::1]:8o", std::nullopt},
        MatchCase{".example.test", std::nullopt}, MatchCase{"test", std::nullopt},
        MatchCase{"api.example.test..", std::nullopt}));

TEST(HostRouter, RejectsMalformedPatterns) {
  HostRouter router;
  for (const char* bad : {"", ".", "*", "*.", "**.example.test", "a.*.example.test",
                          "example.*", "*example.test", "a..b", ".a.b", "host:80",
                          "exa mple.test", "[::1", "[]", "[zz::1]", "a/b"}) {
    const auto added = router.add(bad, 0);
    ASSERT_FALSE(added.has_value()) << '"' << bad << '"';
    EXPECT_EQ(added.error(), make_error_code(Error::config_invalid));
  }
  EXPECT_EQ(router.size(), 0u);
}

TEST(HostRouter, RejectsLongLabels) {
  HostRouter router;
  EXPECT_TRUE(router.add(std::string(63, 'a') + ".test", 0).has_value());
  EXPECT_FALSE(router.add(std::string(64, 'a') + ".test", 0).has_value());
}

TEST(HostRouter, RejectsDuplicatesAfterNormalization) {
  HostRouter router;
  ASSERT_TRUE(router.add("Example.test", 0).has_value());
  ASSERT_TRUE(router.add("*.example.test", 1).has_value());
  EXPECT_FALSE(router.add("example.TEST.", 2).has_value());
  EXPECT_FALSE(router.add("*.EXAMPLE.test", 3).has_value());
  ASSERT_TRUE(router.add("[::1]", 4).has_value());
  EXPECT_FALSE(router.add("::1", 5).has_value());
  EXPECT_EQ(router.size(), 3u);
  // the first registration is kept
  EXPECT_EQ(router.match("example.test"), 0u);
  EXPECT_EQ(router.match("a.example.test"), 1u);
}

TEST(HostRouter, EmptyRouterMatchesNothing) {
  const HostRouter router;
  EXPECT_EQ(router.match("example.test"), std::nullopt);
}

// ---- SessionPicker --------------------------------------------------------

using Candidates = std::vector<PickCandidate>;

PickCandidate idle() { return {0, true}; }
PickCandidate busy(std::size_t n) { return {n, true}; }
PickCandidate draining(std::size_t n = 0) { return {n, false}; }

struct PickCase {
  std::string name;
  PickPolicy policy;
  Candidates candidates;
  std::vector<std::optional<std::size_t>> expected;  // successive picks
};

void PrintTo(const PickCase& c, std::ostream* os) { *os << c.name; }

class SessionPickerTable : public ::testing::TestWithParam<PickCase> {};

TEST_P(SessionPickerTable, Picks) {
  const PickCase& c = GetParam();
  SessionPicker picker(c.policy);
  for (std::size_t i = 0; i < c.expected.size(); ++i) {
    EXPECT_EQ(picker.pick(c.candidates), c.expected[i]) << c.name << " pick #" << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, SessionPickerTable,
    ::testing::Values(
        PickCase{"least_empty", PickPolicy::least_inflight, {}, {std::nullopt, std::nullopt}},
        PickCase{"rr_empty", PickPolicy::round_robin, {}, {std::nullopt}},
        PickCase{"least_all_draining", PickPolicy::least_inflight,
                 {draining(), draining(3)}, {std::nullopt, std::nullopt}},
        PickCase{"rr_all_draining", PickPolicy::round_robin,
                 {draining(), draining(), draining()}, {std::nullopt}},
        PickCase{"least_minimum", PickPolicy::least_inflight,
                 {busy(5), busy(2), busy(7)}, {1, 1, 1}},
        PickCase{"least_ties_alternate_2", PickPolicy::least_inflight,
                 {idle(), idle()}, {0, 1, 0, 1}},
        PickCase{"least_ties_rotate_3", PickPolicy::least_inflight,
                 {busy(1), busy(1), busy(1)}, {0, 1, 2, 0}},
        PickCase{"least_ties_among_minimum_only", PickPolicy::least_inflight,
                 {busy(1), busy(4), busy(1), busy(4)}, {0, 2, 0, 2}},
        PickCase{"least_skips_draining_even_if_idle", PickPolicy::least_inflight,
                 {draining(0), busy(3), busy(9)}, {1, 1}},
        PickCase{"least_single", PickPolicy::least_inflight, {busy(100)}, {0, 0}},
        PickCase{"rr_alternate_2", PickPolicy::round_robin,
                 {busy(9), idle()}, {0, 1, 0, 1}},
        PickCase{"rr_rotate_3", PickPolicy::round_robin,
                 {idle(), idle(), idle()}, {0, 1, 2, 0, 1, 2}},
        PickCase{"rr_skips_draining", PickPolicy::round_robin,
                 {idle(), draining(), idle(), draining()}, {0, 2, 0, 2}},
        PickCase{"rr_ignores_load", PickPolicy::round_robin,
                 {busy(50), busy(1), busy(50)}, {0, 1, 2}}),
    [](const ::testing::TestParamInfo<PickCase>& info) { return info.param.name; });

TEST(SessionPicker, LeastInflightFollowsChangingLoad) {
  SessionPicker picker(PickPolicy::least_inflight);
  Candidates sessions = {idle(), idle(), idle()};
  // Simulate streams opening and never finishing: load spreads evenly.
  std::vector<std::size_t> counts(3, 0);
  for (int i = 0; i < 9; ++i) {
    const auto picked = picker.pick(sessions);
    ASSERT_TRUE(picked.has_value());
    ++sessions[*picked].inflight;
    ++counts[*picked];
  }
  EXPECT_EQ(counts, (std::vector<std::size_t>{3, 3, 3}));
}

TEST(SessionPicker, SurvivesCandidateListShrinking) {
  SessionPicker picker(PickPolicy::round_robin);
  const Candidates three = {idle(), idle(), idle()};
  EXPECT_EQ(picker.pick(three), 0u);
  EXPECT_EQ(picker.pick(three), 1u);
  EXPECT_EQ(picker.pick(three), 2u);
  const Candidates one = {idle()};
  EXPECT_EQ(picker.pick(one), 0u);
  const Candidates two = {idle(), idle()};
  EXPECT_EQ(picker.pick(two), 1u);
  EXPECT_EQ(picker.pick(two), 0u);
}

TEST(SessionPicker, DrainingSessionComesBack) {
  SessionPicker picker(PickPolicy::round_robin);
  Candidates sessions = {idle(), draining()};
  EXPECT_EQ(picker.pick(sessions), 0u);
  EXPECT_EQ(picker.pick(sessions), 0u);
  sessions[1].accepting = true;
  EXPECT_EQ(picker.pick(sessions), 1u);
  EXPECT_EQ(picker.pick(sessions), 0u);
}

}  // namespace
}  // namespace dialback

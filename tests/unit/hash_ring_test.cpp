// Consistent hashing (routing/hash_ring.hpp): stable picks, spread, the
// fraction of keys that move on a join or a leave, and the predicate walk.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "routing/hash_ring.hpp"

namespace dialback {
namespace {

std::string node(std::size_t i) { return "node-" + std::to_string(i); }

std::vector<std::string> make_keys(std::size_t count) {
  std::vector<std::string> keys;
  keys.reserve(count);
  for (std::size_t i = 0; i < count; ++i) keys.push_back("client-" + std::to_string(i));
  return keys;
}

HashRing make_ring(std::size_t members) {
  HashRing ring;
  for (std::size_t i = 1; i <= members; ++i) ring.add(node(i));
  return ring;
}

// Owners copied out of the ring: views from pick() die with the next add().
std::vector<std::string> owners(const HashRing& ring, const std::vector<std::string>& keys) {
  std::vector<std::string> out;
  out.reserve(keys.size());
  for (const std::string& key : keys) out.emplace_back(ring.pick(key).value());
  return out;
}

std::string fraction_line(std::size_t n, const char* event, double moved, double ideal) {
  char line[96];
  std::snprintf(line, sizeof line, "hash ring: N=%zu %s: moved %.3f of keys (ideal %.3f)", n, event,
                moved, ideal);
  return line;
}

// ---- the hash ---------------------------------------------------------------

TEST(StableHash64, KnownAnswers) {
  // FNV-1a 64 of these is the published cbf29ce484222325, af63dc4c8601ec8c,
  // 85944171f73967e8; the values below add fmix64 (computed independently).
  // Pinned so the ring places keys identically across builds and releases.
  EXPECT_EQ(stable_hash64(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(stable_hash64("a"), 0x82a2a958a9bece5bULL);
  EXPECT_EQ(stable_hash64("foobar"), 0x2c22194922d1672bULL);
  EXPECT_EQ(stable_hash64("node-1#0"), 0xf28b65a604900cc8ULL);
}

// ---- membership -------------------------------------------------------------

TEST(HashRing, EmptyPicksNothing) {
  HashRing ring;
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.pick("k"), std::nullopt);
  EXPECT_EQ(ring.pick("k", [](std::string_view) { return true; }), std::nullopt);
}

TEST(HashRing, RemovingUnknownIsNoOp) {
  HashRing ring = make_ring(3);
  const auto keys = make_keys(2000);
  const auto before = owners(ring, keys);
  EXPECT_FALSE(ring.remove("node-9"));
  EXPECT_FALSE(ring.remove(""));
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(owners(ring, keys), before);

  HashRing empty;
  EXPECT_FALSE(empty.remove("node-1"));
  EXPECT_TRUE(empty.empty());
}

TEST(HashRing, AddingTwiceDoesNotDuplicate) {
  HashRing ring = make_ring(3);
  const auto keys = make_keys(2000);
  const auto before = owners(ring, keys);
  EXPECT_FALSE(ring.add("node-2"));
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(owners(ring, keys), before);
  // One remove takes it out entirely: no second copy lingers on the ring.
  EXPECT_TRUE(ring.remove("node-2"));
  EXPECT_FALSE(ring.contains("node-2"));
  for (const std::string& key : keys) EXPECT_NE(ring.pick(key), "node-2");
}

TEST(HashRing, SingleMemberOwnsEverything) {
  HashRing ring;
  EXPECT_TRUE(ring.add("only"));
  EXPECT_TRUE(ring.contains("only"));
  for (const std::string& key : make_keys(500)) EXPECT_EQ(ring.pick(key), "only");
  EXPECT_TRUE(ring.remove("only"));
  EXPECT_EQ(ring.pick("k"), std::nullopt);
}

// ---- picks --------------------------------------------------------------------

TEST(HashRing, SameKeySameMember) {
  const HashRing ring = make_ring(7);
  const auto keys = make_keys(5000);
  const auto first = owners(ring, keys);
  EXPECT_EQ(owners(ring, keys), first);
  // A ring built elsewhere (another edge process) agrees.
  EXPECT_EQ(owners(make_ring(7), keys), first);
}

TEST(HashRing, IndependentOfInsertionOrder) {
  const HashRing forward = make_ring(8);
  HashRing backward;
  for (std::size_t i = 8; i >= 1; --i) backward.add(node(i));
  // Churn: adding and removing other members leaves no trace.
  backward.add("node-x");
  backward.remove("node-x");
  const auto keys = make_keys(5000);
  EXPECT_EQ(owners(backward, keys), owners(forward, keys));
}

TEST(HashRing, SpreadsKeys) {
  constexpr std::size_t kMembers = 10;
  constexpr std::size_t kKeys = 100'000;
  const HashRing ring = make_ring(kMembers);
  std::map<std::string, std::size_t> counts;
  for (const std::string& key : make_keys(kKeys)) ++counts[std::string(ring.pick(key).value())];
  ASSERT_EQ(counts.size(), kMembers);

  // With 160 points a member's share of the ring deviates from 1/N by about
  // 1/sqrt(160) ~ 8 % (one standard deviation); 100 000 keys add ~1 % of
  // sampling noise. The worst of ten members is then typically ~14 % off: over
  // 200 simulated rings of ten members with uniformly random points, the worst
  // deviation averaged 14 %, its 95th percentile was 22 % and its 99th 26 %,
  // and this hash on other name sets behaved the same. ±25 % is therefore a
  // bound a sound hash meets for all but a few percent of name sets, while a
  // broken one (clustered points, a member with 2x or 0.5x its share) fails
  // it. The hash is deterministic, so the test is not flaky; these names
  // measure 17.6 %.
  const double mean = static_cast<double>(kKeys) / kMembers;
  double worst = 0;
  for (const auto& [member, count] : counts) {
    const double deviation = (static_cast<double>(count) - mean) / mean;
    worst = std::max(worst, deviation < 0 ? -deviation : deviation);
    EXPECT_NEAR(static_cast<double>(count), mean, 0.25 * mean) << member;
  }
  std::cout << "hash ring: " << kMembers << " members, " << kKeys << " keys:";
  for (const auto& [member, count] : counts) std::cout << ' ' << member << '=' << count;
  std::printf("\nhash ring: worst deviation from the mean %.1f %%\n", worst * 100);
  std::fflush(stdout);
}

// ---- moved fraction -----------------------------------------------------------

// The keys that move on a join are those landing on the newcomer's share of
// the ring, ~1/(N+1) with the same ~8 % relative spread as above, plus
// 1/sqrt(moved keys) of sampling noise (~3 % at N=20). [0.5, 1.6] x ideal leaves
// room for several standard deviations; the measured ratios for N = 2..20 lie
// between 0.84 and 1.18 (join) and 0.87 and 1.14 (leave).
constexpr std::size_t kMovedKeys = 20'000;

bool printed(std::size_t n) { return n == 2 || n == 5 || n == 10; }

TEST(HashRing, JoinMovesAboutOneInNPlusOneKeysAllToTheNewcomer) {
  const auto keys = make_keys(kMovedKeys);
  for (std::size_t n = 2; n <= 20; ++n) {
    HashRing ring = make_ring(n);
    const auto before = owners(ring, keys);
    const std::string newcomer = node(n + 1);
    ASSERT_TRUE(ring.add(newcomer));
    const auto after = owners(ring, keys);

    std::size_t moved = 0;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (after[k] == before[k]) continue;
      ++moved;
      EXPECT_EQ(after[k], newcomer)
          << "N=" << n << " key " << keys[k] << " moved from " << before[k];
    }
    const double fraction = static_cast<double>(moved) / keys.size();
    const double ideal = 1.0 / static_cast<double>(n + 1);
    EXPECT_GE(fraction, 0.5 * ideal) << "N=" << n;
    EXPECT_LE(fraction, 1.6 * ideal) << "N=" << n;
    if (printed(n)) std::cout << fraction_line(n, "joined", fraction, ideal) << std::endl;
  }
}

TEST(HashRing, LeaveMovesOnlyTheLeaversKeys) {
  const auto keys = make_keys(kMovedKeys);
  for (std::size_t n = 2; n <= 20; ++n) {
    HashRing ring = make_ring(n);
    const auto before = owners(ring, keys);
    // The one in the middle, not the last added, so the test does not lean on
    // removal undoing an add.
    const std::string leaver = node((n + 1) / 2);
    ASSERT_TRUE(ring.remove(leaver));
    const auto after = owners(ring, keys);

    std::size_t moved = 0;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      EXPECT_NE(after[k], leaver);
      if (after[k] == before[k]) continue;
      ++moved;
      EXPECT_EQ(before[k], leaver) << "N=" << n << " key " << keys[k] << " moved to " << after[k];
    }
    const double fraction = static_cast<double>(moved) / keys.size();
    const double ideal = 1.0 / static_cast<double>(n);
    EXPECT_GE(fraction, 0.5 * ideal) << "N=" << n;
    EXPECT_LE(fraction, 1.6 * ideal) << "N=" << n;
    if (printed(n)) std::cout << fraction_line(n, "left", fraction, ideal) << std::endl;
  }
}

// ---- the predicate walk --------------------------------------------------------

TEST(HashRing, PredicateSkipsToNextMemberClockwise) {
  // With points_per_member = 1 the ring is three points; the clockwise order
  // is read off the hashes of "a#0", "b#0", "c#0" independently of the ring.
  HashRing ring(1);
  std::vector<std::pair<std::uint64_t, std::string>> points;
  for (const char* m : {"a", "b", "c"}) {
    ring.add(m);
    points.emplace_back(stable_hash64(std::string(m) + "#0"), m);
  }
  std::sort(points.begin(), points.end());

  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string key_owner = points[i].second;
    const std::string next = points[(i + 1) % 3].second;
    const std::string after_next = points[(i + 2) % 3].second;
    // A key owned by this point: its hash falls between the previous point
    // and this one, so the walk continues with `next`, then `after_next`.
    std::string key;
    for (std::size_t k = 0; k < 10'000 && ring.pick(key) != key_owner; ++k) {
      key = "k" + std::to_string(k);
    }
    ASSERT_EQ(ring.pick(key), key_owner);
    EXPECT_EQ(ring.pick(key, [&](std::string_view m) { return m != key_owner; }), next);
    EXPECT_EQ(ring.pick(key, [&](std::string_view m) { return m == after_next; }), after_next);
    EXPECT_EQ(ring.pick(key, [&](std::string_view m) { return m == key_owner; }), key_owner);
    EXPECT_EQ(ring.pick(key, [](std::string_view) { return false; }), std::nullopt);
  }
}

TEST(HashRing, RejectingMembersEqualsARingWithoutThem) {
  // The property the edge relies on: keys of accepted members stay put while
  // others drain, and a drained member's keys go where they would go if it
  // had left. Every subset of five members is rejected in turn.
  constexpr std::size_t kMembers = 5;
  const HashRing ring = make_ring(kMembers);
  const auto keys = make_keys(2000);
  for (unsigned mask = 0; mask < (1u << kMembers); ++mask) {
    HashRing without;
    std::vector<std::string> rejected;
    for (std::size_t i = 1; i <= kMembers; ++i) {
      if (mask & (1u << (i - 1))) {
        rejected.push_back(node(i));
      } else {
        without.add(node(i));
      }
    }
    const auto accept = [&](std::string_view m) {
      return std::find(rejected.begin(), rejected.end(), m) == rejected.end();
    };
    for (const std::string& key : keys) {
      EXPECT_EQ(ring.pick(key, accept), without.pick(key)) << "mask " << mask << " key " << key;
    }
  }
}

TEST(HashRing, PredicateAsksEachMemberOnce) {
  const HashRing ring = make_ring(12);
  std::map<std::string, int> asked;
  const auto reject_all = [&](std::string_view m) {
    ++asked[std::string(m)];
    return false;
  };
  EXPECT_EQ(ring.pick("some-key", reject_all), std::nullopt);
  EXPECT_EQ(asked.size(), 12u);
  for (const auto& [member, times] : asked) EXPECT_EQ(times, 1) << member;
}

TEST(HashRing, PredicateBeyondTheMemoStillTerminates) {
  // More members than the bitset remembers: rejected ones past it may be
  // asked again, but the walk ends after one lap with the right answer.
  HashRing ring(4);
  const std::size_t members = HashRing::kMemoMembers + 20;
  for (std::size_t i = 1; i <= members; ++i) ring.add(node(i));
  std::size_t calls = 0;
  const auto reject_all = [&](std::string_view) {
    ++calls;
    return false;
  };
  EXPECT_EQ(ring.pick("k", reject_all), std::nullopt);
  EXPECT_LE(calls, members * 4);
  const std::string target = node(members);  // added last: index past the memo
  EXPECT_EQ(ring.pick("k", [&](std::string_view m) { return m == target; }), target);
}

}  // namespace
}  // namespace dialback

// Consistent hashing for the edge's `balance: hash` policy: a ring that maps a
// request key to one member (an agent node id), so that the same key keeps
// reaching the same node while it lives, and a join or a leave moves only
// about 1/N of the keys. Pure logic; membership changes are rare and may
// allocate, picks are per request and do not.
#pragma once

#include <bitset>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dialback {

// A deterministic 64-bit hash: FNV-1a over the bytes, then the murmur3 fmix64
// finalizer (FNV-1a alone leaves keys that differ in their last byte close
// together; fmix64 spreads every input bit over the whole word). Written out
// rather than std::hash, whose value is unspecified and may change between
// library versions: the ring must place keys the same way on every edge
// process, build and restart.
std::uint64_t stable_hash64(std::string_view bytes) noexcept;

class HashRing {
 public:
  // Points ("virtual nodes") each member places on the ring. More points
  // spread keys more evenly (a member's share deviates from 1/N by about
  // 1/sqrt(points)) at the cost of a larger ring to search.
  static constexpr std::size_t kDefaultPointsPerMember = 160;

  explicit HashRing(std::size_t points_per_member = kDefaultPointsPerMember);

  // Adds `member` (a stable id, e.g. the agent's node id); its points are
  // hash(member + "#" + i) for i in [0, points_per_member). False when it was
  // already present (the ring is unchanged). Invalidates views from pick().
  bool add(std::string_view member);

  // Removes `member`; false when it was not present (the ring is unchanged).
  // Invalidates views from pick().
  bool remove(std::string_view member);

  bool contains(std::string_view member) const noexcept;
  std::size_t size() const noexcept { return members_.size(); }
  bool empty() const noexcept { return members_.empty(); }

  // The member owning `key`: the first ring point clockwise from hash(key).
  // nullopt when the ring is empty. The view is into the ring and stays valid
  // until the next add() or remove(). O(log points), no allocation.
  std::optional<std::string_view> pick(std::string_view key) const noexcept;

  // As pick(key), but walks clockwise past members for which
  // `accept(member)` is false (draining, not accepting), returning the first
  // accepted one; nullopt when the ring is empty or every member is rejected.
  // Rejecting a set of members gives the same answer as a ring without them,
  // so keys of an accepted member never move because another one drains.
  // `accept` runs at most once per member for the first kMemoMembers members
  // (a fixed bitset remembers the rejected ones, no allocation); beyond that a
  // rejected member may be asked again at each of its points.
  template <std::predicate<std::string_view> Accept>
  std::optional<std::string_view> pick(std::string_view key, Accept&& accept) const;

  static constexpr std::size_t kMemoMembers = 256;

 private:
  struct Point {
    std::uint64_t hash;
    std::uint32_t member;  // index into members_
  };

  // Index into ring_ of the first point at or after `hash`, wrapping to 0.
  // Requires a non-empty ring.
  std::size_t first_point(std::uint64_t hash) const noexcept;

  std::size_t points_per_member_;
  std::vector<std::string> members_;  // indexed by Point::member, unordered
  std::vector<Point> ring_;           // sorted by (hash, member id)
};

template <std::predicate<std::string_view> Accept>
std::optional<std::string_view> HashRing::pick(std::string_view key, Accept&& accept) const {
  if (ring_.empty()) return std::nullopt;
  std::bitset<kMemoMembers> rejected;
  std::size_t rejected_count = 0;
  std::size_t i = first_point(stable_hash64(key));
  // One lap at most: after that every point, hence every member, was seen.
  for (std::size_t step = 0; step < ring_.size(); ++step, i = (i + 1 == ring_.size()) ? 0 : i + 1) {
    const std::uint32_t m = ring_[i].member;
    const bool memo = m < kMemoMembers;
    if (memo && rejected[m]) continue;
    const std::string_view member = members_[m];
    if (accept(member)) return member;
    if (memo) {
      rejected[m] = true;
      // Stops early only when every member is memoised, i.e. all rejected.
      if (++rejected_count == members_.size()) break;
    }
  }
  return std::nullopt;
}

}  // namespace dialback

#include "routing/hash_ring.hpp"

#include <algorithm>
#include <string>

namespace dialback {

namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

constexpr std::uint64_t fnv1a(std::uint64_t state, std::string_view bytes) noexcept {
  for (const char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= kFnvPrime;
  }
  return state;
}

// murmur3's fmix64: every input bit affects every output bit.
constexpr std::uint64_t fmix64(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::uint64_t stable_hash64(std::string_view bytes) noexcept {
  return fmix64(fnv1a(kFnvOffset, bytes));
}

HashRing::HashRing(std::size_t points_per_member)
    : points_per_member_(std::max<std::size_t>(points_per_member, 1)) {}

bool HashRing::contains(std::string_view member) const noexcept {
  return std::find(members_.begin(), members_.end(), member) != members_.end();
}

bool HashRing::add(std::string_view member) {
  if (contains(member)) return false;
  const auto index = static_cast<std::uint32_t>(members_.size());
  members_.emplace_back(member);

  ring_.reserve(ring_.size() + points_per_member_);
  std::string label;
  for (std::size_t i = 0; i < points_per_member_; ++i) {
    label.assign(member);
    label += '#';
    label += std::to_string(i);
    ring_.push_back(Point{stable_hash64(label), index});
  }
  // Ties between equal hashes (about one in 2^64 / points^2) are broken by
  // the member id rather than the insertion order, so that rings holding the
  // same members agree on every key whatever order they were built in.
  std::sort(ring_.begin(), ring_.end(), [this](const Point& a, const Point& b) {
    if (a.hash != b.hash) return a.hash < b.hash;
    return members_[a.member] < members_[b.member];
  });
  return true;
}

bool HashRing::remove(std::string_view member) {
  const auto found = std::find(members_.begin(), members_.end(), member);
  if (found == members_.end()) return false;
  const auto index = static_cast<std::uint32_t>(found - members_.begin());
  members_.erase(found);
  // Dropping points keeps the rest sorted; indices above the removed member
  // shift down by one like members_ did.
  std::erase_if(ring_, [index](const Point& p) { return p.member == index; });
  for (Point& p : ring_) {
    if (p.member > index) --p.member;
  }
  return true;
}

std::size_t HashRing::first_point(std::uint64_t hash) const noexcept {
  const auto it = std::lower_bound(ring_.begin(), ring_.end(), hash,
                                   [](const Point& p, std::uint64_t h) { return p.hash < h; });
  return it == ring_.end() ? 0 : static_cast<std::size_t>(it - ring_.begin());
}

std::optional<std::string_view> HashRing::pick(std::string_view key) const noexcept {
  if (ring_.empty()) return std::nullopt;
  return std::string_view(members_[ring_[first_point(stable_hash64(key))].member]);
}

}  // namespace dialback

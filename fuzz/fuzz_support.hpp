// Shared by the fuzz targets: byte views, piece sizes, and check().
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

namespace dialback::fuzz {

// A property the target checks failed: a bug, reported as a crash.
inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %s\n", what);
  std::abort();
}

inline std::string_view as_chars(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Piece sizes for feeding an input the way reads from a socket arrive: sizes
// pseudo-random but fixed by the input (a control byte and the input's
// length), so that every crash reproduces.
class PieceSizes {
 public:
  // The low two bits of `control` choose the largest piece (1, 8, 64 or 4096
  // bytes: one byte at a time up to whole reads); the other bits and `total`
  // seed the sizes.
  PieceSizes(std::uint8_t control, std::size_t total)
      : max_(kMax[control & 3]), state_((std::uint64_t{control} << 32) ^ total) {}

  // Size of the next piece: 1 to min(largest, left) bytes; 0 when left is 0.
  std::size_t next(std::size_t left) {
    if (left == 0) return 0;
    const std::size_t limit = std::min(max_, left);
    return 1 + static_cast<std::size_t>(random() % limit);
  }

 private:
  static constexpr std::size_t kMax[4] = {1, 8, 64, 4096};

  std::uint64_t random() {  // splitmix64
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  std::size_t max_;
  std::uint64_t state_;
};

}  // namespace dialback::fuzz

// Byte sizes in configuration files and flags.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace dialback {

// Parses a bare non-negative integer (bytes) or an integer with one of the
// suffixes B, KiB, MiB, GiB (powers of 1024): "65536", "64KiB", "10MiB".
// No fractions, signs or spaces. The error is a human-readable message
// without location.
tl::expected<std::uint64_t, std::string> parse_byte_size(std::string_view text);

}  // namespace dialback

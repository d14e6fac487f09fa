// Durations in configuration files and flags.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace dialback {

// Parses "500ms", "15s", "1m", "2h", or a bare non-negative integer meaning
// seconds. No fractions, no signs, no compound forms ("1m30s"). The error is
// a human-readable message without location.
tl::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

// Formats with the largest unit that divides the value exactly ("90s", "2h", "0s").
std::string format_duration(std::chrono::milliseconds value);

}  // namespace dialback

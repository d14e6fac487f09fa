// "<digits><unit>" values of the config files (durations, byte sizes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace dialback {

struct UnitScale {
  std::string_view unit;  // "" for a bare number
  std::uint64_t scale;
};

// Parses `text` as digits followed by one of `units`, scaled, at most `max`.
// Errors name `what` ("duration", "size") and show `examples`.
tl::expected<std::uint64_t, std::string> parse_scaled_number(std::string_view text,
                                                             std::span<const UnitScale> units,
                                                             std::uint64_t max, std::string_view what,
                                                             std::string_view examples);

}  // namespace dialback

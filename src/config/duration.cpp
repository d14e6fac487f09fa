#include "config/duration.hpp"

#include <cstdint>
#include <limits>

#include "config/scaled_number.hpp"

namespace dialback {

tl::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  static constexpr UnitScale kUnits[] = {
      {"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60'000}, {"h", 3'600'000}};
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  auto millis = parse_scaled_number(text, kUnits, kMax, "duration",
                                    "500ms, 15s, 1m, 2h or a number of seconds");
  if (!millis) return tl::unexpected(millis.error());
  return std::chrono::milliseconds(static_cast<std::int64_t>(*millis));
}

std::string format_duration(std::chrono::milliseconds value) {
  const auto ms = value.count();
  if (ms == 0) return "0s";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace dialback

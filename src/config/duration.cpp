#include "config/duration.hpp"

#include <charconv>
#include <cstdint>
#include <limits>

namespace dialback {

tl::expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  const auto bad = [&] {
    return tl::unexpected("invalid duration \"" + std::string(text) +
                          "\": expected e.g. 500ms, 15s, 1m, 2h or a number of seconds");
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return bad();

  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc{} || end != text.data() + digits)
    return tl::unexpected("duration \"" + std::string(text) + "\" is too large");

  const std::string_view unit = text.substr(digits);
  std::uint64_t scale = 0;  // milliseconds per unit
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return bad();
  }
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (number > kMax / scale) return tl::unexpected("duration \"" + std::string(text) + "\" is too large");
  return std::chrono::milliseconds(static_cast<std::int64_t>(number * scale));
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

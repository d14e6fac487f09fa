#include "config/scaled_number.hpp"

#include <charconv>

namespace dialback {

tl::expected<std::uint64_t, std::string> parse_scaled_number(std::string_view text,
                                                             std::span<const UnitScale> units,
                                                             std::uint64_t max, std::string_view what,
                                                             std::string_view examples) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  const auto invalid = [&] {
    return tl::unexpected("invalid " + std::string(what) + " " + quoted + ": expected e.g. " +
                         std::string(examples));
  };
  const auto too_large = [&] {
    return tl::unexpected(std::string(what) + " " + quoted + " is too large");
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return invalid();
  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc{} || end != text.data() + digits) return too_large();
  const std::string_view unit = text.substr(digits);
  for (const auto& candidate : units) {
    if (candidate.unit != unit) continue;
    if (number > max / candidate.scale) return too_large();
    return number * candidate.scale;
  }
  return invalid();
}

}  // namespace dialback

#include "config/byte_size.hpp"

#include <charconv>
#include <limits>

namespace dialback {

tl::expected<std::uint64_t, std::string> parse_byte_size(std::string_view text) {
  const auto bad = [&] {
    return tl::unexpected("invalid size \"" + std::string(text) +
                          "\": expected e.g. 65536, 64KiB, 10MiB or 1GiB");
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return bad();

  std::uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, number);
  if (ec != std::errc{} || end != text.data() + digits)
    return tl::unexpected("size \"" + std::string(text) + "\" is too large");

  const std::string_view unit = text.substr(digits);
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "KiB") {
    scale = std::uint64_t{1} << 10;
  } else if (unit == "MiB") {
    scale = std::uint64_t{1} << 20;
  } else if (unit == "GiB") {
    scale = std::uint64_t{1} << 30;
  } else {
    return bad();
  }
  if (number > std::numeric_limits<std::uint64_t>::max() / scale)
    return tl::unexpected("size \"" + std::string(text) + "\" is too large");
  return number * scale;
}

}  // namespace dialback

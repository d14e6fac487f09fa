#include "config/byte_size.hpp"

#include <limits>

#include "config/scaled_number.hpp"

namespace dialback {

tl::expected<std::uint64_t, std::string> parse_byte_size(std::string_view text) {
  static constexpr UnitScale kUnits[] = {
      {"", 1}, {"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}};
  return parse_scaled_number(text, kUnits, std::numeric_limits<std::uint64_t>::max(), "size",
                             "65536, 64KiB, 10MiB or 1GiB");
}

}  // namespace dialback

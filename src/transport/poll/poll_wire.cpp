#include "transport/poll/poll_wire.hpp"

namespace dialback::poll {

std::optional<std::uint64_t> parse_seq(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace dialback::poll

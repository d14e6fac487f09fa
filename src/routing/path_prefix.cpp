#include "routing/path_prefix.hpp"

namespace dialback {

bool path_prefix_matches(std::string_view prefix, std::string_view path) noexcept {
  if (prefix == "/") return true;
  if (prefix.empty() || !path.starts_with(prefix)) return false;
  if (path.size() == prefix.size()) return true;
  const char next = path[prefix.size()];
  return next == '/' || next == '?';
}

std::optional<std::size_t> longest_path_prefix(std::span<const std::string> prefixes,
                                               std::string_view path) noexcept {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < prefixes.size(); ++i) {
    if (!path_prefix_matches(prefixes[i], path)) continue;
    if (!best || prefixes[i].size() > prefixes[*best].size()) best = i;
  }
  return best;
}

}  // namespace dialback

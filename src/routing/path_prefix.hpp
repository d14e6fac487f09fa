// Chooses among path prefixes for a request target (the agent's routes,
// docs/configuration.md). Pure logic: no allocation, no state.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dialback {

// True when `prefix` matches the origin-form target `path` (query included)
// on a path-segment boundary: "/api" matches "/api", "/api/x" and "/api?q",
// not "/apix". "/" matches every target. Byte-wise and case-sensitive, on
// the target as sent (no percent-decoding, no dot-segment removal).
// `prefix` is expected in the form the config validator accepts: "/" or
// starting with '/' and not ending with '/'.
bool path_prefix_matches(std::string_view prefix, std::string_view path) noexcept;

// Index of the longest prefix in `prefixes` that matches `path`; nullopt
// when none does. Prefixes are expected to be distinct.
std::optional<std::size_t> longest_path_prefix(std::span<const std::string> prefixes,
                                               std::string_view path) noexcept;

}  // namespace dialback

// Identity values (tunnel, node, cluster, tenant, label keys and values):
// 1-63 characters of [A-Za-z0-9._-] (docs/protocol.md §2). Shared by the config
// loader and the registration handshake.
#pragma once

#include <cstddef>
#include <string_view>

namespace dialback {

inline constexpr std::size_t kMaxIdentityLength = 63;

constexpr bool is_identity_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

constexpr bool is_valid_identity(std::string_view value) noexcept {
  if (value.empty() || value.size() > kMaxIdentityLength) return false;
  for (char c : value) {
    if (!is_identity_char(c)) return false;
  }
  return true;
}

}  // namespace dialback

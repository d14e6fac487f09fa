// Maps public host names to tunnels (docs/protocol.md §4, step 1: by Host).
// Pure logic: built once per config snapshot, then read-only; match() may be
// called from any thread once no add() can run concurrently.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.hpp"

namespace dialback {

class HostRouter {
 public:
  // Registers `pattern` for tunnel index `tunnel`. A pattern is an exact host
  // ("api.example.test", "127.0.0.1", "::1" or "[::1]") or a wildcard
  // "*.suffix" that matches any host with at least one label before the
  // suffix. Patterns are case-insensitive and one trailing dot is ignored.
  // Fails with Error::config_invalid for a malformed pattern (empty label,
  // '*' anywhere but a leading "*.", a port, characters outside
  // [A-Za-z0-9._-]) or one already registered.
  Result<void> add(std::string_view pattern, std::size_t tunnel);

  // Tunnel for a Host header or :authority value ("Name.Example.test:8443",
  // "[::1]:80", "example.test."): exact match first, then the longest
  // matching wildcard. nullopt when nothing matches or the host is malformed.
  std::optional<std::size_t> match(std::string_view host) const;

  std::size_t size() const { return exact_.size() + wildcards_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Table = std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>>;

  Table exact_;      // normalized host -> tunnel
  Table wildcards_;  // suffix without "*." -> tunnel
};

}  // namespace dialback

// "host:port" addresses of listeners and of the edges an agent dials.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace dialback {

// A host (name, IPv4 or IPv6 literal without brackets) and a port.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses a listener address: "host:port", "[::1]:port", or ":port" (all IPv4
// interfaces, host "0.0.0.0"). Port 0 (any free port) is allowed. The error
// is a human-readable message without location.
tl::expected<ListenAddress, std::string> parse_listen_address(std::string_view text);

// Parses an address to dial: like parse_listen_address, but the host is
// required and the port must be 1-65535.
tl::expected<ListenAddress, std::string> parse_connect_address(std::string_view text);

// "host:port", with brackets around IPv6 literals.
std::string to_string(const ListenAddress& address);

}  // namespace dialback

// IpNetwork: an address range in CIDR notation ("10.0.0.0/8", "::1/128",
// or a bare address meaning one host), and whether an address lies in it.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) match IPv4 ranges. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/asio.hpp"

namespace dialback {

struct IpNetwork {
  asio::ip::address base;  // with the bits past `prefix` cleared
  unsigned prefix = 0;

  // Parses "ADDRESS[/PREFIX]"; nullopt when it is not one.
  static std::optional<IpNetwork> parse(std::string_view text);
  bool contains(const asio::ip::address& address) const;
  std::string to_string() const;
};

// The key rate limits count a client address under: the address itself,
// an IPv4-mapped one as IPv4, and IPv6 by its /64 (a host owns a whole /64).
std::string source_key(const asio::ip::address& address);
// The same for an address in text; text that is no address is its own key.
std::string source_key(const std::string& address);

// True when `address` lies in any of `networks`.
bool in_any(const std::vector<IpNetwork>& networks, const asio::ip::address& address);

}  // namespace dialback

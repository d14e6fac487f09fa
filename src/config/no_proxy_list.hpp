// NO_PROXY: the hosts an agent dials directly although a proxy is set,
// read as curl reads it (docs/configuration.md, "Proxies").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ip_network.hpp"

namespace dialback {

class NoProxyList {
 public:
  // A list separated by commas or whitespace. "*" matches every host; an
  // IP address or CIDR range ("10.0.0.0/8", "::1") matches IP literals in
  // it; any other entry is a domain that matches itself and its
  // subdomains ("example.com" and ".example.com" both match
  // "edge.example.com"), case-insensitively. Nothing is an error: like
  // curl, an entry that matches nothing is ignored.
  static NoProxyList parse(std::string_view text);

  // Whether `host` (a name, or an IP literal without brackets) is dialed directly.
  bool matches(std::string_view host) const;

 private:
  bool everything_ = false;
  std::vector<std::string> domains_;  // lower case, without leading or trailing dots
  std::vector<IpNetwork> networks_;
};

}  // namespace dialback

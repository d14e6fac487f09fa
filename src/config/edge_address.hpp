// The address of an edge to dial, as `edges[i].address` and `--edge` accept
// it: "host:port" or Envoy's reverse-connection form
// "rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT" (docs/configuration.md, "Edge
// addresses").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace dialback {

// The agent identity named by an rc:// address; an empty part was not named
// (the agent keeps its node, cluster or tenant from elsewhere).
struct AddressIdentity {
  std::string node;
  std::string cluster;
  std::string tenant;

  bool empty() const noexcept { return node.empty() && cluster.empty() && tenant.empty(); }
  friend bool operator==(const AddressIdentity&, const AddressIdentity&) = default;
};

struct EdgeAddress {
  std::string host;  // name or IP literal, IPv6 without brackets
  std::uint16_t port = 0;
  bool rc = false;           // written as rc://...
  int count = 0;             // rc:// COUNT, 1-64; 0 for host:port
  AddressIdentity identity;  // rc:// identity parts; all empty for host:port

  friend bool operator==(const EdgeAddress&, const EdgeAddress&) = default;
};

inline constexpr int kMaxEdgeAddressCount = 64;

// Parses "host:port" / "[ipv6]:port" (as parse_connect_address: host
// required, port 1-65535) or "rc://NODE:CLUSTER:TENANT@HOST:PORT:COUNT":
// the scheme "rc://" in any case; exactly one '@'; before it exactly two
// ':' and three parts, each empty or an identity (1-63 of [A-Za-z0-9._-]);
// after it HOST:PORT:COUNT with HOST a name, an IPv4 literal or "[ipv6]",
// PORT 1-65535 and COUNT 1-64. The error is a message without location.
tl::expected<EdgeAddress, std::string> parse_edge_address(std::string_view text);

}  // namespace dialback

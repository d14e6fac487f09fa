// The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt §2.2)
// that a raw TCP target may ask for (`proxy_protocol: v2`): written to the
// local service before the first byte of the public client, it names the
// client's address and the edge's public port.
#pragma once

#include <optional>
#include <string>

#include "core/asio.hpp"

namespace dialback::agent {

// The binary header for a TCP connection from `client` to `listener`
// (PROXY command; IPv4 when both are IPv4, else IPv6 with IPv4 addresses
// mapped). Without the two ends, the LOCAL command: the service then uses
// the connection's own addresses.
std::string proxy_v2_header(const std::optional<tcp::endpoint>& client,
                            const std::optional<tcp::endpoint>& listener);

}  // namespace dialback::agent

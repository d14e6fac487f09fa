// The head of a raw TCP stream (docs/protocol.md §13), both ends of it: the
// edge builds it for a connection accepted on a tunnel's TCP port, the
// agent reads the two addresses back for a PROXY protocol header.
//
// A plain CONNECT (no :protocol, no :scheme or :path): `:authority` is the
// edge's public address the client connected to ("host:port"), and
// `forwarded: for="<client ip:port>";by="<edge ip:port>"` (RFC 7239, IPv6 in
// brackets) names both ends of the public connection.
#pragma once

#include <optional>
#include <string>

#include "core/asio.hpp"
#include "tunnel/message.hpp"

namespace dialback {

// "ip:port", with brackets around an IPv6 address.
std::string endpoint_text(const tcp::endpoint& endpoint);

// The CONNECT head for a public connection from `client` to `listener`.
RequestHead raw_tcp_request(const tcp::endpoint& client, const tcp::endpoint& listener,
                            std::string request_id);

// The public connection's two ends, from a raw TCP stream's Forwarded header.
struct RawTcpPeers {
  tcp::endpoint client;    // for=
  tcp::endpoint listener;  // by=
};

// nullopt when the head has no Forwarded header with both ends in the form
// raw_tcp_request() writes.
std::optional<RawTcpPeers> raw_tcp_peers(const RequestHead& head);

// True for a plain CONNECT (a raw TCP stream), false for everything else,
// extended CONNECT (WebSocket) included.
inline bool is_raw_tcp(const RequestHead& head) {
  return head.method == "CONNECT" && head.protocol.empty();
}

}  // namespace dialback

// HTTP/1.1 Upgrade <-> tunnel extended CONNECT (RFC 8441, docs/protocol.md §3).
//
// Edge: a public `GET` with `Upgrade: websocket` becomes a CONNECT stream
// with `:protocol = websocket`; the tunnel's 200 becomes the public 101.
// Agent: the CONNECT becomes an HTTP/1.1 upgrade request to the local
// service; its 101 becomes the tunnel's 200. Pure header work, no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "tunnel/message.hpp"

namespace dialback::http1 {

// Tunnel-internal marker (`dialback-upgrade: declined`) on a 2xx that answers
// an extended CONNECT without switching protocols: the local service ignored
// the Upgrade and sent a plain response. A 2xx to CONNECT otherwise means the
// tunnel is open (RFC 8441 §5), so the edge needs the marker to tell the two
// apart; it never reaches the public client.
inline constexpr std::string_view kUpgradeMarker = "dialback-upgrade";
inline constexpr std::string_view kUpgradeDeclined = "declined";

// The upgrade a public request asks for, as the tunnel's :protocol (lower
// case), when dialback tunnels it: an HTTP/1.1 GET whose Upgrade lists
// `websocket` and whose Connection lists `upgrade` (token lists, any case).
// nullopt otherwise: the request is forwarded as plain HTTP, which drops the
// hop-by-hop Upgrade (an `h2c` upgrade, for example, never crosses the edge).
std::optional<std::string> requested_upgrade(const http::request_header<>& request);

// Edge: the extended CONNECT for the translated public request `head`
// (tunnel_request_from + add_forwarding_headers): method CONNECT, :protocol = `protocol`; scheme,
// authority, path and headers stay.
RequestHead extended_connect(RequestHead head, std::string protocol);

// Edge: the public 101 for the tunnel's 200 to an extended CONNECT: the
// response's end-to-end headers (Sec-WebSocket-Accept ...) without any
// framing header, plus `Connection: Upgrade` and `Upgrade: <protocol>`.
void apply_switching_protocols(const ResponseHead& head, std::string_view protocol,
                               http::response_header<>& response);

// Agent: the upgrade request to the local service for the extended CONNECT
// `head`: GET base_path + path, Host = authority, the forwarded headers,
// `Connection: Upgrade` and `Upgrade: <protocol>`. No body.
void apply_upgrade_request(const RequestHead& head, const std::string& base_path,
                           http::request_header<>& request);

// Edge: true when the tunnel's answer to an extended CONNECT opened the
// tunnel (a 2xx without the declined marker). Removes the marker from `head`
// either way, so a declined answer can be passed on as it is.
bool upgrade_accepted(ResponseHead& head);

// Agent: the tunnel's answer for a local service's non-101 response to an
// upgrade request: its end-to-end headers, marked declined when it is a 2xx.
ResponseHead tunnel_decline_from(const http::response_header<>& response);

// Agent: the tunnel's 200 for the local service's 101: its end-to-end
// headers, without hop-by-hop and framing headers (a 2xx to CONNECT has none).
ResponseHead tunnel_accept_from(const http::response_header<>& response);

}  // namespace dialback::http1

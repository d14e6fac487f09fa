// The edge's answer to a registration request (docs/protocol.md §2): built by the
// edge, parsed by the agent.
#pragma once

#include <string_view>

#include <tl/expected.hpp>

#include "core/asio.hpp"
#include "tunnel/registration.hpp"

namespace dialback {

// 101 Switching Protocols: Connection: Upgrade, Upgrade: ptth, ALPN: h2,
// Dialback-Edge and (when non-empty) Dialback-Routes. After writing it the
// edge speaks HTTP/2 as the client on the same connection.
http::response<http::empty_body> build_registration_accept(std::string_view edge_id,
                                                           std::string_view routes);

// Error response with a JSON body {"error": code, "message": message},
// Connection: close, WWW-Authenticate: Bearer realm="dialback" for 401 and
// Retry-After for 429/503 when set. A status outside 400-599 is sent as 500.
http::response<http::string_body> build_registration_reject(
    const RegistrationRejection& rejection);

// Agent side. A 101 offering ptth (and h2 when an ALPN header is present)
// is accepted. A 101 without them is rejected with status 0, code
// "protocol_error". Any other status is rejected with that status, the JSON
// body's "error"/"message" when present, else code "http_error" and the body
// text (trimmed, at most 200 bytes) or the reason phrase when the body is
// empty. Retry-After is read when it is a number of seconds (an HTTP-date is
// ignored).
tl::expected<RegistrationAccepted, RegistrationRejection> parse_registration_response(
    const http::response<http::string_body>& response);

}  // namespace dialback

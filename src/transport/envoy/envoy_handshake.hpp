// The Envoy reverse-tunnel handshake (docs/protocol.md §9): the initiator
// (our agent) sends one HTTP/1.1 request naming its node, cluster and
// tenant; the responder (our edge) answers 200 with no body, then the
// initiator is the HTTP/2 server on the same connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/asio.hpp"
#include "core/result.hpp"
#include "tunnel/registration.hpp"
#include "tunnel/session_identity.hpp"

namespace dialback::envoy {

inline constexpr std::string_view kRequestPath = "/reverse_connections/request";
inline constexpr std::string_view kNodeHeader = "x-envoy-reverse-tunnel-node-id";
inline constexpr std::string_view kClusterHeader = "x-envoy-reverse-tunnel-cluster-id";
inline constexpr std::string_view kTenantHeader = "x-envoy-reverse-tunnel-tenant-id";

// Whether `first_bytes` start a request for the handshake path, whatever
// the method (a wrong method is answered 404); nullopt while too few bytes
// arrived to tell.
std::optional<bool> is_handshake_request(std::string_view first_bytes);

// Initiator: GET kRequestPath with Host, Content-Length: 0, the three
// identity headers and, when `authorization` is not empty, that
// Authorization value ("Bearer <token>" or "Basic ...").
http::request<http::empty_body> build_handshake_request(std::string_view host,
                                                        const SessionIdentity& identity,
                                                        std::string_view authorization);

// Responder: the identity the request names, or the refusal: 404 for
// another method or path, 400 for a missing or invalid identity header.
tl::expected<SessionIdentity, RegistrationRejection> parse_handshake_request(
    const http::request<http::empty_body>& request);

// Responder: 200 with Content-Length: 0.
http::response<http::empty_body> build_handshake_accept();
// Responder: a refusal with a short text body; Retry-After when set.
http::response<http::string_body> build_handshake_reject(const RegistrationRejection& rejection);

// Initiator: nullopt for 200, else the refusal (status, the body's text,
// Retry-After in seconds when given).
std::optional<RegistrationRejection> parse_handshake_response(
    const http::response<http::string_body>& response);

}  // namespace dialback::envoy

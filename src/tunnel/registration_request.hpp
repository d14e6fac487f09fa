// The agent's registration request (docs/protocol.md §2): built by the agent,
// parsed and validated by the edge before any credential check.
#pragma once

#include <tl/expected.hpp>

#include "core/asio.hpp"
#include "tunnel/registration.hpp"

namespace dialback {

// GET /.well-known/dialback/v1/tunnel with the upgrade and identity headers.
// Empty cluster, tenant, labels, session_id and user_agent are omitted.
// The caller passes values that are valid header values (no CR/LF).
http::request<http::empty_body> build_registration_request(const RegistrationRequest& request);

// Validates a registration request head and returns its values with defaults
// applied (cluster = tunnel, tenant = "default"). Rejections:
//   404 not_found    the target path (query ignored) is not kRegistrationPath
//   400 bad_request  not GET, not HTTP/1.1, no Host (or two), Upgrade without the
//                    ptth token, Connection without the upgrade token, an
//                    ALPN header that does not offer h2, a missing tunnel,
//                    node or session, an invalid identity, malformed or
//                    duplicate labels (or more than kMaxLabels), a session
//                    id that is not 32 hex characters, or a repeated
//                    single-valued header (Dialback-*, Authorization).
// The message names the offending header; header values are never echoed.
tl::expected<RegistrationRequest, RegistrationRejection> parse_registration_request(
    const http::request<http::empty_body>& request);

// The fields every registration carries whatever its request line and
// upgrade (the `poll` transport registers with a plain POST): Host,
// Authorization, the identity headers, Dialback-Session and User-Agent.
// Sets them on `out` / validates them as parse_registration_request does.
void set_registration_fields(http::fields& out, const RegistrationRequest& request);
tl::expected<RegistrationRequest, RegistrationRejection> parse_registration_fields(
    const http::fields& request);

}  // namespace dialback

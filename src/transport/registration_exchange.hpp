// The registration request of docs/protocol.md §2 as both ends of a
// transport use it: what an agent sends for a dial, and the claim the edge
// reads from one. Shared by the `h2` transport (over TLS) and the `h3` one
// (on the QUIC registration stream).
#pragma once

#include <string_view>

#include "transport/session_acceptor.hpp"
#include "transport/session_dialer.hpp"
#include "tunnel/registration_request.hpp"

namespace dialback {

// Agent: the request for `dial` to `edge` (Host is the edge's TLS name).
RegistrationRequest registration_request_for(const EdgeTargetConfig& edge, const DialRequest& dial);

// Agent: once an edge accepted a registration that asked for a port or a
// host name, logs what it granted (its Dialback-Routes) at info level: the
// one line a developer needs ("edge 127.0.0.1:8443 granted tcp://0.0.0.0:9003").
void log_allocation(const DialRequest& dial, std::string_view where, std::string_view routes);

// Edge: the claim of a parsed request, its Authorization value and the
// peer's verified certificate names.
AdmissionClaim claim_from_registration(const RegistrationRequest& request,
                                       std::string_view authorization, const AgentPeer& peer);

}  // namespace dialback

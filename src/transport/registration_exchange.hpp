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

// Edge: the claim of a parsed request, its Authorization value and the
// peer's verified certificate names.
AdmissionClaim claim_from_registration(const RegistrationRequest& request,
                                       std::string_view authorization, const AgentPeer& peer);

}  // namespace dialback

// Admission: the registration decision every agent transport shares, as a
// pure function of the claim, the tunnel table and the edge's state
// (docs/protocol.md §2). Order: the source over its failure budget (429,
// nothing else looked at); a malformed claim (400/404 from the transport);
// credentials (401: the same answer whatever tunnel is named and whatever
// certificate came, so tunnel names cannot be probed); an unknown tunnel
// (404) or one the credential does not open (403), only for a credential
// valid somewhere; an agent of another tenant than the tunnel's (403); the
// edge draining (503 + Retry-After); the tunnel's session limit (429 +
// Retry-After).
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

#include "edge/tunnel_table.hpp"
#include "transport/session_acceptor.hpp"

namespace dialback::edge {

struct AdmissionState {
  bool over_failure_budget = false;
  int retry_after_seconds = 1;  // of the failure budget
  bool draining = false;
  std::size_t max_sessions_per_tunnel = 0;
  std::function<std::size_t(std::string_view tunnel)> sessions;  // live sessions of a tunnel
};

// The index of the tunnel in `tunnels`, or the rejection to answer.
tl::expected<std::size_t, RegistrationRejection> decide_admission(const ParsedClaim& claim,
                                                                  const TunnelTable& tunnels,
                                                                  const AdmissionState& state);

// Whether a refusal counts against the source's failure budget: the agent
// sent something wrong (400, 401, 403, 404), not the edge being busy.
bool counts_as_failure(const RegistrationRejection& rejection);

}  // namespace dialback::edge

#include "transport/registration_exchange.hpp"

namespace dialback {

RegistrationRequest registration_request_for(const EdgeTargetConfig& edge,
                                             const DialRequest& dial) {
  const SessionIdentity& identity = dial.identity;
  RegistrationRequest registration;
  registration.host = edge.tls_name();
  registration.tunnel = identity.tunnel;
  registration.node = identity.node;
  registration.cluster = identity.cluster;
  registration.tenant = identity.tenant;
  registration.labels = identity.labels;
  registration.session_id = identity.session_id;
  if (!dial.authorization.empty()) registration.authorization = dial.authorization;
  registration.user_agent = "dialback-agent/0.1";
  registration.allocation = dial.allocation;
  return registration;
}

void log_allocation(const DialRequest& dial, std::string_view where, std::string_view routes) {
  if (dial.allocation.empty() || !dial.logger) return;
  dial.logger->info("edge {} granted tunnel {}: {}", where, dial.identity.tunnel,
                    routes.empty() ? std::string_view("(nothing)") : routes);
}

AdmissionClaim claim_from_registration(const RegistrationRequest& request,
                                       std::string_view authorization, const AgentPeer& peer) {
  AdmissionClaim claim;
  claim.identity.tunnel = request.tunnel;
  claim.identity.node = request.node;
  claim.identity.cluster = request.cluster;
  claim.identity.tenant = request.tenant;
  claim.identity.labels = request.labels;
  claim.identity.session_id = request.session_id;
  claim.allocation = request.allocation;
  claim.identity.peer_address = peer.peer;
  claim.credentials = credentials_from(authorization, peer.cert_names);
  return claim;
}

}  // namespace dialback

#include "edge/admission.hpp"

namespace dialback::edge {
namespace {

std::optional<std::size_t> find_tunnel(const AdmissionClaim& claim, const TunnelTable& tunnels) {
  switch (claim.named_by) {
    case TunnelNamedBy::name: return tunnels.find(claim.identity.tunnel);
    case TunnelNamedBy::certificate:
      return tunnels.find_by_certificate(claim.credentials.cert_names);
    case TunnelNamedBy::envoy_cluster: return tunnels.find_by_envoy_cluster(claim.identity.cluster);
  }
  return std::nullopt;
}

}  // namespace

tl::expected<std::size_t, RegistrationRejection> decide_admission(const ParsedClaim& claim,
                                                                  const TunnelTable& tunnels,
                                                                  const AdmissionState& state) {
  if (state.over_failure_budget) {
    return tl::unexpected(RegistrationRejection::rate_limited(state.retry_after_seconds));
  }
  if (!claim) return tl::unexpected(claim.error());
  const auto tunnel = find_tunnel(*claim, tunnels);
  const bool allowed =
      tunnel && authorize(tunnels[*tunnel].auth, claim->credentials) == AuthOutcome::allowed;
  if (!allowed) {
    if (!tunnels.accepted_anywhere(claim->credentials)) {
      return tl::unexpected(RegistrationRejection::unauthorized("missing or invalid credential"));
    }
    if (!tunnel) return tl::unexpected(RegistrationRejection::unknown_tunnel("no such tunnel"));
    return tl::unexpected(
        RegistrationRejection::forbidden("credential not valid for the requested tunnel"));
  }
  const std::string& owner = tunnels[*tunnel].tenant;
  // An empty tenant (rhttp, which cannot state one) takes the tunnel's.
  if (!claim->identity.tenant.empty() && claim->identity.tenant != owner) {
    return tl::unexpected(
        RegistrationRejection::forbidden("the agent's tenant does not own the requested tunnel"));
  }
  if (state.draining) {
    return tl::unexpected(RegistrationRejection::draining("edge is shutting down", 1));
  }
  if (state.sessions && state.sessions(tunnels[*tunnel].name) >= state.max_sessions_per_tunnel) {
    return tl::unexpected(
        RegistrationRejection::too_many_sessions("tunnel has too many sessions", 5));
  }
  return *tunnel;
}

bool counts_as_failure(const RegistrationRejection& rejection) {
  return rejection.status == 400 || rejection.status == 401 || rejection.status == 403 ||
         rejection.status == 404;
}

}  // namespace dialback::edge

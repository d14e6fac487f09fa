#include "edge/admission.hpp"

#include <algorithm>

namespace dialback::edge {
namespace {

constexpr std::string_view kHeaderTransport = "Dialback-Transport";
constexpr std::string_view kHeaderClientCertNames = "Dialback-Client-Cert-Names";

std::optional<std::size_t> find_tunnel(const AdmissionClaim& claim, const TunnelTable& tunnels) {
  switch (claim.named_by) {
    case TunnelNamedBy::name: return tunnels.find(claim.identity.tunnel);
    case TunnelNamedBy::certificate:
      return tunnels.find_by_certificate(claim.credentials.cert_names);
    case TunnelNamedBy::envoy_cluster: return tunnels.find_by_envoy_cluster(claim.identity.cluster);
    case TunnelNamedBy::reverst_group: return tunnels.find_by_reverst_group(claim.identity.tunnel);
  }
  return std::nullopt;
}

// A certificate name that can travel in a comma-separated header value.
bool is_listable(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f && c != ',';
  });
}

}  // namespace

CredentialStep check_credentials(const ParsedClaim& claim, const TunnelTable& tunnels,
                                 const AdmissionState& state) {
  if (state.over_failure_budget) {
    return RegistrationRejection::rate_limited(state.retry_after_seconds);
  }
  if (!claim) return claim.error();
  const auto tunnel = find_tunnel(*claim, tunnels);
  if (tunnel && authorize(tunnels[*tunnel].auth, claim->credentials) == AuthOutcome::allowed) {
    return Admitted{*tunnel};
  }
  const std::optional<std::string>& token = claim->credentials.token;
  if (tunnel && token && tunnels[*tunnel].allocation_tokens.matches(*token)) {
    return Admitted{*tunnel, /*leases_only=*/true};
  }
  if (tunnel && tunnels[*tunnel].external) return AskExternal{*tunnel};
  if (!tunnels.accepted_anywhere(claim->credentials)) {
    return RegistrationRejection::unauthorized("missing or invalid credential");
  }
  if (!tunnel) return RegistrationRejection::unknown_tunnel("no such tunnel");
  return RegistrationRejection::forbidden("credential not valid for the requested tunnel");
}

tl::expected<Admitted, RegistrationRejection> finish_admission(const AdmissionClaim& claim,
                                                               Admitted candidate,
                                                               ExternalVerdict verdict,
                                                               const TunnelTable& tunnels,
                                                               const AdmissionState& state) {
  const std::size_t tunnel = candidate.tunnel;
  switch (verdict) {
    case ExternalVerdict::allowed: break;
    case ExternalVerdict::unauthorized:
      return tl::unexpected(RegistrationRejection::unauthorized("missing or invalid credential"));
    case ExternalVerdict::forbidden:
      return tl::unexpected(
          RegistrationRejection::forbidden("credential not valid for the requested tunnel"));
    case ExternalVerdict::unavailable:
      return tl::unexpected(RegistrationRejection{503, "auth_unavailable",
                                                  "the credential check is unavailable",
                                                  kExternalAuthRetryAfterSeconds});
  }
  if (candidate.leases_only && claim.allocation.empty()) {
    return tl::unexpected(RegistrationRejection::forbidden(
        "the credential only opens ports and host names on demand: ask for one "
        "(Dialback-Request-Port or Dialback-Request-Host)"));
  }
  const std::string& owner = tunnels[tunnel].tenant;
  // An empty tenant (rhttp, which cannot state one) takes the tunnel's.
  if (!claim.identity.tenant.empty() && claim.identity.tenant != owner) {
    return tl::unexpected(
        RegistrationRejection::forbidden("the agent's tenant does not own the requested tunnel"));
  }
  if (state.draining) {
    return tl::unexpected(RegistrationRejection::draining("edge is shutting down", 1));
  }
  if (state.sessions && state.sessions(tunnels[tunnel].name) >= state.max_sessions_per_tunnel) {
    return tl::unexpected(
        RegistrationRejection::too_many_sessions("tunnel has too many sessions", 5));
  }
  return candidate;
}

tl::expected<Admitted, RegistrationRejection> decide_admission(const ParsedClaim& claim,
                                                               const TunnelTable& tunnels,
                                                               const AdmissionState& state,
                                                               ExternalVerdict external) {
  const CredentialStep step = check_credentials(claim, tunnels, state);
  if (const auto* rejection = std::get_if<RegistrationRejection>(&step)) {
    return tl::unexpected(*rejection);
  }
  if (const auto* ask = std::get_if<AskExternal>(&step)) {
    return finish_admission(*claim, Admitted{ask->tunnel}, external, tunnels, state);
  }
  return finish_admission(*claim, std::get<Admitted>(step), ExternalVerdict::allowed, tunnels,
                          state);
}

ExternalAuthQuery make_external_auth_query(const AdmissionClaim& claim, const TunnelEntry& tunnel,
                                           std::string_view transport) {
  ExternalAuthQuery query;
  if (tunnel.external) query.url = tunnel.external->url.url;
  query.authorization = claim.credentials.authorization;
  const std::pair<std::string_view, std::string_view> identity[] = {
      {kHeaderTunnel, tunnel.name},
      {kHeaderNode, claim.identity.node},
      {kHeaderCluster, claim.identity.cluster},
      {kHeaderTenant, claim.identity.tenant},
      {kHeaderTransport, transport},
  };
  for (const auto& [name, value] : identity) {
    if (!value.empty()) query.headers.emplace_back(name, value);
  }
  std::string names;
  for (const std::string& name : claim.credentials.cert_names) {
    if (!is_listable(name)) continue;
    names += (names.empty() ? "" : ", ") + name;
  }
  if (!names.empty()) query.headers.emplace_back(kHeaderClientCertNames, std::move(names));
  return query;
}

bool counts_as_failure(const RegistrationRejection& rejection) {
  return rejection.status == 400 || rejection.status == 401 || rejection.status == 403 ||
         rejection.status == 404;
}

}  // namespace dialback::edge

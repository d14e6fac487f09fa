// Admission: the registration decision every agent transport shares, as
// pure functions of the claim, the tunnel table and the edge's state
// (docs/protocol.md §2). Order: the source over its failure budget (429,
// nothing else looked at); a malformed claim (400/404 from the transport);
// credentials (401: the same answer whatever tunnel is named and whatever
// certificate came, so tunnel names cannot be probed; a tunnel's allocate
// tokens admit to its leases only); an unknown tunnel
// (404) or one the credential does not open (403), only for a credential
// valid somewhere; an agent of another tenant than the tunnel's (403); the
// edge draining (503 + Retry-After); the tunnel's session limit (429 +
// Retry-After).
//
// A tunnel with `auth.external` splits the decision in two:
// check_credentials() answers "ask the endpoint about tunnel i" when the
// named tunnel exists and no local credential of it (tokens, token_files,
// basic, client_names) accepts the claim — whatever other tunnel the
// credential opens, and even when it opens none (the endpoint may know it).
// The edge does the HTTP request, then finish_admission() maps the answer
// (401, 403, 503 + Retry-After when the endpoint failed) and runs the
// remaining checks. decide_admission() is both steps with the endpoint's
// answer given, for tables.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <variant>

#include "auth/external_auth_cache.hpp"
#include "edge/tunnel_table.hpp"
#include "transport/session_acceptor.hpp"

namespace dialback::edge {

// Retry-After of the 503 for an external check that failed.
inline constexpr int kExternalAuthRetryAfterSeconds = 5;

struct AdmissionState {
  bool over_failure_budget = false;
  int retry_after_seconds = 1;  // of the failure budget
  bool draining = false;
  std::size_t max_sessions_per_tunnel = 0;
  std::function<std::size_t(std::string_view tunnel)> sessions;  // live sessions of a tunnel
};

// The tunnel an agent is admitted to (after the credential step: whose
// local credential accepted the claim). `leases_only`: the credential was
// one of the tunnel's allocate tokens, so the agent must ask for a port or
// host name and serves only what it leased.
struct Admitted {
  std::size_t tunnel;
  bool leases_only = false;
};
// No local credential of the tunnel accepted it and the tunnel has
// auth.external: the endpoint decides.
struct AskExternal {
  std::size_t tunnel;
};
using CredentialStep = std::variant<Admitted, AskExternal, RegistrationRejection>;

// The failure budget, the claim's syntax and the credentials.
CredentialStep check_credentials(const ParsedClaim& claim, const TunnelTable& tunnels,
                                 const AdmissionState& state);

// After the credential is settled for `candidate`: `verdict` is `allowed`
// when a local credential accepted it, the endpoint's answer for
// AskExternal (unauthorized 401, forbidden 403, unavailable 503 +
// Retry-After); then a leases-only credential that asks for nothing (403),
// the tenant, the draining edge and the session limit.
tl::expected<Admitted, RegistrationRejection> finish_admission(const AdmissionClaim& claim,
                                                               Admitted candidate,
                                                               ExternalVerdict verdict,
                                                               const TunnelTable& tunnels,
                                                               const AdmissionState& state);

// The tunnel admitted to, or the rejection to answer, with `external`
// standing for the endpoint's answer when one is asked.
tl::expected<Admitted, RegistrationRejection> decide_admission(
    const ParsedClaim& claim, const TunnelTable& tunnels, const AdmissionState& state,
    ExternalVerdict external = ExternalVerdict::unavailable);

// What the edge sends to the tunnel's endpoint about `claim`: the raw
// Authorization value and the identity headers Dialback-Tunnel (the
// tunnel's name), -Node, -Cluster, -Tenant (each when not empty),
// -Transport and, with a verified client certificate, -Client-Cert-Names
// (comma separated; names that cannot be a header value are left out).
ExternalAuthQuery make_external_auth_query(const AdmissionClaim& claim, const TunnelEntry& tunnel,
                                           std::string_view transport);

// Whether a refusal counts against the source's failure budget: the agent
// sent something wrong (400, 401, 403, 404), not the edge being busy.
bool counts_as_failure(const RegistrationRejection& rejection);

}  // namespace dialback::edge

// SessionAcceptor: the edge side of one agent transport. The agent listener
// completes TLS, reads the agent's first bytes, and hands the connection to
// the first acceptor of its table that claims them; the acceptor runs the
// transport's registration (asking Admission for the decision) and yields
// the session. See docs/architecture.md, "Transports".
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "auth/authorize.hpp"
#include "tls/tls_stream.hpp"
#include "tunnel/registration.hpp"
#include "tunnel/session_identity.hpp"
#include "tunnel/tunnel_session.hpp"

namespace dialback {

// Where a registration comes from, whatever carries it (a TLS connection,
// a QUIC connection): what Admission needs besides the claim.
struct AgentPeer {
  std::string peer;                     // "ip:port"
  std::string source;                   // the rate-limit key of the address (core/ip_network.hpp)
  std::vector<std::string> cert_names;  // of a verified client certificate
  // What is left of agents.handshake_timeout: registration must finish by then.
  std::chrono::steady_clock::time_point deadline;
};

// An agent connection past TLS, as the listener hands it over.
struct AgentConnection : AgentPeer {
  explicit AgentConnection(TlsStream stream) : tls(std::move(stream)) {}
  TlsStream tls;
  std::string alpn;     // negotiated; empty when none
  std::string initial;  // bytes read after the handshake, not consumed
};

// How a registration names its tunnel.
enum class TunnelNamedBy {
  name,           // identity.tunnel (the dialback registration)
  certificate,    // the tunnel whose client_names list the certificate (rhttp)
  envoy_cluster,  // identity.cluster, through tunnels.<name>.envoy_clusters (envoy)
  reverst_group,  // identity.tunnel, through tunnels.<name>.reverst_group (reverst)
};

// What a transport learned from the agent's registration.
struct AdmissionClaim {
  // tunnel (when named by name), node, cluster, tenant (empty: the
  // tunnel's, for transports that cannot state one), labels
  SessionIdentity identity;
  Credentials credentials;
  TunnelNamedBy named_by = TunnelNamedBy::name;
  AllocationRequest allocation;  // ports / host names asked for (protocol §14)
};

// The edge's answer to an accepted claim.
struct AdmissionGrant {
  std::string tunnel;  // the tunnel's stable id (its name)
  std::string routes;  // its public hosts, comma separated, for the agent to show
  std::string edge_id;
  std::string tenant;  // the tunnel's owner
  // Admitted by an allocation-scoped credential: the session serves only
  // the agent's leased ports and host names.
  bool leases_only = false;
};

// A claim, or why the transport could not even parse one (400, 404).
using ParsedClaim = tl::expected<AdmissionClaim, RegistrationRejection>;

// The decision every transport asks for. The edge implements it (rate
// limits, credentials, tunnel lookup, session limits, draining; counting
// and logging the refusal included), so the statuses are the same on every
// transport. A malformed registration goes through it too: it counts
// against the source's failure budget, and over that budget the answer is
// 429 whatever was sent. Awaitable: a tunnel with `auth.external` asks an
// HTTP endpoint about a credential no local entry accepts. `from` and
// `claim` must stay alive until it completes.
class Admission {
 public:
  virtual ~Admission() = default;
  virtual Task<tl::expected<AdmissionGrant, RegistrationRejection>> admit(
      const AgentPeer& from, std::string_view transport, const ParsedClaim& claim) = 0;
  // A transport's request after registration was refused (a poll request
  // naming a session the edge does not know, a malformed one): counted and
  // logged, sampled per source. Not against the failure budget: guessing a
  // session token is hopeless, and many agents behind one proxy would lock
  // each other out after an edge restart makes every token unknown.
  virtual void refused_request(const AgentPeer& from, std::string_view transport,
                               std::string_view reason) = 0;
};

// An accepted session and the tunnel it serves.
struct AcceptedSession {
  std::unique_ptr<TunnelSession> session;
  std::string tunnel;        // stable id
  bool leases_only = false;  // AdmissionGrant::leases_only
};

// What a transport that runs its own listener (QUIC, over UDP) needs from
// the edge: the shared admission, its handshake rate limit, and the
// registry that runs accepted sessions.
class AgentSessionHost {
 public:
  virtual ~AgentSessionHost() = default;
  virtual Admission& admission() = 0;
  // False when `source` is over the handshake rate limits (logged and counted).
  virtual bool allow_handshake(const std::string& source, const std::string& peer) = 0;
  // Registers `accepted` under its tunnel and runs it until it ends.
  virtual Task<void> run_session(AcceptedSession accepted) = 0;
};

class SessionAcceptor {
 public:
  enum class Claim { yes, no, need_more_bytes };

  virtual ~SessionAcceptor() = default;
  // The transport's name for logs ("h2", "rhttp", ...).
  virtual std::string_view name() const = 0;
  // Whether the transport speaks what the agent sent first.
  virtual Claim claims(std::string_view alpn, std::string_view first_bytes) const = 0;
  // Registers the agent; nullptr session when refused or failed (the
  // acceptor has answered the agent and logged through Admission).
  virtual Task<AcceptedSession> accept(AgentConnection connection, Admission& admission) = 0;
};

}  // namespace dialback

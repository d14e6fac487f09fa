#include "transport/rhttp/rhttp_acceptor.hpp"

#include "transport/h2/tunnel_options.hpp"
#include "transport/handshake_reading.hpp"

namespace dialback::rhttp {
SessionAcceptor::Claim RhttpAcceptor::claims(std::string_view /*alpn*/,
                                             std::string_view first_bytes) const {
  const auto preface = starts_with_http2_preface(first_bytes);
  if (!preface) return Claim::need_more_bytes;
  return *preface ? Claim::yes : Claim::no;
}

Task<AcceptedSession> RhttpAcceptor::accept(AgentConnection connection, Admission& admission) {
  AdmissionClaim claim;
  claim.named_by = TunnelNamedBy::certificate;
  claim.credentials.cert_names = connection.cert_names;
  if (!connection.cert_names.empty()) claim.identity.node = connection.cert_names.front();
  claim.identity.session_id = generate_session_id();
  claim.identity.peer_address = connection.peer;
  const ParsedClaim parsed{claim};  // named: no temporary inside the co_await
  auto grant = co_await admission.admit(connection, name(), parsed);
  // Nothing to answer in HTTP/2 before a session exists: a refusal closes.
  if (!grant) co_return AcceptedSession{};
  claim.identity.tunnel = grant->tunnel;
  claim.identity.cluster = grant->tunnel;
  claim.identity.tenant = grant->tenant;
  AcceptedSession accepted;
  accepted.tunnel = grant->tunnel;
  accepted.leases_only = grant->leases_only;
  accepted.session = std::make_unique<h2::H2Connection>(
      std::make_unique<SocketByteStream<TlsStream>>(std::move(connection.tls)),
      h2::tunnel_options(h2::Role::client, h2::PrefaceMode::reversed, settings_),
      std::move(claim.identity), logger_, std::move(connection.initial));
  co_return accepted;
}

}  // namespace dialback::rhttp

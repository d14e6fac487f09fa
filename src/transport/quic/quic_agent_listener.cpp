#include "transport/quic/quic_agent_listener.hpp"

#include "core/ip_network.hpp"
#include "transport/quic/h3_registration.hpp"  // kMaxRegistrationBytes

namespace dialback::quic {
namespace {

using Clock = std::chrono::steady_clock;

// How long a refused agent gets to read the answer before the edge closes.
constexpr auto kRefusalLinger = std::chrono::seconds(1);

std::string text_of(const udp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

QuicAgentListener::QuicAgentListener(asio::any_io_executor executor,
                                     const QuicListenerSettings& settings,
                                     std::unique_ptr<QuicTlsCredentials> tls,
                                     std::vector<std::unique_ptr<QuicRegistration>> registrations,
                                     AgentSessionHost& host, Logger logger)
    : registrations_(std::move(registrations)),
      host_(host),
      logger_(logger),
      listener_(std::move(executor), settings, std::move(tls), *this, std::move(logger)) {}

std::vector<std::string> QuicAgentListener::alpns(
    const std::vector<std::unique_ptr<QuicRegistration>>& registrations) {
  std::vector<std::string> out;
  for (const auto& registration : registrations) out.emplace_back(registration->alpn());
  return out;
}

bool QuicAgentListener::allow_connection(const udp::endpoint& from) {
  return host_.allow_handshake(source_key(from.address()), text_of(from));
}

Task<void> QuicAgentListener::serve(std::unique_ptr<QuicConnection> connection,
                                    udp::endpoint from) {
  AgentPeer peer;
  peer.peer = text_of(from);
  peer.source = source_key(from.address());
  auto grant = co_await register_agent(*connection, peer);
  if (grant) {
    AcceptedSession accepted;
    accepted.tunnel = std::move(grant->tunnel);
    accepted.leases_only = grant->leases_only;
    accepted.session = std::move(connection);
    co_await host_.run_session(std::move(accepted));
  } else {
    co_await connection->run();
  }
}

Task<std::optional<AdmissionGrant>> QuicAgentListener::register_agent(QuicConnection& connection,
                                                                      AgentPeer& peer) {
  peer.deadline = Clock::now() + listener_.settings().engine.handshake_timeout;
  const bool handshaken = co_await connection.handshake(peer.deadline);
  if (!handshaken) {
    logger_->info("agent {} QUIC handshake failed: {}", peer.peer,
                  connection.engine().end_reason() ? connection.engine().end_reason().message()
                                                   : "timed out");
    connection.close(Error::timeout);
    co_return std::nullopt;
  }
  peer.cert_names = verified_peer_names(connection.engine().tls());
  const std::string alpn = negotiated_alpn(connection.engine().tls());
  const QuicRegistration* protocol = nullptr;
  for (const auto& registration : registrations_) {
    if (registration->alpn() == alpn) protocol = registration.get();
  }
  if (protocol == nullptr) {  // GnuTLS refuses other ALPNs; defensive
    connection.close(Error::protocol_error);
    co_return std::nullopt;
  }
  auto bytes = co_await connection.read_registration(
      peer.deadline, kMaxRegistrationBytes,
      [protocol](std::string_view so_far) { return protocol->complete(so_far); });
  if (!bytes) {
    logger_->info("agent {} sent no {} registration: {}", peer.peer, protocol->name(),
                  bytes.error().message());
    connection.close(Error::bad_request);
    co_return std::nullopt;
  }
  const ParsedClaim claim = protocol->parse(*bytes, peer);
  const auto grant = co_await host_.admission().admit(peer, protocol->name(), claim);
  if (!grant) {
    const QuicRefusal refusal = protocol->refused(grant.error());
    if (!refusal.answer.empty()) {
      // The agent closes once it read the answer; the edge does after a moment.
      if (connection.send_registration(refusal.answer, true)) {
        co_await connection.wait_closed(Clock::now() + kRefusalLinger);
      }
    }
    connection.close_with(refusal.close_code, refusal.close_reason);
    co_return std::nullopt;
  }
  if (!connection.send_registration(protocol->accepted(*grant), true)) co_return std::nullopt;
  SessionIdentity identity = claim->identity;
  identity.peer_address = peer.peer;
  identity.tunnel = grant->tunnel;
  connection.set_identity(std::move(identity));
  co_return *grant;
}

}  // namespace dialback::quic

// QuicAgentListener: the edge's UDP listener for agents (`agents.quic`).
// Each connection registers on its registration stream, in the protocol its
// ALPN names (quic_registration.hpp); once Admission accepts it, it runs as
// a session of the edge's AgentSessionHost until it ends. New connections
// are subject to the handshake rate limits of the TLS agent listener.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "transport/quic/quic_listener.hpp"
#include "transport/quic/quic_registration.hpp"
#include "transport/session_acceptor.hpp"

namespace dialback::quic {

class QuicAgentListener final : private QuicService {
 public:
  // `tls` offers the ALPN of each of `registrations` (alpns()).
  QuicAgentListener(asio::any_io_executor executor, const QuicListenerSettings& settings,
                    std::unique_ptr<QuicTlsCredentials> tls,
                    std::vector<std::unique_ptr<QuicRegistration>> registrations,
                    AgentSessionHost& host, Logger logger);

  // The ALPNs of `registrations`, for the TLS credentials.
  static std::vector<std::string> alpns(
      const std::vector<std::unique_ptr<QuicRegistration>>& registrations);

  Result<udp::endpoint> listen(const udp::endpoint& endpoint) { return listener_.listen(endpoint); }
  Task<void> receive_loop() { return listener_.receive_loop(); }
  void stop_accepting() { listener_.stop_accepting(); }
  // Closes every connection still registering, waits for every connection
  // to end (sessions are drained by their host first), closes the socket.
  Task<void> close() { return listener_.close(); }
  QuicListenerStats stats() const { return listener_.stats(); }

 private:
  // QuicService
  bool allow_connection(const udp::endpoint& from) override;
  Task<void> serve(std::unique_ptr<QuicConnection> connection, udp::endpoint from) override;

  // Handshake and registration; what Admission granted, when it accepted.
  Task<std::optional<AdmissionGrant>> register_agent(QuicConnection& connection, AgentPeer& peer);

  std::vector<std::unique_ptr<QuicRegistration>> registrations_;
  AgentSessionHost& host_;
  Logger logger_;
  QuicListener listener_;
};

}  // namespace dialback::quic

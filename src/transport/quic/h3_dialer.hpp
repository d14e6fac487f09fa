// H3Dialer: the agent side of the QUIC transports. Dials the edge's QUIC
// listener (`agents.quic`, at the edge entry's host and port, over UDP),
// registers on the registration stream in the protocol of its
// QuicRegistrationClient (`h3`: dialback's, docs/protocol.md §10;
// `reverst`: Reverst's, §11) and yields the session, which answers the
// request streams the edge opens.
#pragma once

#include <memory>

#include "transport/quic/quic_engine.hpp"
#include "transport/quic/quic_registration.hpp"
#include "transport/quic/quic_tls.hpp"
#include "transport/session_dialer.hpp"

namespace dialback::quic {

class H3Dialer final : public SessionDialer {
 public:
  // `tls` offers registration->alpn().
  H3Dialer(std::unique_ptr<QuicRegistrationClient> registration,
           std::unique_ptr<QuicTlsCredentials> tls, QuicEngineSettings settings)
      : registration_(std::move(registration)), tls_(std::move(tls)), settings_(settings) {}
  std::string_view name() const override { return registration_->name(); }
  Task<DialOutcome> dial(const EdgeTargetConfig& edge, DialRequest request) override;
  // Whether a QUIC handshake with `edge` completes within the handshake
  // timeout (no registration, the connection is closed at once): how
  // `transport: auto` learns that UDP passes again.
  Task<bool> probe(const EdgeTargetConfig& edge, asio::any_io_executor executor, Logger logger);

 private:
  std::unique_ptr<QuicRegistrationClient> registration_;
  std::unique_ptr<QuicTlsCredentials> tls_;
  QuicEngineSettings settings_;
};

// The edge's UDP address for `edge` (an IP literal, or the first address
// its name resolves to); nullopt after logging why not.
Task<std::optional<udp::endpoint>> resolve_udp(asio::any_io_executor executor,
                                               const EdgeTargetConfig& edge, const Logger& logger);

}  // namespace dialback::quic

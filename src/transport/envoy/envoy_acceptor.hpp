// The edge side of the `envoy` transport (docs/protocol.md §9): accepts
// Envoy's reverse-tunnel initiators (and dialback agents with
// `transport: envoy`). Claims connections whose first bytes are a request
// for the handshake path; must come before the `h2` acceptor, which takes
// every other request.
#pragma once

#include "core/logging.hpp"
#include "transport/session_acceptor.hpp"
#include "transport/session_settings.hpp"

namespace dialback::envoy {

class EnvoyAcceptor final : public SessionAcceptor {
 public:
  EnvoyAcceptor(SessionSettings settings, Logger logger)
      : settings_(settings), logger_(std::move(logger)) {}

  std::string_view name() const override { return "envoy"; }
  Claim claims(std::string_view alpn, std::string_view first_bytes) const override;
  Task<AcceptedSession> accept(AgentConnection connection, Admission& admission) override;

 private:
  SessionSettings settings_;
  Logger logger_;
};

}  // namespace dialback::envoy

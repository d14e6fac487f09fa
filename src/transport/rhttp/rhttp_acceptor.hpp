// The edge side of the `rhttp` transport (docs/protocol.md §5): the agent's
// verified client certificate is its identity and credential, and it
// starts speaking HTTP/2 at once as the server, writing the connection
// preface itself. Claims connections whose first bytes are that preface.
#pragma once

#include "core/logging.hpp"
#include "transport/session_acceptor.hpp"
#include "transport/session_settings.hpp"

namespace dialback::rhttp {

class RhttpAcceptor final : public SessionAcceptor {
 public:
  RhttpAcceptor(SessionSettings settings, Logger logger)
      : settings_(settings), logger_(std::move(logger)) {}

  std::string_view name() const override { return "rhttp"; }
  Claim claims(std::string_view alpn, std::string_view first_bytes) const override;
  Task<AcceptedSession> accept(AgentConnection connection, Admission& admission) override;

 private:
  SessionSettings settings_;
  Logger logger_;
};

}  // namespace dialback::rhttp
